"""Fixtures for the engine tests: small videos and images built with PyAV and Pillow."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_media import VideoFactory, pattern_frame, write_video
from PIL import Image


@pytest.fixture
def make_video(tmp_path: Path) -> VideoFactory:
    counter = iter(range(1000))

    def factory(**kwargs: object) -> Path:
        return write_video(tmp_path / f"input-{next(counter)}.mp4", **kwargs)  # type: ignore[arg-type]

    return factory


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shared 2 s 160x120 clip with a 440 Hz stereo tone, reused by the read-only v2v tests."""
    return write_video(tmp_path_factory.mktemp("media") / "clip.mp4")


@pytest.fixture
def reference_image(tmp_path: Path) -> Path:
    """A 300x200 PNG with structure (gradients and a block), so cover-fit errors would show."""
    path = tmp_path / "reference.png"
    Image.fromarray(pattern_frame(300, 200, 20)).save(path)
    return path
