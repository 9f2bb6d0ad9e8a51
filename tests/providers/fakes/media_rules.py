"""Checks the strict fakes share: a data URI's declared type must match its bytes, videos must be what
the provider documents, and inline media must fit the documented caps.

Providers decode what they receive; a ``data:image/png`` URI holding JPEG bytes is a mislabel that a
strict upstream may refuse (Google's inline ``mimeType``, xAI's data URIs), so every fake refuses it.
"""

from __future__ import annotations

import base64
import binascii
import io

import av
import httpx

# The fakes run on loopback, so a link to Reelay's copy of an input is http://127.0.0.1:…; it stands in
# for the public https URL a deployment gives (REELAY_PUBLIC_URL).
LOOPBACK_URL = "http://127.0.0.1:"


def sniff(data: bytes) -> str:
    """The MIME type the bytes themselves announce (magic numbers), or "" when unknown."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] == b"GIF8":
        return "image/gif"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if data[4:12] == b"ftypqt  ":
        return "video/quicktime"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return ""


def decode_data_uri(url: str) -> tuple[str, bytes] | None:
    """(declared MIME type, bytes) of a base64 data URI, or None if it is not one."""
    if not url.startswith("data:") or ";base64," not in url:
        return None
    head, payload = url[5:].split(",", 1)
    try:
        return head.split(";", 1)[0], base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None


def data_uri_problem(url: str, kind: str, *, max_bytes: int | None = None) -> str | None:
    """Why a ``data:`` URI of ``kind`` ("image", "video", or "" for either) would be refused, else None."""
    decoded = decode_data_uri(url)
    if decoded is None:
        return f"a data URI of a {kind} must be data:{kind}/<type>;base64,<bytes>"
    declared, data = decoded
    if (kind and not declared.startswith(f"{kind}/")) or not data:
        return f"expected a {kind or 'media'} data URI, got {declared or 'no type'}"
    actual = sniff(data)
    if actual != declared:
        return f"the data URI says {declared} but its bytes are {actual or 'not a known format'}"
    if max_bytes is not None and len(data) > max_bytes:
        return f"the {kind or 'file'} is {len(data)} bytes; data URIs are limited to {max_bytes} bytes"
    return None


def mp4_codec_and_seconds(data: bytes) -> tuple[str, float]:
    """(video codec name, duration in seconds) of an MP4 given as bytes."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        seconds = float(container.duration or 0) / 1_000_000 if container.duration else 0.0
        if not seconds and stream.duration and stream.time_base:
            seconds = float(stream.duration * stream.time_base)
        return stream.codec_context.name, seconds


def is_hosted_url(url: object) -> bool:
    return isinstance(url, str) and url.startswith(("https://", LOOPBACK_URL))


async def fetched_problem(url: str, kind: str) -> str | None:
    """Fetch a hosted input as the provider would; refuse one that is unreachable or not a ``kind``."""
    async with httpx.AsyncClient(timeout=10.0, trust_env=False) as client:
        try:
            response = await client.get(url)
        except httpx.HTTPError:
            return f"the {kind} URL could not be fetched"
    if response.status_code != 200 or not sniff(response.content).startswith(f"{kind}/"):
        return f"the {kind} URL did not return a {kind} (HTTP {response.status_code})"
    return None
