"""Webhooks as Standard Webhooks (standardwebhooks.com) describes them: URL rules, secrets, signing.

- A target URL follows the fetcher's rules (``security.fetch.check_url``: https only, no credentials,
  no private/loopback/link-local/CGNAT/metadata addresses) and, in addition, may not be an IP literal.
  ``REELAY_WEBHOOK_ALLOW_HTTP`` and ``REELAY_WEBHOOK_ALLOW_HOSTS`` loosen that for development only.
- Each scope (an API key; the server itself when no keys exist) has one ``whsec_<base64>`` secret,
  created on first use and readable through ``GET /v1/webhooks/secret``.
- A message is signed as ``v1,<base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))>`` where ``key``
  is the base64-decoded part of the secret after ``whsec_``.

The delivery loop (``jobs.webhook_delivery``) stores, sends and retries; nothing here does I/O
except the secret table and ``check_webhook_url``'s DNS lookup.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from reelay.errors import InvalidRequest
from reelay.jobs.models import JobStatus, VideoJob
from reelay.security.fetch import FetchPolicy, Resolver, check_url
from reelay.security.models import WebhookSecretRow
from reelay.security.netpolicy import Allowlist, parse_ip_literal

SECRET_PREFIX = "whsec_"
EVENTS = {
    JobStatus.COMPLETED: "video.completed",
    JobStatus.FAILED: "video.failed",
    JobStatus.CANCELLED: "video.cancelled",
    JobStatus.EXPIRED: "video.expired",
}
_URL_HINT = "webhook URLs must be public https URLs with a host name (REELAY_WEBHOOK_ALLOW_HOSTS for development)"


def webhook_policy(*, allow_http: bool, allowed_hosts: frozenset[str], timeout: float) -> FetchPolicy:
    """The fetch rules for webhook targets: no redirects, one timeout per delivery attempt."""
    return FetchPolicy(allow_http=allow_http, allowed_hosts=allowed_hosts, max_redirects=0, timeout=timeout)


async def check_webhook_url(url: Any, policy: FetchPolicy, resolver: Resolver | None = None) -> str:
    """The URL if it may receive webhooks now; ``InvalidRequest`` (400, param webhook_url) if not."""
    if not isinstance(url, str) or not url or len(url) > 2048:
        raise InvalidRequest("webhook_url must be an https URL of at most 2048 characters", param="webhook_url")
    refuse_ip_literal(url, policy)
    await check_url(url, policy=policy, resolver=resolver, param="webhook_url")
    return url


def refuse_ip_literal(url: str, policy: FetchPolicy) -> None:
    """Webhook targets need a host name (unless the development allowlist names the address)."""
    if _is_ip_literal(url) and not _allowlisted_literal(url, policy):
        raise InvalidRequest(
            f"webhook_url may not be an IP address; {_URL_HINT}", param="webhook_url", code="url_not_allowed"
        )


def _host(url: str) -> str:
    try:
        return httpx.URL(url).raw_host.decode("ascii")
    except (httpx.InvalidURL, TypeError, UnicodeDecodeError):
        return ""


def _is_ip_literal(url: str) -> bool:
    try:
        return parse_ip_literal(_host(url)) is not None
    except ValueError:
        return True  # looks numeric but is not a valid address: not a host name either


def _allowlisted_literal(url: str, policy: FetchPolicy) -> bool:
    try:
        address = parse_ip_literal(_host(url))
    except ValueError:
        return False
    return address is not None and Allowlist.parse(policy.allowed_hosts).allows_address(address)


# -- secrets and signatures -------------------------------------------------------------------------


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one message."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def signed_headers(secret: str, message_id: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def event_payload(job: VideoJob, output_url: str | None) -> dict[str, Any]:
    """``{type, data: {object, id, model, status, output, error}}``; ``output_url`` is a signed link."""
    error = {"code": job.error_code or "", "message": job.error_message or ""} if job.error_code else None
    return {
        "type": EVENTS[job.status],
        "data": {
            "object": "video",
            "id": job.id,
            "model": job.model,
            "status": job.status.value,
            "output": {"url": output_url} if output_url else None,
            "error": error,
        },
    }


def encode_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent (compact, stable key order)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")


@dataclass
class WebhookSecrets:
    """The ``webhook_secrets`` table: one secret per scope, created on first use (race-safe)."""

    engine: AsyncEngine

    async def get(self, scope: str) -> str:
        query = select(WebhookSecretRow.secret).where(WebhookSecretRow.scope == scope)
        async with self.engine.connect() as connection:
            found = await connection.scalar(query)
        if found is not None:
            return str(found)
        try:
            async with self.engine.begin() as connection:
                secret = new_secret()
                await connection.execute(
                    insert(WebhookSecretRow).values(scope=scope, secret=secret, created_at=time.time())
                )
                return secret
        except IntegrityError:  # another process created it first: use theirs
            async with self.engine.connect() as connection:
                return str(await connection.scalar(query))
