"""Fetch client-supplied media URLs (and decode ``data:`` URIs) without becoming an SSRF proxy.

Guarantees, for every URL and every redirect hop:

* only ``https`` (and ``http`` when ``FetchPolicy.allow_http``), no ``user:password@``, a host present,
  the port in ``FetchPolicy.allowed_ports`` when that is set;
* the host is resolved once (IP literals, including ``2130706433`` and ``0x7f.1``, are parsed, never
  resolved) and refused if ANY address is not public (``reelay.security.netpolicy``), unless the
  development allowlist re-allows it; ``localhost`` and metadata names are refused by name;
* the connection goes to the address that was checked: the request URL carries the IP, the ``Host``
  header and TLS SNI carry the original name, so nothing resolves the name a second time;
* no environment proxies (the transport is used directly, never an ``httpx.AsyncClient``);
* redirects are followed by hand, each ``Location`` checked like the first URL, at most
  ``max_redirects``;
* the body is streamed and abandoned as soon as it passes ``max_bytes``; the whole fetch (resolution
  included) has one deadline, ``FetchPolicy.timeout``.

Failures are ``InvalidRequest`` with code ``url_not_allowed`` / ``fetch_failed`` / ``fetch_timeout``,
or ``PayloadTooLarge``; messages never quote response bodies. Each raising function takes ``param``
so the caller can name the request field (``input_reference``, ``input_video``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import ipaddress
import re
import socket
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from reelay.errors import InvalidRequest, PayloadTooLarge
from reelay.security.netpolicy import (
    Allowlist,
    IPAddress,
    is_blocked_host_name,
    is_public_address,
    non_public_reason,
    parse_ip_literal,
)

__all__ = [
    "FetchPolicy",
    "FetchedContent",
    "Resolver",
    "check_url",
    "decode_data_uri",
    "fetch_url",
    "is_public_address",
    "post_bytes",
    "resolve_host",
]

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port) -> IP strings``. The default, ``resolve_host``, asks the system resolver."""

_ALLOW_HOSTS_HINT = "Reelay only fetches public URLs (set REELAY_FETCH_ALLOW_HOSTS for development)"
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_USER_AGENT = "Reelay-fetch/0.1"
_HOST_NAME = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$")  # after IDNA encoding; no %, no NUL


@dataclass(frozen=True)
class FetchPolicy:
    """What a fetch may reach. The defaults are the production rules; loosen only for development."""

    allow_http: bool = False
    allowed_hosts: frozenset[str] = frozenset()  # names, IPs or CIDRs allowed even if private/loopback
    allowed_ports: frozenset[int] | None = None  # None = any port
    max_redirects: int = 5
    timeout: float = 30.0  # seconds for the whole fetch: resolution, redirects and body


@dataclass(frozen=True)
class FetchedContent:
    data: bytes
    content_type: str | None
    url: str  # the final URL, after redirects


@dataclass(frozen=True)
class _CheckedURL:
    """A URL that passed every rule, with the addresses it may be fetched from."""

    url: httpx.URL
    host: str  # ASCII (IDNA) host as written in the URL, brackets removed
    addresses: tuple[IPAddress, ...]
    is_ip_literal: bool


