"""Input media (reference images, input videos): read, size-capped, decoded or probed, then stored.

Every input is checked before a job is queued, so a bad image or a file that is not a video is a
clear 400 at submit time rather than a failed job later. Sources: a multipart upload, a ``data:``
URI, an https URL (fetched through the SSRF-safe fetcher), or the id of an earlier video. The type
an input is stored and labelled with comes from its bytes (``input_media``), never from the name or
content type the client sent.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from reelay.errors import InvalidMedia, InvalidRequest, PayloadTooLarge
from reelay.security.fetch import FetchPolicy, decode_data_uri, fetch_url

MediaKind = Literal["image", "video"]
SourceKind = Literal["upload", "url", "data", "video_id"]

_CHUNK = 1024 * 1024


@dataclass
class MediaSource:
    """Where one input comes from, as the client sent it."""

    kind: SourceKind
    value: str  # URL, data URI, video id, or the uploaded file's name
    stream: BinaryIO | None = None  # the upload's file object (kind == "upload")
    content_type: str | None = None


@dataclass(frozen=True)
class MediaInput:
    """An input that has been read and validated, waiting in a temporary file."""

    kind: MediaKind
    path: Path
    width: int
    height: int
    seconds: float | None  # videos only
    suffix: str  # the real type's extension: ".jpg", ".png", ".webp" …, ".mp4", ".mov", ".webm"
    mime: str = "application/octet-stream"  # detected from the bytes, e.g. "image/jpeg", "video/webm"
    codec: str | None = None  # videos only: FFmpeg's name of the video codec (h264, vp9 …)


@dataclass(frozen=True)
class InputLimits:
    max_image_bytes: int
    max_video_bytes: int
    fetch_policy: FetchPolicy


# Resolves a video id to the local path of its first output (for "video": {"id": ...}).
VideoLookup = Callable[[str], Awaitable[Path]]


def _too_large(kind: MediaKind, limit: int, param: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the {kind} is larger than the {limit // (1024 * 1024)} MB limit; send a smaller file", param=param
    )


def _copy_capped(stream: BinaryIO, target: Path, limit: int, kind: MediaKind, param: str) -> None:
    written = 0
    with open(target, "wb") as out:
        while chunk := stream.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise _too_large(kind, limit, param)
            out.write(chunk)
    if written == 0:
        raise InvalidMedia(f"the uploaded {kind} is empty", param=param)


async def read_source(
    source: MediaSource,
    kind: MediaKind,
    *,
    param: str,
    scratch: Path,
    limits: InputLimits,
    lookup_video: VideoLookup | None = None,
) -> MediaInput:
    """Bring one input into a temporary file under ``scratch`` and validate it."""
    limit = limits.max_image_bytes if kind == "image" else limits.max_video_bytes
    scratch.mkdir(parents=True, exist_ok=True)
    target = scratch / f"{uuid.uuid4().hex}.input"
    try:
        if source.kind == "upload":
            assert source.stream is not None
            await asyncio.to_thread(_copy_capped, source.stream, target, limit, kind, param)
        elif source.kind == "data":
            data, _mime = decode_data_uri(source.value, max_bytes=limit)
            if not data:
                raise InvalidMedia(f"the {kind} data URI is empty", param=param)
            await asyncio.to_thread(target.write_bytes, data)
        elif source.kind == "url":
            fetched = await fetch_url(source.value, max_bytes=limit, policy=limits.fetch_policy)
            await asyncio.to_thread(target.write_bytes, fetched.data)
        else:
            if kind != "video" or lookup_video is None:
                raise InvalidRequest(f"{param} cannot refer to a video id", param=param)
            await asyncio.to_thread(shutil.copyfile, await lookup_video(source.value), target)
        return await _validate(target, kind, param, _shown_name(source, kind))
    except (InvalidRequest, PayloadTooLarge) as error:  # both name the field they are about
        target.unlink(missing_ok=True)
        if error.param is None:
            error.param = param
        raise
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _shown_name(source: MediaSource, kind: MediaKind) -> str:
    """How error messages name an input: the upload's file name, never the temporary file's."""
    if source.kind == "upload":
        return repr(source.value)
    if source.kind == "url":
        return f"the {kind} at {source.value[:200]}"
    if source.kind == "data":
        return f"the {kind} data URI"
    return f"the {kind} of {source.value}"


async def _validate(path: Path, kind: MediaKind, param: str, shown: str) -> MediaInput:
    from reelay.engine.coverfit import MAX_INTERMEDIATE_PIXELS  # av, numpy, Pillow: loaded by the first upload
    from reelay.engine.probe import probe, probe_image
    from reelay.jobs.input_media import image_type, video_type

    if kind == "image":
        try:
            width, height = await asyncio.to_thread(probe_image, path)
        except InvalidMedia as error:
            raise InvalidMedia(
                f"{param} is not a decodable image (PNG, JPEG, WebP, GIF, BMP or TIFF): "
                f"{error.message.replace(path.name, shown)}",
                param=param,
            ) from error
        found = await asyncio.to_thread(image_type, path)
        return MediaInput("image", path, width, height, None, found.suffix, found.mime)
    try:
        info = await asyncio.to_thread(probe, path)
    except InvalidMedia as error:
        raise InvalidMedia(
            f"{param} is not a readable video (send an MP4, MOV or WebM file): "
            f"{error.message.replace(path.name, shown)}",
            param=param,
        ) from error
    if info.width * info.height > MAX_INTERMEDIATE_PIXELS:
        raise InvalidMedia(
            f"{param} is {info.width}x{info.height}; videos over 40 megapixels a frame are refused, downscale it first",
            param=param,
        )
    if info.duration <= 0:
        raise InvalidMedia(f"{param} has no duration; send a video at least 1 s long", param=param)
    try:
        container = await asyncio.to_thread(video_type, path)
    except InvalidMedia as error:
        raise InvalidMedia(f"{param} is not an MP4, MOV or WebM video: {error.message}", param=param) from error
    return MediaInput(
        "video", path, info.width, info.height, info.duration, container.suffix, container.mime, container.codec
    )


def scratch_dir(base: Path) -> Path:
    """A fresh folder name for one request's inputs, created by ``read_source`` with its first file.

    Most creates carry no input file, and creating and removing a folder for each was a measurable
    part of a create (docs/benchmarks.md), so nothing touches the disk until there is something to
    write. Removing the folder afterwards tolerates its absence."""
    return base / f"req_{uuid.uuid4().hex}"
