"""Inspect media before trusting it: video facts via PyAV, images fully decoded by Pillow.

Inputs come from users, so anything that does not decode is refused here with ``InvalidMedia``
(a 400 for the API) instead of failing deep inside a render.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import av

from reelay.engine.spec import MediaInfo
from reelay.errors import InvalidMedia

if TYPE_CHECKING:
    from PIL import Image

MAX_IMAGE_PIXELS = 40_000_000
# Demuxers that open a single still image as a one-frame "video": an image is not a video input.
_STILL_FORMATS = frozenset({"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe"})


def probe(path: Path) -> MediaInfo:
    """Duration, size, rate, frame count and codecs of the first video (and audio) stream."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video or container.format.name in _STILL_FORMATS:
                raise InvalidMedia(f"{path.name} is not a readable video: it has no video stream")
            video = container.streams.video[0]
            audio = container.streams.audio[0] if container.streams.audio else None
            duration = _duration(container.duration, video)
            rate = video.average_rate or video.guessed_rate or video.base_rate
            fps = float(rate) if rate else 0.0
            frames = video.frames or round(duration * fps)
            return MediaInfo(
                duration=duration,
                width=video.width,
                height=video.height,
                fps=fps,
                frames=frames,
                video_codec=video.codec_context.name,
                audio_codec=audio.codec_context.name if audio is not None else None,
                has_audio=audio is not None,
                audio_sample_rate=audio.sample_rate if audio is not None else None,
                audio_channels=audio.channels if audio is not None else None,
            )
    except InvalidMedia:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise InvalidMedia(f"{path.name} is not a readable video; upload an MP4, MOV or WebM file") from exc


def _duration(container_us: int | None, video: av.video.stream.VideoStream) -> float:
    if container_us:
        return container_us / 1_000_000
    if video.duration is not None and video.time_base is not None:
        return float(video.duration * video.time_base)
    return 0.0


def load_image(path: Path) -> Image.Image:
    """Fully decode an image, apply its EXIF orientation, return it as RGB.

    Refuses anything Pillow cannot decode and anything over 40 megapixels (decompression bombs),
    checked from the header before any pixel is decoded.
    """
    from PIL import Image, ImageOps  # here: a media process that only probes videos goes without Pillow

    errors = (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise InvalidMedia(
                        f"{path.name} is {image.width}x{image.height}; images over 40 megapixels are "
                        "refused, downscale it first"
                    )
                image.load()
                upright = ImageOps.exif_transpose(image)
                return _to_rgb(upright)
    except InvalidMedia:
        raise
    except errors as exc:
        raise InvalidMedia(f"{path.name} is not a readable image; upload a PNG, JPEG or WebP file") from exc


def probe_image(path: Path) -> tuple[int, int]:
    """(width, height) after EXIF orientation, of an image that decodes fully."""
    image = load_image(path)
    return image.width, image.height


def _to_rgb(image: Image.Image) -> Image.Image:
    """Flatten any mode (RGBA, LA, P with transparency, L, CMYK, I;16...) onto RGB."""
    from PIL import Image

    if image.mode == "RGB":
        return image
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (0, 0, 0))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode.startswith("I") or image.mode == "F":
        import numpy as np  # only for deep images: a media process that only probes and posters stays without it

        values = np.asarray(image.convert("F"), dtype=np.float32)
        high = float(values.max()) if values.size else 0.0
        scale = 255.0 / high if high > 255.0 else 1.0
        return Image.fromarray(np.clip(values * scale, 0, 255).astype(np.uint8), "L").convert("RGB")
    return image.convert("RGB")
