"""Small pieces the remote adapters share (pure apart from reading files).

Inline media (``data:`` URIs labelled with the type read from the file's own bytes, never a guess
from its name), whole-second durations, the
"this upstream cannot do that" error, and the keyword test for moderation refusals that some
upstreams only report as free text. HTTP status mapping is not here: that is ``providers.http``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reelay.errors import UpstreamError
from reelay.providers import http

# Words upstreams use in free-text failure reasons when their moderation refused the request.
_POLICY_WORDS = (
    "nsfw",
    "moderation",
    "content policy",
    "safety",
    "flagged",
    "sensitive",
    "blocked by",
    "not allowed",
    "blacklist",
    "responsible ai",
    "prohibited",
)


# Type by file suffix, as the job's inputs are stored (``inputs/<id>/reference0.jpg``).
_SUFFIX_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".tiff": "image/tiff",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
}


def media_type(path: Path) -> str:
    """The MIME type of a stored input, from its leading bytes (so inputs stored before types were
    kept, as ``*.img``, are labelled right too), else from its suffix."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] in (b"GIF8",):
        return "image/gif"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head[4:12] == b"ftypqt  ":
        return "video/quicktime"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    return _SUFFIX_TYPES.get(path.suffix.lower(), "application/octet-stream")


def image_data_uri(provider: str, path: Path | None) -> str:
    """The job's input image as a ``data:`` URI labelled with its real type."""
    return http.data_uri(required_image(provider, path), media_type(required_image(provider, path)))


def required_image(provider: str, path: Path | None) -> Path:
    """``path``, or the "this job has no input image" error."""
    if path is None:
        raise UpstreamError(
            f"image-to-video on {provider} needs an input image, and this job has none", code="input_missing"
        )
    return path


def video_data_uri(provider: str, path: Path | None, max_bytes: int) -> str:
    """The job's input video as a ``data:`` URI of its real type, refused early above the upstream's cap."""
    if path is None:
        raise UpstreamError(
            f"this operation on {provider} needs an input video, and this job has none", code="input_missing"
        )
    size = path.stat().st_size
    if size > max_bytes:
        raise UpstreamError(
            f"the input video is {size / 2**20:.1f} MiB; {provider} takes inline videos up to "
            f"{max_bytes / 2**20:.0f} MiB — send a shorter or smaller MP4",
            code="input_too_large",
        )
    return http.data_uri(path, media_type(path))


def unsupported(provider: str, what: str, hint: str = "") -> UpstreamError:
    """A non-retryable refusal for an operation or mode the upstream's API does not offer."""
    suffix = f"; {hint}" if hint else ""
    return UpstreamError(f"{provider} cannot {what}{suffix}", retryable=False, code="unsupported_operation")


def whole_seconds(seconds: float) -> int:
    """Durations go upstream as whole seconds (the cards only offer whole seconds)."""
    return max(1, round(seconds))


def looks_like_policy_refusal(text: str) -> bool:
    """True when a free-text failure reason reads like a moderation refusal."""
    lowered = text.lower()
    return any(word in lowered for word in _POLICY_WORDS)


def as_object(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (upstream bodies are not trusted)."""
    return value if isinstance(value, dict) else {}


def first_string(*values: object) -> str:
    """The first non-empty string among ``values`` (upstreams nest their output URL differently)."""
    for value in values:
        if isinstance(value, str) and value:
            return value
    return ""
