"""Text-to-video drawn straight into yuv420p: the same picture as the RGB reference, converted."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from engine_media import assert_mp4_contract, decode_rgb, mean_abs_diff
from PIL import Image

from reelay.engine import RenderSpec, render
from reelay.engine.frames import to_yuv420p
from reelay.engine.panorama import YuvPanorama
from reelay.engine.scene import look_for
from reelay.engine.text2video import text_frames, text_video_frames
from reelay.engine.yuv import YuvFrame, chroma_mask, plane_view, ycbcr

# One prompt per particle kind (snow, rain, embers, bubbles, fireflies, stars, leaves, bokeh, dust).
KINDS = {
    "snow": "snow falling over a quiet forest at night",
    "rain": "heavy rain",
    "embers": "embers from a campfire",
    "bubbles": "bubbles under the sea",
    "fireflies": "fireflies at night in a meadow",
    "stars": "stars in space",
    "leaves": "autumn leaves",
    "bokeh": "a neon city street in the rain",
    "dust": "desert wind",
}


def planes(frame: av.VideoFrame) -> list[np.ndarray]:
    return [plane_view(p).astype(np.int16) for p in frame.planes]


def test_the_prompts_cover_every_particle_kind() -> None:
    assert {kind: look_for(prompt, 5).particle for kind, prompt in KINDS.items()} == {k: k for k in KINDS}


@pytest.mark.parametrize("prompt", list(KINDS.values()), ids=list(KINDS))
@pytest.mark.parametrize("size", [(202, 130), (96, 160)], ids=["odd-pan-odd-chroma-width", "portrait"])
def test_yuv_frames_are_the_rgb_reference_converted_up_to_rounding(prompt: str, size: tuple[int, int]) -> None:
    """Y within two levels everywhere; chroma off by more than two levels only at small shapes' edges."""
    spec = RenderSpec("t2v", prompt, size[0], size[1], 1.0, seed=5)
    for rgb, yuv in zip(text_frames(spec), text_video_frames(spec), strict=True):
        assert (yuv.format.name, yuv.width, yuv.height) == ("yuv420p", *size)
        expected = planes(to_yuv420p(rgb.convert("RGB")))
        got = planes(yuv)
        assert np.abs(got[0] - expected[0]).max() <= 2
        for chroma, reference in zip(got[1:], expected[1:], strict=True):
            diff = np.abs(chroma - reference)
            assert diff.mean() < 0.5
            assert np.mean(diff > 2) < 0.02


def test_a_720p_frame_matches_the_reference() -> None:
    spec = RenderSpec("t2v", KINDS["embers"], 1280, 720, 1.0, seed=2)
    rgb, yuv = next(zip(text_frames(spec), text_video_frames(spec), strict=False))
    expected, got = planes(to_yuv420p(rgb.convert("RGB"))), planes(yuv)
    assert np.abs(got[0] - expected[0]).max() <= 2
    assert all(np.abs(g - e).mean() < 0.2 for g, e in zip(got[1:], expected[1:], strict=True))


def test_each_frame_owns_its_memory() -> None:
    """Frames are made ahead of the encoder, so drawing the next must not change one already made."""
    spec = RenderSpec("t2v", KINDS["rain"], 160, 96, 1.0, seed=1)
    kept = [planes(frame) for frame in text_video_frames(spec)]
    frames = list(text_video_frames(spec))  # all alive at once
    assert all(
        np.array_equal(a, b)
        for made, held in zip(kept, frames, strict=True)
        for a, b in zip(made, planes(held), strict=True)
    )
    assert not np.array_equal(kept[0][0], kept[-1][0])


@pytest.mark.parametrize("offset", range(6))
def test_a_panorama_window_is_the_window_converted(offset: int) -> None:
    """Even and odd offsets (4:2:0 pairs columns) both give exactly swscale's conversion of the window."""
    rng = np.random.default_rng(offset)
    pixels = rng.integers(0, 256, (24, 47, 3), dtype=np.uint8)
    frame = YuvFrame(34, 24)
    YuvPanorama(Image.fromarray(pixels)).window(frame, offset)
    window = Image.fromarray(np.ascontiguousarray(pixels[:, offset : offset + 34]))
    for got, expected in zip(frame.planes, planes(to_yuv420p(window)), strict=True):
        assert np.array_equal(got, expected)


def test_colours_convert_as_swscale_does() -> None:
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    blocks = np.repeat(np.repeat(colours.reshape(16, 16, 3), 8, 0), 8, 1)  # flat 8x8 blocks: no chroma filtering
    y, u, v = planes(av.VideoFrame.from_ndarray(np.ascontiguousarray(blocks), "rgb24").reformat(format="yuv420p"))
    swscale = np.stack([y[4::8, 4::8].ravel(), u[2::4, 2::4].ravel(), v[2::4, 2::4].ravel()], axis=1)
    assert np.abs(ycbcr(colours) - swscale).max() <= 1
    assert ycbcr(np.array([[0, 0, 0], [255, 255, 255]])).tolist() == [[16, 128, 128], [235, 128, 128]]


def test_chroma_masks_average_the_blocks_the_position_falls_on() -> None:
    square = Image.new("L", (2, 2), 255)
    assert np.asarray(chroma_mask(square, 4, 6)).tolist() == [[255]]
    assert np.asarray(chroma_mask(square, 5, 7)).tolist() == [[64, 64], [64, 64]]  # straddles four blocks
    assert np.asarray(chroma_mask(square, 5, 6)).tolist() == [[128, 128]]


def test_a_render_at_an_odd_chroma_width_meets_the_contract_and_shows_the_reference(tmp_path: Path) -> None:
    """202 wide: 101-sample chroma rows in padded planes, and a one-pixel pan (odd offsets)."""
    spec = RenderSpec("t2v", KINDS["leaves"], 202, 130, 1.0, seed=4)
    out = tmp_path / "odd.mp4"
    render(spec, out)
    assert_mp4_contract(out, 202, 130, 1.0)
    decoded = decode_rgb(out)
    for i, rgb in enumerate(text_frames(spec)):
        assert mean_abs_diff(decoded[i], np.asarray(rgb.convert("RGB"))) < 6  # x264 at crf 23 on a tiny frame
