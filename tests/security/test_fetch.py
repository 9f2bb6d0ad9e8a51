"""fetch_url / check_url against stubbed resolvers and httpx.MockTransport: no socket is ever opened.

Every refusal also proves that nothing was sent: the transport fails the test if it is used at all.
"""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from reelay.errors import InvalidRequest, PayloadTooLarge
from reelay.security.fetch import FetchPolicy, check_url, fetch_url

from ._support import RecordingTransport, stub_resolver

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V4_B = "93.184.216.35"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"
HTTPS = FetchPolicy()
DEV_HTTP = FetchPolicy(allow_http=True)

NON_PUBLIC = [
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "127.0.0.1",
    "::1",
    "169.254.169.254",
    "169.254.170.2",
    "100.100.100.200",
    "fd00:ec2::254",
    "100.64.0.1",
    "0.0.0.0",
    "255.255.255.255",
    "224.0.0.1",
    "240.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:127.0.0.1",
    "fe80::1",
    "fec0::1",
    "fc00::1",
    "ff02::1",
    "::",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
]


def _literal_url(ip: str) -> str:
    return f"https://[{ip}]/x" if ":" in ip else f"https://{ip}/x"


async def _refused(url: str, *, policy: FetchPolicy = HTTPS, table: dict[str, list[str]] | None = None) -> str:
    """Assert ``url`` is refused with url_not_allowed and that no request was sent; return the message."""
    recorder = RecordingTransport()
    with pytest.raises(InvalidRequest) as caught:
        await fetch_url(
            url,
            max_bytes=1000,
            policy=policy,
            resolver=stub_resolver(table or {}),
            transport=recorder.transport,
            param="input_reference",
        )
    assert caught.value.code == "url_not_allowed", caught.value.message
    assert caught.value.param == "input_reference"
    assert recorder.requests == []
    return caught.value.message


@pytest.mark.parametrize("ip", NON_PUBLIC)
async def test_ip_literal_of_non_public_address_is_refused_without_resolving(ip: str) -> None:
    message = await _refused(_literal_url(ip))  # the empty stub table fails the test if resolution happens
    assert "REELAY_FETCH_ALLOW_HOSTS" in message


@pytest.mark.parametrize("ip", NON_PUBLIC)
async def test_name_resolving_to_non_public_address_is_refused(ip: str) -> None:
    message = await _refused("https://media.example.com/x", table={"media.example.com": [ip]})
    assert "resolves to" in message


@pytest.mark.parametrize(
    ("url", "policy", "table"),
    [
        ("https://mixed.example.com/a.png", HTTPS, {"mixed.example.com": [PUBLIC_V4, "10.0.0.5"]}),
        ("http://2130706433/", DEV_HTTP, {}),  # decimal 127.0.0.1
        ("https://0x7f.1/", HTTPS, {}),
        ("https://0177.0.0.1/", HTTPS, {}),
        ("https://127.1/", HTTPS, {}),
        ("https://0xa9fea9fe/latest/meta-data/", HTTPS, {}),  # 169.254.169.254
        ("https://256.1.1.1/", HTTPS, {}),  # numeric but not an address: never handed to a resolver
        ("https://metadata.google.internal/computeMetadata/v1/", HTTPS, {}),
        ("https://metadata/", HTTPS, {}),
        ("https://localhost/", HTTPS, {}),
        ("https://LOCALHOST./", HTTPS, {}),
        ("https://api.localhost/", HTTPS, {}),
        ("https://user:secret@media.example.com/a.png", HTTPS, {}),
        ("https://user@media.example.com/a.png", HTTPS, {}),
        ("https://@media.example.com/a.png", HTTPS, {}),
        ("ftp://media.example.com/a.png", HTTPS, {}),
        ("file:///etc/passwd", HTTPS, {}),
        ("gopher://media.example.com:70/_x", HTTPS, {}),
        ("http://media.example.com/a.png", HTTPS, {}),  # http when not allowed
        ("//media.example.com/a.png", HTTPS, {}),
        ("https:///a.png", HTTPS, {}),
        ("not a url", HTTPS, {}),
        ("https://media.example.com:8443/a.png", FetchPolicy(allowed_ports=frozenset({443})), {}),
    ],
)
async def test_refusal_table(url: str, policy: FetchPolicy, table: dict[str, list[str]]) -> None:
    await _refused(url, policy=policy, table=table)


async def test_refusal_message_says_why_and_what_to_do() -> None:
    message = await _refused("https://mixed.example.com/", table={"mixed.example.com": [PUBLIC_V4, "10.0.0.5"]})
    assert "resolves to a private address 10.0.0.5" in message
    assert "Reelay only fetches public URLs (set REELAY_FETCH_ALLOW_HOSTS for development)" in message
    assert "metadata address" in await _refused("https://169.254.169.254/")


