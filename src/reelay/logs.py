"""Structured logs: one JSON object per line, with the request id and job id, and no secrets.

Owns the log format and the per-request context (``request_id``) that every log line carries; it does
not decide what is logged. ``configure_logging`` is called once by the CLI (``reelay serve``,
``reelay worker``); library code keeps using ``logging.getLogger(...)`` with ``extra={...}``.

Guarantee: bearer tokens, Reelay API keys (``rly_…``) and common provider key shapes are replaced by
``[redacted]`` in the message, the extras and the traceback before a line is written, so a careless
``log.info("%s", headers)`` cannot leak a credential. Signed-link signatures are redacted too.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from typing import Any

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("reelay_request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged as a field.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}
_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}"), r"\1 [redacted]"),  # Authorization values
    (re.compile(r"\brly_[A-Za-z0-9._-]+"), "[redacted]"),  # Reelay API keys
    (re.compile(r"\b(?:sk|xai|r8)[-_][A-Za-z0-9._-]{8,}"), "[redacted]"),  # provider key shapes
    (re.compile(r"(?i)\b(signature|api[_-]?key|token|secret|password)=[^&\s\"']+"), r"\1=[redacted]"),
)
REDACTED = "[redacted]"


# A pattern above can match only where one of these occurs (in lower case): most log text has none
# of them, and four regex substitutions per string were a quarter of an access line's cost.
_SECRET_MARKERS = (
    "bearer",
    "basic",
    "rly_",
    "sk-",
    "sk_",
    "xai-",
    "xai_",
    "r8-",
    "r8_",
    "signature=",
    "key=",
    "token=",
    "secret=",
    "password=",
)


def redact(text: str) -> str:
    """The text with anything that looks like a credential replaced by ``[redacted]``."""
    lowered = text.lower()
    if not any(marker in lowered for marker in _SECRET_MARKERS):
        return text
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_redact_value(v) for v in value]
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", "job_id", …extras}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
            "job_id": getattr(record, "job_id", None),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in entry:
                entry[key] = _redact_value(value)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The human format (``--log-format text``), redacted the same way."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """Route every logger (uvicorn's included) to one stderr handler in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # httpx logs every request at info: one line per provider poll (thousands a second in a busy relay).
    # Failures reach the log through the adapters' own warnings; --log-level debug shows every request.
    logging.getLogger("httpx").setLevel(logging.WARNING if root.level > logging.DEBUG else logging.NOTSET)
