"""Every error a Reelay user can see, in one tree.

Each class knows its HTTP status, its OpenAI ``type`` and its stable ``code``; the API turns any
``ReelayError`` into ``{"error": {"message", "type", "code", "param"}}`` at one boundary
(``reelay.api.errors``). Code below the API raises these and never builds HTTP responses itself.

    ReelayError (500 server_error)
    ├── InvalidRequest (400 invalid_request)
    │   ├── InvalidMedia (400 invalid_media)        an image that does not decode, a video that does not probe
    │   ├── UnsupportedParameter (400 unsupported_parameter)
    │   └── ProviderNotConfigured (400 provider_not_configured)
    ├── AuthenticationFailed (401 authentication_failed)
    ├── InsufficientQuota (402 insufficient_quota)
    ├── PermissionDenied (403 permission_denied)
    ├── NotFound (404 not_found)
    │   ├── ModelNotFound (404 model_not_found)
    │   ├── VideoNotFound (404 video_not_found)
    │   └── CharacterNotFound (404 character_not_found)
    ├── Conflict (409 conflict)
    │   ├── VideoNotReady (409 video_not_ready)
    │   └── IdempotencyConflict (409 idempotency_conflict)   an Idempotency-Key reused with another body
    ├── Gone (410 gone)
    │   └── VideoExpired (410 video_expired)       its outputs passed the retention period and were deleted
    ├── PayloadTooLarge (413 payload_too_large)
    ├── UnsupportedMediaType (415 unsupported_media_type)
    ├── RateLimited (429 rate_limited)
    ├── ServiceUnavailable (503 service_unavailable)  a part is busy or restarting (a media process); retry
    └── UpstreamError (502 upstream_error)      a provider failed; ``retryable`` says if trying again may help
        ├── UpstreamTimeout (504 upstream_timeout)
        └── AllProvidersExhausted (502 all_providers_exhausted)

Job failures reuse the same codes: a job that ends ``failed`` stores ``code`` and ``message`` of the
error that ended it, so a client sees the same vocabulary on submit and on poll.
"""

from __future__ import annotations

from typing import ClassVar


class ReelayError(Exception):
    """Base of all user-visible errors. ``message`` should tell the user what to do next."""

    status: ClassVar[int] = 500
    type: ClassVar[str] = "server_error"
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code  # type: ignore[misc]  # per-instance override of the class default

    def to_dict(self) -> dict[str, object]:
        """The OpenAI error body."""
        return {"error": {"message": self.message, "type": self.type, "code": self.code, "param": self.param}}


class InvalidRequest(ReelayError):
    status = 400
    type = "invalid_request_error"
    code = "invalid_request"


class InvalidMedia(InvalidRequest):
    code = "invalid_media"


class UnsupportedParameter(InvalidRequest):
    code = "unsupported_parameter"


class ProviderNotConfigured(InvalidRequest):
    code = "provider_not_configured"


class AuthenticationFailed(ReelayError):
    status = 401
    type = "authentication_error"
    code = "authentication_failed"


class InsufficientQuota(ReelayError):
    status = 402
    type = "insufficient_quota"
    code = "insufficient_quota"


class PermissionDenied(ReelayError):
    status = 403
    type = "permission_error"
    code = "permission_denied"


class NotFound(ReelayError):
    status = 404
    type = "invalid_request_error"
    code = "not_found"


class ModelNotFound(NotFound):
    code = "model_not_found"


class VideoNotFound(NotFound):
    code = "video_not_found"


class CharacterNotFound(NotFound):
    code = "character_not_found"


class Conflict(ReelayError):
    status = 409
    type = "invalid_request_error"
    code = "conflict"


class VideoNotReady(Conflict):
    code = "video_not_ready"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class Gone(ReelayError):
    status = 410
    type = "invalid_request_error"
    code = "gone"


class VideoExpired(Gone):
    code = "video_expired"


class PayloadTooLarge(ReelayError):
    status = 413
    type = "invalid_request_error"
    code = "payload_too_large"


class UnsupportedMediaType(ReelayError):
    status = 415
    type = "invalid_request_error"
    code = "unsupported_media_type"


class RateLimited(ReelayError):
    status = 429
    type = "rate_limit_error"
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float = 1.0, param: str | None = None) -> None:
        super().__init__(message, param=param)
        self.retry_after = retry_after


class ServiceUnavailable(ReelayError):
    """A part of the server could not do it just now (a media process crashed or hit its limit);
    the same request may succeed in a moment (the API sends ``Retry-After``)."""

    status = 503
    type = "server_error"
    code = "service_unavailable"

    def __init__(self, message: str, *, retry_after: float = 1.0, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class UpstreamError(ReelayError):
    """A provider failed. ``retryable`` tells the worker whether another attempt may succeed."""

    status = 502
    type = "upstream_error"
    code = "upstream_error"

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.retryable = retryable
        self.retry_after = retry_after


class UpstreamTimeout(UpstreamError):
    status = 504
    code = "upstream_timeout"


class AllProvidersExhausted(UpstreamError):
    code = "all_providers_exhausted"