async def test_success_connects_to_the_checked_ip_with_original_host_and_sni() -> None:
    recorder = RecordingTransport(
        lambda r: httpx.Response(200, content=b"\x89PNG", headers={"Content-Type": "image/png"})
    )
    result = await fetch_url(
        "https://media.example.com/cat.png?size=large",
        max_bytes=1000,
        policy=HTTPS,
        resolver=stub_resolver({"media.example.com": [PUBLIC_V4]}),
        transport=recorder.transport,
    )
    assert result.data == b"\x89PNG"
    assert result.content_type == "image/png"
    assert result.url == "https://media.example.com/cat.png?size=large"
    [request] = recorder.requests
    assert request.url.scheme == "https"
    assert request.url.host == PUBLIC_V4
    assert request.url.raw_path == b"/cat.png?size=large"
    assert request.headers["host"] == "media.example.com"
    assert request.extensions["sni_hostname"] == "media.example.com"


async def test_ipv6_address_and_explicit_port_keep_host_header() -> None:
    recorder = RecordingTransport(lambda r: httpx.Response(200, content=b"ok"))
    await fetch_url(
        "https://media.example.com:8443/v.mp4",
        max_bytes=1000,
        policy=HTTPS,
        resolver=stub_resolver({"media.example.com": [PUBLIC_V6]}),
        transport=recorder.transport,
    )
    [request] = recorder.requests
    assert request.url.host == PUBLIC_V6
    assert request.url.port == 8443
    assert request.headers["host"] == "media.example.com:8443"


async def test_public_ip_literal_is_fetched_without_sni_override() -> None:
    recorder = RecordingTransport(lambda r: httpx.Response(200, content=b"ok"))
    await fetch_url(
        f"https://{PUBLIC_V4}/a",
        max_bytes=10,
        policy=HTTPS,
        resolver=stub_resolver({}),
        transport=recorder.transport,
    )
    [request] = recorder.requests
    assert request.url.host == PUBLIC_V4
    assert "sni_hostname" not in request.extensions


async def test_next_address_is_tried_when_the_first_does_not_connect() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == PUBLIC_V4:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, content=b"second")

    recorder = RecordingTransport(handler)
    result = await fetch_url(
        "https://media.example.com/",
        max_bytes=10,
        policy=HTTPS,
        resolver=stub_resolver({"media.example.com": [PUBLIC_V4, PUBLIC_V4_B]}),
        transport=recorder.transport,
    )
    assert result.data == b"second"
    assert [r.url.host for r in recorder.requests] == [PUBLIC_V4, PUBLIC_V4_B]


async def test_no_address_connects_is_fetch_failed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(InvalidRequest) as caught:
        await fetch_url(
            "https://media.example.com/",
            max_bytes=10,
            policy=HTTPS,
            resolver=stub_resolver({"media.example.com": [PUBLIC_V4]}),
            transport=RecordingTransport(handler).transport,
        )
    assert caught.value.code == "fetch_failed"


# --- redirects --------------------------------------------------------------------------------------


async def test_redirect_to_metadata_address_is_refused_before_following() -> None:
    recorder = RecordingTransport(
        lambda r: httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    )
    with pytest.raises(InvalidRequest) as caught:
        await fetch_url(
            "https://media.example.com/a.png",
            max_bytes=1000,
            policy=DEV_HTTP,
            resolver=stub_resolver({"media.example.com": [PUBLIC_V4]}),
            transport=recorder.transport,
        )
    assert caught.value.code == "url_not_allowed"
    assert "169.254.169.254" in caught.value.message
    assert len(recorder.requests) == 1


async def test_redirect_to_name_resolving_private_is_refused() -> None:
    recorder = RecordingTransport(lambda r: httpx.Response(307, headers={"Location": "https://evil.example.net/"}))
    with pytest.raises(InvalidRequest) as caught:
        await fetch_url(
            "https://media.example.com/",
            max_bytes=1000,
            policy=HTTPS,
            resolver=stub_resolver({"media.example.com": [PUBLIC_V4], "evil.example.net": ["10.1.2.3"]}),
            transport=recorder.transport,
        )
    assert caught.value.code == "url_not_allowed"
    assert len(recorder.requests) == 1


