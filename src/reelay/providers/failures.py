"""A generation the upstream itself reports as failed (HTTP 200, status "failed") → ``UpstreamError``.

``providers.http`` maps HTTP failures; this maps the *job* failures that arrive inside a successful
poll, so every remote adapter gives the worker the same vocabulary:

- a content-policy refusal is ``content_policy_violation`` and never retried (another attempt, or
  another provider, must not be asked to generate what was refused);
- a transient upstream fault (its ``internal_error``, ``unavailable``, a 5xx number …) is retryable,
  code ``upstream_failed`` (never the upstream's ``internal_error``, which means a Reelay bug here);
- anything else is final, and keeps the upstream's own code when that code is a plain token, so an
  operator can look it up in the provider's docs (else ``upstream_failed``). The upstream's code and
  message are always in the message.
"""

from __future__ import annotations

import re

from reelay.errors import UpstreamError

CONTENT_POLICY = "content_policy_violation"
POLICY_CODES = frozenset(
    {CONTENT_POLICY, "safety_violation", "moderation", "moderation_blocked", "content_moderation", "content_filter"}
)
TRANSIENT_CODES = frozenset(
    {
        "internal_error",
        "internal",
        "server_error",
        "service_unavailable",
        "unavailable",
        "deadline_exceeded",
        "resource_exhausted",
        "upstream_unavailable",
        "upstream_timeout",
        "upstream_unreachable",
        "upstream_rate_limited",
        "upstream_malformed",
        "rate_limited",
    }
)
_TOKEN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def content_policy_refusal(provider: str, detail: str = "") -> UpstreamError:
    suffix = f": {detail}" if detail else ""
    return UpstreamError(
        f"{provider} refused to generate this video under its content policy{suffix}; change the prompt or "
        "input and try again",
        retryable=False,
        code=CONTENT_POLICY,
    )


def job_failure(provider: str, code: object, message: object) -> UpstreamError:
    """The error for a generation the upstream reports as failed with ``error: {code, message}``."""
    raw_code = str(code).strip().lower() if code is not None else ""
    text = str(message).strip()[:300] if message else ""
    if raw_code in POLICY_CODES:
        return content_policy_refusal(provider, text)
    transient = raw_code in TRANSIENT_CODES or (raw_code.isdigit() and raw_code.startswith("5"))
    reason = text or "no reason given"
    label = f" ({raw_code})" if raw_code else ""
    return UpstreamError(
        f"{provider} failed the generation{label}: {reason}",
        retryable=transient,
        code=raw_code if _TOKEN.match(raw_code) and not transient else "upstream_failed",
    )