async def resolve_host(host: str, port: int) -> list[str]:
    """The default ``Resolver``: the system resolver via ``loop.getaddrinfo``, duplicates removed."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check_url(
    url: str, *, policy: FetchPolicy, resolver: Resolver | None = None, param: str | None = None
) -> list[str]:
    """Validate ``url`` and resolve it; return the addresses a fetch would use. Raises on refusal.

    For URLs that are stored now and fetched later (webhooks): call again at delivery time, since
    DNS may have changed.
    """
    try:
        async with asyncio.timeout(policy.timeout):
            checked = await _check(_parse(url, policy, param), policy, resolver or resolve_host, param)
    except TimeoutError:
        raise _timeout_error(url, policy, param) from None
    return [str(a) for a in checked.addresses]


async def fetch_url(
    url: str,
    *,
    max_bytes: int,
    policy: FetchPolicy,
    resolver: Resolver | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    param: str | None = None,
) -> FetchedContent:
    """GET ``url`` under ``policy`` and return at most ``max_bytes`` of body.

    ``transport`` is used as given and not closed (tests pass an ``httpx.MockTransport``); without
    one a fresh ``httpx.AsyncHTTPTransport`` is opened and closed around this call.
    """
    try:
        async with asyncio.timeout(policy.timeout):
            if transport is not None:
                return await _fetch(url, max_bytes, policy, resolver or resolve_host, transport, param)
            async with httpx.AsyncHTTPTransport(trust_env=False, retries=0) as own_transport:
                return await _fetch(url, max_bytes, policy, resolver or resolve_host, own_transport, param)
    except (TimeoutError, httpx.TimeoutException):
        raise _timeout_error(url, policy, param) from None
    except httpx.HTTPError as exc:  # read errors, protocol errors, bad content encoding
        raise InvalidRequest(
            f"Fetching the URL from {_host_of(url)} failed ({type(exc).__name__}); "
            "try again or upload the file directly",
            param=param,
            code="fetch_failed",
        ) from None


async def _fetch(
    url: str,
    max_bytes: int,
    policy: FetchPolicy,
    resolver: Resolver,
    transport: httpx.AsyncBaseTransport,
    param: str | None,
) -> FetchedContent:
    current = _parse(url, policy, param)
    for _ in range(policy.max_redirects + 1):
        checked = await _check(current, policy, resolver, param)
        response = await _send(transport, checked, policy, param)
        try:
            if response.status_code in _REDIRECT_STATUSES and "location" in response.headers:
                current = _redirect_target(current, response.headers["location"], policy, param)
                continue
            if not 200 <= response.status_code < 300:
                raise InvalidRequest(
                    f"Fetching the URL from {checked.host} failed: the server answered HTTP "
                    f"{response.status_code}; check that the URL is public and still valid",
                    param=param,
                    code="fetch_failed",
                )
            data = await _read_body(response, max_bytes, param)
            return FetchedContent(data=data, content_type=response.headers.get("content-type"), url=str(current))
        finally:
            await response.aclose()
    raise InvalidRequest(
        f"The URL redirected more than {policy.max_redirects} times; pass the final URL instead",
        param=param,
        code="fetch_failed",
    )


async def post_bytes(
    url: str,
    body: bytes,
    *,
    headers: dict[str, str],
    policy: FetchPolicy,
    resolver: Resolver | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    param: str | None = None,
) -> int:
    """POST ``body`` to ``url`` under ``policy`` (webhooks); return the HTTP status. Redirects are not
    followed (a 3xx is returned as is). Same checks and address pinning as ``fetch_url``; at most 64 KB
    of the response is read, and none of it is returned.
    """
    try:
        async with asyncio.timeout(policy.timeout):
            checked = await _check(_parse(url, policy, param), policy, resolver or resolve_host, param)
            if transport is not None:
                return await _post(transport, checked, policy, body, headers, param)
            async with httpx.AsyncHTTPTransport(trust_env=False, retries=0) as own_transport:
                return await _post(own_transport, checked, policy, body, headers, param)
    except (TimeoutError, httpx.TimeoutException):
        raise _timeout_error(url, policy, param) from None
    except httpx.HTTPError as exc:
        raise InvalidRequest(
            f"Sending to {_host_of(url)} failed ({type(exc).__name__})", param=param, code="fetch_failed"
        ) from None


async def _post(
    transport: httpx.AsyncBaseTransport,
    checked: _CheckedURL,
    policy: FetchPolicy,
    body: bytes,
    headers: dict[str, str],
    param: str | None,
) -> int:
    response = await _send(transport, checked, policy, param, method="POST", content=body, headers=headers)
    try:
        read = 0
        async for chunk in response.aiter_bytes():
            read += len(chunk)
            if read > 64 * 1024:
                break
        return response.status_code
    finally:
        await response.aclose()


# --- checking -------------------------------------------------------------------------------------


def _parse(url: str, policy: FetchPolicy, param: str | None) -> httpx.URL:
    """Scheme, credentials, host and port rules: everything decidable without the network."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise _refused("The URL is not a valid URL; send an absolute https:// URL", param) from None
    scheme = parsed.scheme
    if scheme == "http" and not policy.allow_http:
        raise _refused(
            "The URL uses http; Reelay only fetches https URLs (set REELAY_FETCH_ALLOW_HTTP for development)",
            param,
        )
    if scheme not in _DEFAULT_PORTS:
        raise _refused(f"The URL scheme {scheme or '(none)'!r} is not allowed; send an https:// URL", param)
    if parsed.userinfo or "@" in _raw_authority(url):
        raise _refused(
            "The URL contains credentials (user:password@); Reelay does not send them, "
            "use a URL that works without them (for example a pre-signed URL)",
            param,
        )
    if not parsed.raw_host:
        raise _refused("The URL has no host; send an absolute https:// URL", param)
    port = _port_of(parsed)
    if not 0 < port < 65536:
        raise _refused(f"The URL port {port} is not a valid port", param)
    if policy.allowed_ports is not None and port not in policy.allowed_ports:
        allowed = ", ".join(str(p) for p in sorted(policy.allowed_ports))
        raise _refused(f"The URL uses port {port}; only ports {allowed} are allowed", param)
    return parsed


def _port_of(url: httpx.URL) -> int:
    return url.port if url.port is not None else _DEFAULT_PORTS[url.scheme]