async def test_relative_and_cross_host_redirects_are_followed_and_rechecked() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["host"] == "media.example.com" and request.url.path.endswith("/start"):
            return httpx.Response(301, headers={"Location": "next?x=1#frag"})
        if request.headers["host"] == "media.example.com":
            return httpx.Response(302, headers={"Location": "https://cdn.example.org/final.mp4"})
        return httpx.Response(200, content=b"video", headers={"Content-Type": "video/mp4"})

    recorder = RecordingTransport(handler)
    result = await fetch_url(
        "https://media.example.com/dir/start",
        max_bytes=1000,
        policy=HTTPS,
        resolver=stub_resolver({"media.example.com": [PUBLIC_V4], "cdn.example.org": [PUBLIC_V4_B]}),
        transport=recorder.transport,
    )
    assert result.data == b"video"
    assert result.url == "https://cdn.example.org/final.mp4"
    assert [(str(r.url), r.headers["host"]) for r in recorder.requests] == [
        (f"https://{PUBLIC_V4}/dir/start", "media.example.com"),
        (f"https://{PUBLIC_V4}/dir/next?x=1", "media.example.com"),
        (f"https://{PUBLIC_V4_B}/final.mp4", "cdn.example.org"),
    ]
    assert recorder.requests[2].extensions["sni_hostname"] == "cdn.example.org"


async def test_https_to_http_downgrade_is_refused_by_default_and_allowed_in_dev() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https":
            return httpx.Response(302, headers={"Location": "http://media.example.com/plain"})
        return httpx.Response(200, content=b"plain")

    resolver = stub_resolver({"media.example.com": [PUBLIC_V4]})
    recorder = RecordingTransport(handler)
    with pytest.raises(InvalidRequest) as caught:
        await fetch_url(
            "https://media.example.com/",
            max_bytes=100,
            policy=HTTPS,
            resolver=resolver,
            transport=recorder.transport,
        )
    assert caught.value.code == "url_not_allowed"
    assert len(recorder.requests) == 1
    result = await fetch_url(
        "https://media.example.com/",
        max_bytes=100,
        policy=DEV_HTTP,
        resolver=resolver,
        transport=RecordingTransport(handler).transport,
    )
    assert result.data == b"plain"


async def test_too_many_redirects_is_fetch_failed() -> None:
    recorder = RecordingTransport(lambda r: httpx.Response(302, headers={"Location": "/again"}))
    with pytest.raises(InvalidRequest) as caught:
        await fetch_url(
            "https://media.example.com/",
            max_bytes=100,
            policy=FetchPolicy(max_redirects=2),
            resolver=stub_resolver({"media.example.com": [PUBLIC_V4]}),
            transport=recorder.transport,
        )
    assert caught.value.code == "fetch_failed"
    assert len(recorder.requests) == 3


# --- status, size, time -----------------------------------------------------------------------------


async def test_upstream_error_status_is_fetch_failed_without_body() -> None:
    recorder = RecordingTransport(lambda r: httpx.Response(500, content=b"SECRET stack trace"))
    with pytest.raises(InvalidRequest) as caught:
        await fetch_url(
            "https://media.example.com/",
            max_bytes=100,
            policy=HTTPS,
            resolver=stub_resolver({"media.example.com": [PUBLIC_V4]}),
            transport=recorder.transport,
        )
    assert caught.value.code == "fetch_failed"
    assert "500" in caught.value.message
    assert "SECRET" not in caught.value.message


async def test_content_length_over_limit_is_refused_before_reading() -> None:
    # the declared length is over the limit but the body is empty: only the header check can refuse it
    recorder = RecordingTransport(
        lambda r: httpx.Response(200, headers={"Content-Length": str(30 * 1024 * 1024)}, content=b"")
    )
    with pytest.raises(PayloadTooLarge) as caught:
        await fetch_url(
            "https://media.example.com/",
            max_bytes=20 * 1024 * 1024,
            policy=HTTPS,
            resolver=stub_resolver({"media.example.com": [PUBLIC_V4]}),
            transport=recorder.transport,
        )
    assert "larger than the 20 MB limit" in caught.value.message
    assert caught.value.param is None


async def test_streamed_body_over_limit_is_refused() -> None:
    async def chunks() -> object:
        for _ in range(100):
            yield b"x" * 100

    recorder = RecordingTransport(lambda r: httpx.Response(200, content=chunks()))  # type: ignore[arg-type]
    with pytest.raises(PayloadTooLarge):
        await fetch_url(
            "https://media.example.com/",
            max_bytes=1024,
            policy=HTTPS,
            resolver=stub_resolver({"media.example.com": [PUBLIC_V4]}),
            transport=recorder.transport,
        )


