"""Image-to-video: the cover-fitted reference is frame 0, then the camera moves; any image mode."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from engine_media import decode_rgb, mean_abs_diff, pattern_frame
from PIL import Image

from reelay.engine import RenderSpec, probe, probe_image, render
from reelay.engine.image2video import cover_fit, window
from reelay.engine.probe import load_image
from reelay.errors import InvalidMedia


def i2v(image: Path, **kwargs: object) -> RenderSpec:
    base: dict[str, object] = {"width": 160, "height": 160, "seconds": 1.0, "image_path": image}
    base.update(kwargs)
    return RenderSpec("i2v", "a calm lake", **base)  # type: ignore[arg-type]


def test_first_frame_is_the_cover_fitted_reference(tmp_path: Path, reference_image: Path) -> None:
    out = tmp_path / "out.mp4"
    render(i2v(reference_image), out)
    frames = decode_rgb(out)
    expected = np.asarray(cover_fit(Image.open(reference_image).convert("RGB"), 160, 160))
    assert frames[0].shape == (160, 160, 3)
    assert mean_abs_diff(frames[0], expected) < 8
    assert mean_abs_diff(frames[-1], expected) > 8, "the camera has moved by the last frame"
    info = probe(out)
    assert (info.width, info.height, info.frames, info.has_audio) == (160, 160, 24, True)


def test_landscape_output_from_portrait_image(tmp_path: Path) -> None:
    src = tmp_path / "portrait.jpg"
    Image.fromarray(pattern_frame(120, 260, 10)).save(src, quality=95)
    out = tmp_path / "out.mp4"
    render(i2v(src, width=192, height=108, seconds=1.5), out)
    frames = decode_rgb(out)
    expected = np.asarray(cover_fit(Image.open(src), 192, 108))
    assert len(frames) == 36 and mean_abs_diff(frames[0], expected) < 8


def test_camera_window_eases_from_full_frame_and_stays_inside() -> None:
    assert window(0.0, 192, 108, 16 / 9, (1.0, 0.0)) == (0, 0, 192, 108)
    for t in np.linspace(0, 1, 25):
        x, y, w, h = window(float(t), 1536, 864, 16 / 9, (0.7071, -0.7071))
        assert x >= 0 and y >= 0 and x + w <= 1536 and y + h <= 864
    assert window(1.0, 1536, 864, 16 / 9, (1.0, 0.0))[2] == 1280  # 1.2x zoom at the end


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **params)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [("RGBA", "PNG"), ("P", "PNG"), ("L", "PNG"), ("LA", "PNG"), ("CMYK", "JPEG"), ("I;16", "PNG"), ("1", "PNG")],
)
def test_any_image_mode_loads_as_rgb(tmp_path: Path, mode: str, fmt: str) -> None:
    path = tmp_path / f"image.{fmt.lower()}"
    path.write_bytes(_encode(Image.fromarray(pattern_frame(40, 30, 5)).convert(mode), fmt))
    image = load_image(path)
    assert image.mode == "RGB" and image.size == (40, 30)
    assert probe_image(path) == (40, 30)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path.write_bytes(_encode(Image.fromarray(pattern_frame(80, 40, 5)), "JPEG", exif=exif))
    assert probe_image(path) == (40, 80)


def test_rgba_reference_renders(tmp_path: Path) -> None:
    src = tmp_path / "alpha.png"
    rgba = Image.fromarray(pattern_frame(100, 80, 8)).convert("RGBA")
    rgba.putalpha(128)
    rgba.save(src)
    info = render(i2v(src, width=96, height=64), tmp_path / "out.mp4").info
    assert (info.width, info.height) == (96, 64)


def test_undecodable_and_truncated_images_are_invalid_media(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"not an image at all")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(_encode(Image.fromarray(pattern_frame(200, 200, 3)), "PNG")[:600])
    for path in (garbage, truncated):
        with pytest.raises(InvalidMedia):
            probe_image(path)
    with pytest.raises(InvalidMedia):
        render(i2v(garbage), tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_images_over_40_megapixels_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("1", (8000, 5001)).save(path)
    with pytest.raises(InvalidMedia, match="40 megapixels"):
        probe_image(path)
