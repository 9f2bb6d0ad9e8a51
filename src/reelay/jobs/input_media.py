"""What an input file really is, from its bytes, and the conversions a provider's rules call for.

The client's filename and content type are not trusted: an image's type comes from Pillow's decoder,
a video's container and codec from PyAV (an MP4 and a QuickTime MOV share one demuxer, so the
``ftyp`` major brand tells them apart). Conversions write a new file beside the old one; callers
record each one in the normalization report. Pure file work, no database, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import av
from PIL import Image

from reelay.engine.audiotrack import read_audio
from reelay.engine.encode import Mp4Writer
from reelay.engine.probe import load_image, probe
from reelay.errors import InvalidMedia

Container = Literal["mp4", "mov", "webm"]

# Pillow's format name → (MIME type, file suffix). Only formats the decoder check accepts.
IMAGE_FORMATS: dict[str, tuple[str, str]] = {
    "PNG": ("image/png", ".png"),
    "JPEG": ("image/jpeg", ".jpg"),
    "WEBP": ("image/webp", ".webp"),
    "GIF": ("image/gif", ".gif"),
    "BMP": ("image/bmp", ".bmp"),
    "TIFF": ("image/tiff", ".tiff"),
    "MPO": ("image/jpeg", ".jpg"),  # a multi-picture JPEG (phone cameras) is a JPEG to everyone else
}
# What Pillow writes for each target MIME type when an image must be converted.
_WRITE_AS: dict[str, tuple[str, str]] = {
    "image/png": ("PNG", ".png"),
    "image/jpeg": ("JPEG", ".jpg"),
    "image/webp": ("WEBP", ".webp"),
}
VIDEO_MIME: dict[Container, str] = {"mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm"}
_QUICKTIME_BRANDS = {"qt"}


@dataclass(frozen=True)
class ImageType:
    mime: str
    suffix: str


@dataclass(frozen=True)
class VideoType:
    container: Container
    codec: str  # FFmpeg's decoder name: h264, hevc, av1, vp9, prores ...
    mime: str
    suffix: str


def image_type(path: Path) -> ImageType:
    """The image's real type, from its header (the caller has already decoded it fully)."""
    try:
        with Image.open(path) as image:
            name = image.format or ""
    except (OSError, ValueError) as exc:
        raise InvalidMedia(f"{path.name} is not a decodable image") from exc
    mime, suffix = IMAGE_FORMATS.get(name, ("", ""))
    if not mime:
        raise InvalidMedia(f"{path.name} is a {name or 'unknown'} image; send PNG, JPEG, WebP, GIF, BMP or TIFF")
    return ImageType(mime, suffix)


def video_type(path: Path) -> VideoType:
    """The video's container (MP4, MOV or WebM/Matroska) and the codec of its first video stream."""
    try:
        with av.open(str(path)) as container:
            names = set(container.format.name.split(","))
            codec = container.streams.video[0].codec_context.name if container.streams.video else ""
            brand = str(container.metadata.get("major_brand", "")).strip().lower()
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise InvalidMedia(f"{path.name} is not a readable video") from exc
    kind: Container
    if "matroska" in names or "webm" in names:
        kind = "webm"
    elif "mov" in names or "mp4" in names:
        kind = "mov" if brand in _QUICKTIME_BRANDS else "mp4"
    else:
        raise InvalidMedia(f"{path.name} is a {container.format.name} file; send an MP4, MOV or WebM video")
    return VideoType(kind, codec, VIDEO_MIME[kind], ".webm" if kind == "webm" else f".{kind}")


def convert_image(source: Path, target_mime: str, target: Path) -> ImageType:
    """Re-encode ``source`` as ``target_mime`` (PNG, JPEG or WebP) at ``target`` (suffix replaced)."""
    pil_format, suffix = _WRITE_AS[target_mime]
    out = target.with_suffix(suffix)
    image = load_image(source)  # RGB, EXIF orientation applied: what every provider would show
    options = {"quality": 92} if pil_format in ("JPEG", "WEBP") else {}
    image.save(out, format=pil_format, **options)
    return ImageType(target_mime, suffix)


def transcode_to_h264_mp4(source: Path, target: Path) -> None:
    """Decode ``source`` and write an H.264 (+ AAC) MP4 of the same frames, size (rounded down to even
    numbers) and rate at ``target``: what an MP4-only upstream takes from a MOV or WebM input."""
    info = probe(source)
    fps = max(1, round(info.fps)) if info.fps else 24
    pcm = read_audio(source, info.duration) if info.has_audio else None
    width, height = info.width // 2 * 2, info.height // 2 * 2
    with av.open(str(source)) as container, Mp4Writer(target, width, height, fps, pcm) as writer:
        for frame in container.decode(video=0):
            writer.add(frame.reformat(width=width, height=height, format="yuv420p"))
    if writer.frames == 0:
        target.unlink(missing_ok=True)
        raise InvalidMedia(f"{source.name} has no decodable frames; send an MP4 (H.264) video")
