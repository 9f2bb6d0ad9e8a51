"""Small pieces the Veo, fal, Replicate, Runway and Luma adapters share (pure apart from reading files).

Inline media (``data:`` URIs) from the job's stored inputs, whole-second durations, the
"this upstream cannot do that" error, and the keyword test for moderation refusals that some
upstreams only report as free text. HTTP status mapping is not here: that is ``providers.http``.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from reelay.errors import UpstreamError
from reelay.providers import http

# Words upstreams use in free-text failure reasons when their moderation refused the request.
_POLICY_WORDS = (
    "nsfw", "moderation", "content policy", "safety", "flagged", "sensitive", "blocked by",
    "not allowed", "blacklist", "responsible ai", "prohibited",
)


def image_data_uri(provider: str, path: Path | None) -> str:
    """The job's input image as a ``data:`` URI (the upstreams here accept inline images)."""
    if path is None:
        raise UpstreamError(
            f"image-to-video on {provider} needs an input image, and this job has none", code="input_missing"
        )
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return http.data_uri(path, mime)


def video_data_uri(provider: str, path: Path | None, max_bytes: int) -> str:
    """The job's input video as a ``data:video/mp4`` URI, refused early when the upstream's cap is exceeded."""
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
    return http.data_uri(path, "video/mp4")


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