async def test_limit_message_names_megabytes() -> None:
    recorder = RecordingTransport(lambda r: httpx.Response(200, content=b"x" * 100))
    with pytest.raises(PayloadTooLarge) as caught:
        await fetch_url(
            "https://media.example.com/",
            max_bytes=50,
            policy=HTTPS,
            resolver=stub_resolver({"media.example.com": [PUBLIC_V4]}),
            transport=recorder.transport,
        )
    assert "limit" in caught.value.message and "MB" in caught.value.message


async def test_transport_timeout_is_fetch_timeout() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(InvalidRequest) as caught:
        await fetch_url(
            "https://media.example.com/",
            max_bytes=10,
            policy=HTTPS,
            resolver=stub_resolver({"media.example.com": [PUBLIC_V4]}),
            transport=RecordingTransport(handler).transport,
        )
    assert caught.value.code == "fetch_timeout"


async def test_total_deadline_covers_resolution() -> None:
    async def slow_resolver(host: str, port: int) -> list[str]:
        await asyncio.sleep(5)
        return [PUBLIC_V4]

    recorder = RecordingTransport()
    for call in (
        fetch_url(
            "https://media.example.com/",
            max_bytes=10,
            policy=FetchPolicy(timeout=0.1),
            resolver=slow_resolver,
            transport=recorder.transport,
        ),
        check_url("https://media.example.com/", policy=FetchPolicy(timeout=0.1), resolver=slow_resolver),
    ):
        with pytest.raises(InvalidRequest) as caught:
            await call
        assert caught.value.code == "fetch_timeout"
    assert recorder.requests == []


async def test_resolution_failure_is_fetch_failed() -> None:
    async def failing_resolver(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(InvalidRequest) as caught:
        await check_url("https://nowhere.example.com/", policy=HTTPS, resolver=failing_resolver)
    assert caught.value.code == "fetch_failed"


# --- check_url --------------------------------------------------------------------------------------


async def test_check_url_returns_the_allowed_addresses() -> None:
    resolver = stub_resolver({"hooks.example.com": [PUBLIC_V4, PUBLIC_V6, PUBLIC_V4]})
    assert await check_url("https://hooks.example.com/cb", policy=HTTPS, resolver=resolver) == [
        PUBLIC_V4,
        PUBLIC_V6,
    ]


async def test_check_url_refuses_like_fetch() -> None:
    with pytest.raises(InvalidRequest) as caught:
        await check_url(
            "https://hooks.example.com/cb",
            policy=HTTPS,
            param="webhook_url",
            resolver=stub_resolver({"hooks.example.com": ["192.168.0.10"]}),
        )
    assert caught.value.code == "url_not_allowed"
    assert caught.value.param == "webhook_url"


# --- allowlist --------------------------------------------------------------------------------------


async def test_allowlist_by_cidr_name_and_ip() -> None:
    resolver = stub_resolver({"minio.internal.test": ["10.1.2.3"], "localhost": ["127.0.0.1", "::1"]})
    cidr = FetchPolicy(allowed_hosts=frozenset({"10.0.0.0/8"}))
    assert await check_url("https://minio.internal.test/", policy=cidr, resolver=resolver) == ["10.1.2.3"]
    by_name = FetchPolicy(allowed_hosts=frozenset({"localhost"}))
    assert await check_url("https://localhost/", policy=by_name, resolver=resolver) == ["127.0.0.1", "::1"]
    by_ip = FetchPolicy(allowed_hosts=frozenset({"::1", "[::1]"}))
    assert await check_url("https://[::1]/", policy=by_ip, resolver=resolver) == ["::1"]
    # an allowlisted IP does not re-allow the name localhost, nor other addresses
    await _refused("https://localhost/", policy=by_ip, table={})
    await _refused("https://[::2]/", policy=by_ip)


async def test_broad_cidr_does_not_reallow_metadata_but_exact_ip_does() -> None:
    broad = FetchPolicy(allowed_hosts=frozenset({"169.254.0.0/16"}))
    assert await check_url("https://169.254.1.1/", policy=broad) == ["169.254.1.1"]
    await _refused("https://169.254.169.254/", policy=broad)
    exact = FetchPolicy(allowed_hosts=frozenset({"169.254.169.254"}))
    assert await check_url("https://169.254.169.254/", policy=exact) == ["169.254.169.254"]


@pytest.mark.parametrize(
    "url",
    [
        "https://%31%32%37.0.0.1/",
        "https://127.0.0.1%00.media.example.com/",
        "https://127。0。0。1/",  # IDNA maps ideographic full stops to dots
        "https://[::ffff:7f00:1]/",
        "https://media.example.com\\@10.0.0.1/",
        "https://media.example.com:0/",
        "https://media.example.com:99999/",
    ],
)
async def test_odd_spellings_are_refused(url: str) -> None:
    await _refused(url)
