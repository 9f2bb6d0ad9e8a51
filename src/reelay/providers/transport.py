"""The HTTP client every provider adapter shares: httpx's API over aiohttp's connection pool.

The relay polls thousands of upstream jobs a minute through this client. httpcore's pool (httpx's
default transport) looks at every pooled connection on each request and each release, so its cost
per request grows with the polls in flight: 1.2 ms of CPU per GET at 64 in flight on this project's
2-vCPU machine, against 0.26 ms for the same GET through aiohttp's pool (``bench/poller.py``,
docs/benchmarks.md). ``httpx-aiohttp`` is the transport the OpenAI Python SDK ships for the same
reason; adapters keep httpx's requests, responses and errors.

aiohttp loads on the first provider request, so a gateway that serves only local models, and every
start-up, go without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from httpx_aiohttp import AiohttpTransport

TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class ProviderTransport(httpx.AsyncBaseTransport):
    """aiohttp's pool, made on first use; every aiohttp failure comes out as an httpx error."""

    def __init__(self, max_connections: int) -> None:
        self._limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._inner: AiohttpTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import aiohttp
        from httpx_aiohttp import AiohttpTransport

        if self._inner is None:
            self._inner = AiohttpTransport(trust_env=False, limits=self._limits)
        try:
            return await self._inner.handle_async_request(request)
        except httpx.HTTPError:
            raise
        except TimeoutError as error:
            raise httpx.TimeoutException(str(error) or "timed out", request=request) from error
        except (aiohttp.ClientError, OSError) as error:  # one the transport's own map does not name
            raise httpx.TransportError(f"{type(error).__name__}: {error}", request=request) from error

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()
            self._inner = None


def provider_client(max_connections: int) -> httpx.AsyncClient:
    """The shared client: no proxy or netrc from the environment (provider URLs are configured),
    redirects followed (output links often redirect to a CDN)."""
    return httpx.AsyncClient(
        timeout=TIMEOUT,
        follow_redirects=True,
        trust_env=False,
        transport=ProviderTransport(max_connections),
    )


__all__ = ["ProviderTransport", "provider_client"]
