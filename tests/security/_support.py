"""Test doubles for the fetcher tests: a stub resolver and a transport that records (or forbids) requests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest


def stub_resolver(table: dict[str, list[str]]) -> Callable[[str, int], Awaitable[list[str]]]:
    """A resolver that answers from ``table`` and fails the test for any other name."""

    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            pytest.fail(f"resolver was asked for {host!r}, which the test did not expect")
        return list(table[host])

    return resolve


@dataclass
class RecordingTransport:
    """An ``httpx.MockTransport`` that records requests; with no handler, any request fails the test."""

    handler: Callable[[httpx.Request], httpx.Response] | None = None
    requests: list[httpx.Request] = field(default_factory=list)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.handler is None:
            pytest.fail(f"a request was sent although the URL should have been refused: {request.url}")
        return self.handler(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)
