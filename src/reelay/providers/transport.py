"""The HTTP client every provider adapter shares: httpx's API over aiohttp's connection pool.

The relay polls thousands of upstream jobs a minute through this client. httpcore's pool (httpx's
default transport) looks at every pooled connection on each request and each release, so its cost
per request grows with the polls in flight: 1.2 ms of CPU per GET at 64 in flight on this project's
2-vCPU machine, against 0.26 ms for the same GET through aiohttp's pool (``bench/poller.py``,
docs/benchmarks.md). ``httpx-aiohttp`` is the transport the OpenAI Python SDK ships for the same
reason; adapters keep httpx's requests, responses and errors. A plain GET (every poll) skips httpx's
client layer too (URL merging, cookies, auth and redirect flows: a third of a poll's cost) and goes
straight to the same aiohttp session; it still answers an ``httpx.Response``.

aiohttp loads on the first provider request, so a gateway that serves only local models, and every
start-up, go without it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    import aiohttp
    from httpx_aiohttp import AiohttpTransport

TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class ProviderTransport(httpx.AsyncBaseTransport):
    """aiohttp's pool, made on first use; every aiohttp failure comes out as an httpx error."""

    def __init__(self, max_connections: int) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._inner: AiohttpTransport | None = None

    def _transport(self) -> AiohttpTransport:
        if self._inner is None:
            import aiohttp
            from httpx_aiohttp import AiohttpTransport

            connector = aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=5.0)
            # No cookie jar: one session serves every provider, and none needs cookies.
            self._session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
            self._inner = AiohttpTransport(trust_env=False, client=self._session)
        return self._inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._transport()
        with _as_httpx_errors(request):
            return await transport.handle_async_request(request)

    async def get(self, url: str, headers: Mapping[str, str], timeout: httpx.Timeout) -> httpx.Response:
        """A whole GET (redirects followed, body read) without httpx's client layer: the polls."""
        import aiohttp

        self._transport()
        assert self._session is not None
        limits = aiohttp.ClientTimeout(sock_connect=timeout.connect, sock_read=timeout.read)
        with _as_httpx_errors(None):
            # httpx decodes any Content-Encoding when it reads ``content``: aiohttp leaves the body as sent.
            async with self._session.get(url, headers=headers, timeout=limits, auto_decompress=False) as answer:
                body = await answer.read()
                return httpx.Response(answer.status, headers=answer.raw_headers, content=body)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()  # closes the session
            self._inner = self._session = None


@contextlib.contextmanager
def _as_httpx_errors(request: httpx.Request | None) -> Iterator[None]:
    """aiohttp's failures as the httpx errors ``providers.http`` maps: timeouts as timeouts, the rest
    (refused, reset, cut short, malformed) as transport errors."""
    import aiohttp

    try:
        yield
    except httpx.HTTPError:
        raise
    except (TimeoutError, aiohttp.ServerTimeoutError) as error:
        raise httpx.TimeoutException(str(error) or "timed out", request=request) from error
    except (aiohttp.ClientError, OSError) as error:
        raise httpx.TransportError(f"{type(error).__name__}: {error}", request=request) from error


class ProviderClient(httpx.AsyncClient):
    """The shared client, with a handle on its transport for the lean GET path."""

    def __init__(self, transport: ProviderTransport) -> None:
        # No proxy or netrc from the environment (provider URLs are configured); redirects followed
        # (output links often redirect to a CDN).
        super().__init__(timeout=TIMEOUT, follow_redirects=True, trust_env=False, transport=transport)
        self.provider_transport = transport


def provider_client(max_connections: int) -> ProviderClient:
    return ProviderClient(ProviderTransport(max_connections))


__all__ = ["ProviderClient", "ProviderTransport", "provider_client"]
