"""Poster frame and spritesheet JPEGs for a finished video (OpenAI's ``thumbnail``/``spritesheet``).

Both decode with PyAV and write atomically, so a client polling ``/content`` never reads a
half-written image.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
from PIL import Image

from reelay.engine.files import atomic_path
from reelay.engine.probe import probe
from reelay.errors import InvalidMedia

POSTER_MAX_WIDTH = 1280
JPEG_QUALITY = 85


def make_thumbnail(video_path: Path, out_path: Path) -> None:
    """A JPEG of the frame at about a third of the duration, at most 1280 px wide."""
    info = probe(video_path)
    image = _frame_at(video_path, info.duration / 3)
    if image.width > POSTER_MAX_WIDTH:
        height = max(1, round(image.height * POSTER_MAX_WIDTH / image.width))
        image = image.resize((POSTER_MAX_WIDTH, height), Image.Resampling.LANCZOS)
    _save_jpeg(image, out_path)


def make_spritesheet(
    video_path: Path, out_path: Path, *, columns: int = 5, rows: int = 5, tile_width: int = 256
) -> None:
    """A columns x rows JPEG grid of evenly spaced frames, each ``tile_width`` wide."""
    if columns < 1 or rows < 1 or tile_width < 8:
        raise ValueError("columns and rows must be >= 1 and tile_width >= 8")
    info = probe(video_path)
    count = columns * rows
    tile_height = max(2, round(tile_width * info.height / max(1, info.width)))
    sheet = Image.new("RGB", (columns * tile_width, rows * tile_height), (0, 0, 0))
    times = [info.duration * (i + 0.5) / count for i in range(count)]
    for i, image in enumerate(_frames_at(video_path, times)):
        tile = image.resize((tile_width, tile_height), Image.Resampling.BILINEAR)
        sheet.paste(tile, ((i % columns) * tile_width, (i // columns) * tile_height))
    _save_jpeg(sheet, out_path)


def _frame_at(video_path: Path, seconds: float) -> Image.Image:
    for image in _frames_at(video_path, [seconds]):
        return image
    raise InvalidMedia(f"{video_path.name} has no decodable video frames")


def _frames_at(video_path: Path, times: list[float]) -> Iterator[Image.Image]:
    """One decoded frame per requested time (sorted), in a single forward decode pass.

    For the short clips the engine makes, decoding straight through is cheaper and more exact
    than seeking per tile; a frame at or after each time is used (the last frame near the end).
    """
    pending = sorted(times)
    last: av.VideoFrame | None = None
    with av.open(str(video_path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            last = frame
            while pending and (frame.time is None or frame.time >= pending[0] - 1e-6):
                pending.pop(0)
                yield _to_image(frame)
            if not pending:
                return
    if last is not None:
        image = _to_image(last)
        for _ in pending:
            yield image


def _to_image(frame: av.VideoFrame) -> Image.Image:
    image: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]  # rgb24, as to_ndarray; no numpy
    return image


def _save_jpeg(image: Image.Image, out_path: Path) -> None:
    with atomic_path(Path(out_path)) as tmp:
        image.convert("RGB").save(tmp, format="JPEG", quality=JPEG_QUALITY, optimize=False)


def save_frames(video_path: Path, out_paths: list[Path]) -> None:
    """JPEGs of evenly spaced frames (one per path, first to last third of the clip), at most 1280 px
    wide: the stills a character is made of (``reelay.characters``)."""
    info = probe(video_path)
    count = len(out_paths)
    times = [info.duration * (i + 0.5) / count for i in range(count)]
    for path, image in zip(out_paths, _frames_at(video_path, times), strict=False):
        if image.width > POSTER_MAX_WIDTH:
            height = max(1, round(image.height * POSTER_MAX_WIDTH / image.width))
            image = image.resize((POSTER_MAX_WIDTH, height), Image.Resampling.LANCZOS)
        _save_jpeg(image, path)