def _raw_authority(url: str) -> str:
    """The text between ``scheme://`` and the path, as written (before any parser normalizes it)."""
    _, sep, rest = url.partition("://")
    return re.split(r"[/?#\\]", rest, maxsplit=1)[0] if sep else ""


async def _check(url: httpx.URL, policy: FetchPolicy, resolver: Resolver, param: str | None) -> _CheckedURL:
    """Resolve ``url``'s host and refuse it unless every address is public or allowlisted."""
    host = url.raw_host.decode("ascii")
    allowlist = _allowlist(policy.allowed_hosts)
    allowed_by_name = allowlist.allows_name(host)
    try:
        literal = parse_ip_literal(host)
    except ValueError:
        raise _refused(f"The URL host {host} is not a valid IP address", param) from None
    if literal is None and not _HOST_NAME.match(host):
        raise _refused(f"The URL host {host[:100]!r} is not a valid host name", param)
    if literal is None:
        _check_name_lengths(host, param)
    if literal is None and not allowed_by_name and is_blocked_host_name(host):
        raise _refused(f"The URL host {host} is a local or cloud-metadata name; {_ALLOW_HOSTS_HINT}", param)
    if literal is not None:
        addresses: tuple[IPAddress, ...] = (literal,)
    else:
        addresses = await _resolve(resolver, host, _port_of(url), param)
    for address in addresses:
        if allowed_by_name or allowlist.allows_address(address):
            continue
        reason = non_public_reason(address)
        if reason is not None:
            if literal is None:
                why = f"resolves to {reason} {address}"
            else:
                why = f"is {reason}" + ("" if str(address) == host else f" ({address})")
            raise _refused(f"The URL host {host} {why}; {_ALLOW_HOSTS_HINT}", param)
    return _CheckedURL(url=url, host=host, addresses=addresses, is_ip_literal=literal is not None)


async def _resolve(resolver: Resolver, host: str, port: int, param: str | None) -> tuple[IPAddress, ...]:
    try:
        answers = await resolver(host, port)
    except OSError:  # socket.gaierror and friends
        answers = []
    except UnicodeError:  # the resolver's IDNA encoding refused the name (e.g. an empty label)
        raise _invalid_url(f"The URL host {host[:100]!r} is not a valid host name", param) from None
    addresses: list[IPAddress] = []
    for answer in answers:
        try:
            addresses.append(ipaddress.ip_address(answer))
        except ValueError:
            raise _refused(f"The URL host {host} resolved to something that is not an IP address", param) from None
    if not addresses:
        raise InvalidRequest(
            f"The URL host {host} could not be resolved; check the URL", param=param, code="fetch_failed"
        )
    return tuple(dict.fromkeys(addresses))


def _check_name_lengths(host: str, param: str | None) -> None:
    """DNS limits (RFC 1035): labels of 1-63 characters, 253 in all. Checked here, because the
    resolver's IDNA codec refuses longer ones with a ``UnicodeError`` instead of an ``OSError``."""
    name = host[:-1] if host.endswith(".") else host
    if len(name) > 253:
        raise _invalid_url(f"The URL host is {len(name)} characters long; a host name has at most 253", param)
    for label in name.split("."):
        if not 0 < len(label) <= 63:
            raise _invalid_url(
                f"The URL host {host[:100]!r} has a label of {len(label)} characters; labels have 1 to 63",
                param,
            )


@functools.lru_cache(maxsize=32)
def _allowlist(entries: frozenset[str]) -> Allowlist:
    return Allowlist.parse(entries)


def _redirect_target(current: httpx.URL, location: str, policy: FetchPolicy, param: str | None) -> httpx.URL:
    try:
        target = current.join(location).copy_with(fragment=None)
    except (httpx.InvalidURL, ValueError):
        raise _refused("The URL redirected to an invalid Location", param) from None
    if current.scheme == "https" and target.scheme == "http" and not policy.allow_http:
        raise _refused("The URL redirected from https to http; Reelay does not follow downgrades", param)
    return _parse(str(target), policy, param)


# --- sending and reading --------------------------------------------------------------------------


