"""fetch_url against a real HTTP server on 127.0.0.1 (ephemeral port, in a thread): loopback sockets only."""

from __future__ import annotations

import pytest

from reelay.errors import InvalidRequest, PayloadTooLarge
from reelay.security.fetch import FetchPolicy, fetch_url

from ._support import stub_resolver
from .conftest import LoopbackServer

DEV = FetchPolicy(allow_http=True, allowed_hosts=frozenset({"127.0.0.1"}), timeout=5.0)


async def test_fetch_succeeds(loopback_server: LoopbackServer) -> None:
    result = await fetch_url(f"{loopback_server.base}/ok", max_bytes=1000, policy=DEV)
    assert result.data == b"hello loopback"
    assert result.content_type == "text/plain"
    assert result.url == f"{loopback_server.base}/ok"
    assert loopback_server.hits[-1] == ("/ok", f"127.0.0.1:{loopback_server.server_address[1]}")


async def test_redirect_chain_is_followed(loopback_server: LoopbackServer) -> None:
    before = len(loopback_server.hits)
    result = await fetch_url(f"{loopback_server.base}/redirect/3", max_bytes=1000, policy=DEV)
    assert result.data == b"hello loopback"
    assert result.url == f"{loopback_server.base}/ok"
    assert [path for path, _ in loopback_server.hits[before:]] == [
        "/redirect/3",
        "/redirect/2",
        "/redirect/1",
        "/ok",
    ]


async def test_redirect_chain_longer_than_limit_fails(loopback_server: LoopbackServer) -> None:
    policy = FetchPolicy(allow_http=True, allowed_hosts=frozenset({"127.0.0.1"}), max_redirects=2)
    with pytest.raises(InvalidRequest) as caught:
        await fetch_url(f"{loopback_server.base}/redirect/3", max_bytes=1000, policy=policy)
    assert caught.value.code == "fetch_failed"


async def test_redirect_to_private_address_is_refused(loopback_server: LoopbackServer) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await fetch_url(f"{loopback_server.base}/redirect-private", max_bytes=1000, policy=DEV)
    assert caught.value.code == "url_not_allowed"
    assert "10.0.0.1" in caught.value.message


async def test_body_over_limit_with_content_length(loopback_server: LoopbackServer) -> None:
    with pytest.raises(PayloadTooLarge):
        await fetch_url(f"{loopback_server.base}/big", max_bytes=1000, policy=DEV)


async def test_body_over_limit_chunked(loopback_server: LoopbackServer) -> None:
    with pytest.raises(PayloadTooLarge):
        await fetch_url(f"{loopback_server.base}/chunked", max_bytes=1000, policy=DEV)
    result = await fetch_url(f"{loopback_server.base}/chunked", max_bytes=5000, policy=DEV)
    assert result.data == b"y" * 5000


async def test_slow_server_trips_the_timeout(loopback_server: LoopbackServer) -> None:
    # The server answers "late" after 2 s: without the 0.3 s timeout this fetch would succeed, so the
    # error itself proves the timeout tripped (no wall-clock assertion, which a loaded machine breaks).
    policy = FetchPolicy(allow_http=True, allowed_hosts=frozenset({"127.0.0.1"}), timeout=0.3)
    with pytest.raises(InvalidRequest) as caught:
        await fetch_url(f"{loopback_server.base}/slow", max_bytes=1000, policy=policy)
    assert caught.value.code == "fetch_timeout"


async def test_trickling_body_trips_the_total_deadline(loopback_server: LoopbackServer) -> None:
    # One byte every 50 ms never trips the per-read timeout; the whole-fetch deadline must. The body
    # completes after 5 s, so a fetch without that deadline succeeds: the error is the evidence.
    policy = FetchPolicy(allow_http=True, allowed_hosts=frozenset({"127.0.0.1"}), timeout=0.5)
    with pytest.raises(InvalidRequest) as caught:
        await fetch_url(f"{loopback_server.base}/drip", max_bytes=1000, policy=policy)
    assert caught.value.code == "fetch_timeout"


async def test_not_found_is_fetch_failed(loopback_server: LoopbackServer) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await fetch_url(f"{loopback_server.base}/missing", max_bytes=1000, policy=DEV)
    assert caught.value.code == "fetch_failed"
    assert "404" in caught.value.message
    assert "SECRET" not in caught.value.message


async def test_without_allowlist_loopback_is_refused_before_connecting(
    loopback_server: LoopbackServer,
) -> None:
    before = len(loopback_server.hits)
    for policy in (FetchPolicy(allow_http=True), FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"}))):
        with pytest.raises(InvalidRequest) as caught:
            await fetch_url(f"{loopback_server.base}/ok", max_bytes=1000, policy=policy)
        assert caught.value.code == "url_not_allowed"
    assert len(loopback_server.hits) == before


async def test_allowlisted_name_falls_back_to_the_next_address(loopback_server: LoopbackServer) -> None:
    # 127.0.0.2 is loopback but nothing listens there, so the fetch moves on to 127.0.0.1
    port = loopback_server.server_address[1]
    policy = FetchPolicy(allow_http=True, allowed_hosts=frozenset({"localhost"}))
    result = await fetch_url(
        f"http://localhost:{port}/ok",
        max_bytes=1000,
        policy=policy,
        resolver=stub_resolver({"localhost": ["127.0.0.2", "127.0.0.1"]}),
    )
    assert result.data == b"hello loopback"
    assert loopback_server.hits[-1] == ("/ok", f"localhost:{port}")
