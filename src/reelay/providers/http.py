"""HTTP plumbing every remote adapter shares: status codes → typed errors, JSON decoding, downloads.

Adapters call these instead of mapping errors themselves, so ``retryable`` means the same thing for
every upstream: 408, 409, 425, 429 and 5xx may succeed later; other 4xx will not.
"""

from __future__ import annotations

import email.utils
import json
import time
from pathlib import Path
from typing import Any

import httpx

from reelay.errors import UpstreamError, UpstreamTimeout
from reelay.providers.transport import ProviderClient

RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_OUTPUT_BYTES = 2 * 1024 * 1024 * 1024


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), if the upstream sent one."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _upstream_message(response: httpx.Response) -> str:
    """A short reason from the upstream's error body, never the whole body."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        error = error.get("message") or error.get("code")
    if error is None and isinstance(body, dict):
        error = body.get("message") or body.get("detail")
    return str(error)[:300] if error else ""


def check_response(provider: str, response: httpx.Response) -> None:
    """Raise the right ``UpstreamError`` for a non-2xx response; return for 2xx."""
    if response.is_success:
        return
    status = response.status_code
    reason = _upstream_message(response)
    detail = f"{provider} answered HTTP {status}" + (f": {reason}" if reason else "")
    if status in (401, 403):
        raise UpstreamError(f"{detail}; check the provider's API key", retryable=False, code="upstream_auth_failed")
    if status == 429:
        raise UpstreamError(
            detail, retryable=True, code="upstream_rate_limited", retry_after=retry_after_seconds(response)
        )
    if status in RETRYABLE_STATUSES:
        raise UpstreamError(
            detail, retryable=True, code="upstream_unavailable", retry_after=retry_after_seconds(response)
        )
    raise UpstreamError(detail, retryable=False, code="upstream_rejected")


def json_body(provider: str, response: httpx.Response) -> dict[str, Any]:
    """The response's JSON object; malformed JSON is a retryable upstream error."""
    check_response(provider, response)
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as error:
        raise UpstreamError(f"{provider} sent malformed JSON", retryable=True, code="upstream_malformed") from error
    if not isinstance(data, dict):
        raise UpstreamError(f"{provider} sent JSON that is not an object", retryable=True, code="upstream_malformed")
    return data


async def request(provider: str, client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One HTTP call with transport failures mapped to retryable upstream errors. A plain GET on the
    shared provider client (every poll) takes its lean path (``transport.ProviderTransport.get``)."""
    try:
        if method == "GET" and isinstance(client, ProviderClient) and set(kwargs) <= {"headers"}:
            headers = httpx.Headers(client.headers)  # the client's defaults, overridden case-insensitively
            headers.update(kwargs.get("headers") or {})
            return await client.provider_transport.get(url, headers, client.timeout)
        return await client.request(method, url, **kwargs)
    except httpx.TimeoutException as error:
        raise UpstreamTimeout(f"{provider} did not answer in time", retryable=True) from error
    except httpx.HTTPError as error:
        raise UpstreamError(
            f"could not reach {provider}: {type(error).__name__}", retryable=True, code="upstream_unreachable"
        ) from error


async def download(
    provider: str,
    client: httpx.AsyncClient,
    url: str,
    destination: Path,
    *,
    max_bytes: int = MAX_OUTPUT_BYTES,
    headers: dict[str, str] | None = None,
) -> int:
    """Stream ``url`` to ``destination``; an expired or missing output is a non-retryable failure."""
    written = 0
    try:
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code in (403, 404, 410):
                raise UpstreamError(
                    f"{provider}'s output URL has expired or is gone (HTTP {response.status_code})",
                    retryable=False,
                    code="upstream_output_expired",
                )
            check_response(provider, response)
            with open(destination, "wb") as out:
                async for chunk in response.aiter_bytes():
                    written += len(chunk)
                    if written > max_bytes:
                        raise UpstreamError(f"{provider}'s output is too large", code="upstream_output_too_large")
                    out.write(chunk)
    except httpx.TimeoutException as error:
        raise UpstreamTimeout(f"downloading {provider}'s output timed out", retryable=True) from error
    except httpx.HTTPError as error:
        raise UpstreamError(
            f"could not download {provider}'s output: {type(error).__name__}",
            retryable=True,
            code="upstream_unreachable",
        ) from error
    if written == 0:
        raise UpstreamError(f"{provider}'s output is empty", retryable=True, code="upstream_malformed")
    return written


def data_uri(path: Path, mime: str) -> str:
    """A file as a ``data:`` URI, for upstreams that take inline media."""
    import base64

    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"