async def _send(
    transport: httpx.AsyncBaseTransport,
    checked: _CheckedURL,
    policy: FetchPolicy,
    param: str | None,
    *,
    method: str = "GET",
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Send the request to each checked address in turn until one connects."""
    failure = ""
    for address in checked.addresses:
        request = _build_request(checked, address, policy, method=method, content=content, headers=headers)
        try:
            return await transport.handle_async_request(request)
        except httpx.ConnectError as exc:
            failure = str(exc)[:200]
    raise InvalidRequest(
        f"Could not connect to {checked.host} ({failure or 'connection refused'}); "
        "check that the URL is reachable from the internet",
        param=param,
        code="fetch_failed",
    )


def _build_request(
    checked: _CheckedURL,
    address: IPAddress,
    policy: FetchPolicy,
    *,
    method: str = "GET",
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Request:
    """The request goes to ``address``; Host header and SNI keep the name, so nothing re-resolves it."""
    extensions: dict[str, object] = {"timeout": httpx.Timeout(policy.timeout).as_dict()}
    if checked.url.scheme == "https" and not checked.is_ip_literal:
        extensions["sni_hostname"] = checked.host.rstrip(".")
    pinned = httpx.Headers(
        {
            "Host": checked.url.netloc.decode("ascii"),
            "User-Agent": _USER_AGENT,
            "Accept": "*/*",
            "Accept-Encoding": "identity",  # so Content-Length is the size we will read
        }
    )
    for name, value in (headers or {}).items():
        pinned[name] = value  # case-insensitive: a caller's user-agent replaces ours, never joins it
    url = checked.url.copy_with(host=str(address), fragment=None)
    return httpx.Request(method, url, headers=pinned, content=content, extensions=extensions)


async def _read_body(response: httpx.Response, max_bytes: int, param: str | None) -> bytes:
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise _too_large(max_bytes, param)
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(max_bytes, param)
    return bytes(body)


# --- data: URIs -----------------------------------------------------------------------------------

_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_BASE64_CHARS = re.compile(r"^[A-Za-z0-9+/\-_]*={0,2}$")


def decode_data_uri(uri: str, *, max_bytes: int, param: str | None = None) -> tuple[bytes, str]:
    """``data:[<mime>][;params][;base64],<data>`` → ``(bytes, mime)``; mime is lower-case, without params.

    Base64 (standard or URL-safe, padding optional, whitespace ignored) and percent-encoded payloads.
    The encoded length is checked before decoding, so an oversized string is refused without work.
    """
    if not uri[:5].lower() == "data:":
        raise _malformed("does not start with data:", param)
    header, comma, payload = uri[5:].partition(",")
    if not comma:
        raise _malformed("has no comma between the media type and the data", param)
    params = [p.strip() for p in header.split(";")]
    is_base64 = len(params) > 1 and params[-1].lower() == "base64"
    mime = params[0].lower() or "text/plain"
    if not _MIME.match(mime):
        raise _malformed(f"has an invalid media type {params[0][:50]!r}", param)
    if is_base64:
        if (len(payload) - len(payload) // 50) // 4 * 3 > max_bytes + 3:  # 2% slack for line breaks
            raise _too_large(max_bytes, param, what="The data URI")
        data = _decode_base64(payload, param)
    else:
        if len(payload) > 3 * max_bytes:  # each byte takes at most 3 characters (%XX)
            raise _too_large(max_bytes, param, what="The data URI")
        if _BAD_PERCENT.search(payload):
            raise _malformed("has a % that is not followed by two hex digits", param)
        data = urllib.parse.unquote_to_bytes(payload)
    if len(data) > max_bytes:
        raise _too_large(max_bytes, param, what="The data URI")
    return data, mime


def _decode_base64(payload: str, param: str | None) -> bytes:
    compact = "".join(payload.split())
    if not _BASE64_CHARS.match(compact) or len(compact.rstrip("=")) % 4 == 1:
        raise _malformed("is not valid base64", param)
    compact = compact.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise _malformed("is not valid base64", param) from None


# --- errors ---------------------------------------------------------------------------------------


def _refused(message: str, param: str | None) -> InvalidRequest:
    return InvalidRequest(message, param=param, code="url_not_allowed")


def _invalid_url(message: str, param: str | None) -> InvalidRequest:
    return InvalidRequest(message, param=param, code="invalid_url")


def _malformed(why: str, param: str | None) -> InvalidRequest:
    return InvalidRequest(f"The data URI {why}; send data:<mime>;base64,<data> or an https:// URL", param=param)


def _host_of(url: str) -> str:
    try:
        return httpx.URL(url).host or "the server"
    except (httpx.InvalidURL, TypeError):
        return "the server"


def _timeout_error(url: str, policy: FetchPolicy, param: str | None) -> InvalidRequest:
    return InvalidRequest(
        f"Fetching the URL from {_host_of(url)} took longer than {policy.timeout:g} s; "
        "use a faster host or upload the file directly",
        param=param,
        code="fetch_timeout",
    )


def _too_large(max_bytes: int, param: str | None, *, what: str = "The remote file") -> PayloadTooLarge:
    return PayloadTooLarge(
        f"{what} is larger than the {_megabytes(max_bytes)} limit; send a smaller or more compressed file",
        param=param,
    )


def _megabytes(n: int) -> str:
    mb = n / (1024 * 1024)
    return f"{mb:g} MB" if mb == round(mb, 2) else f"{mb:.2f} MB ({n} bytes)"
