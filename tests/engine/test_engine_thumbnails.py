"""Poster frames and spritesheets: JPEG, sized as promised, written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from engine_media import VideoFactory, decode_rgb, mean_abs_diff
from PIL import Image

from reelay.engine import make_spritesheet, make_thumbnail, probe


def test_thumbnail_is_a_jpeg_of_the_frame_at_a_third(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "poster.jpg"
    make_thumbnail(clip, out)
    with Image.open(out) as image:
        assert image.format == "JPEG" and image.size == (160, 120)
        poster = np.asarray(image.convert("RGB"))
    frames = decode_rgb(clip)
    assert mean_abs_diff(poster, frames[len(frames) // 3]) < 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["poster.jpg"]


def test_wide_videos_get_a_poster_at_most_1280_wide(tmp_path: Path, make_video: VideoFactory) -> None:
    source = make_video(width=1920, height=1080, seconds=0.25, audio_rate=None)
    out = tmp_path / "poster.jpg"
    make_thumbnail(source, out)
    with Image.open(out) as image:
        assert image.size == (1280, 720)


def test_spritesheet_grid(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "sprites.jpg"
    make_spritesheet(clip, out, columns=4, rows=3, tile_width=64)
    with Image.open(out) as image:
        assert image.format == "JPEG" and image.size == (4 * 64, 3 * 48)
        sheet = np.asarray(image.convert("RGB"))
    first, last = sheet[:48, :64], sheet[96:, 192:]
    assert mean_abs_diff(first, last) > 10, "tiles come from different moments of the clip"
    assert probe(clip).frames == 48
