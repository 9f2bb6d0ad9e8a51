"""A lean open-loop HTTP/1.1 GET generator for the benchmarks, so the client is not the bottleneck.

httpx costs about a millisecond of CPU per request in Python; at 500 requests/s on a 2-core
machine that alone is half a core taken from the servers being measured. This client keeps a few
keep-alive connections per server and does only what a benchmark GET needs: write the request,
read the status line, the headers and a ``Content-Length`` body. Latency counts from each request's
scheduled start (request n is due at start + n / rate), so a late start is charged to the server.
``run_open_loop`` runs it on uvloop, as the servers run, so the client's own loop is no heavier
than theirs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)  # seconds, from the scheduled start
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return len(self.errors) + sum(count for status, count in self.statuses.items() if status != 200)


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        return await self.request("GET", path)

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: tuple[tuple[str, str], ...] = ()
    ) -> tuple[int, bytes]:
        """One request on the kept-alive connection; the body is read by ``Content-Length`` or chunks."""
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head_lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head_lines += [f"{name}: {value}" for name, value in headers]
        if body or method in ("POST", "PUT", "PATCH"):
            head_lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(head_lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, chunked = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if chunked:
            return status, await self._chunks()
        return status, await self.reader.readexactly(length)

    async def _chunks(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")  # no trailers are sent by the servers measured
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def open_loop_get(
    urls: list[str], path_for: Callable[[int], str], *, rate: float, seconds: float, connections: int = 32
) -> Results:
    """GET ``path_for(n)`` from ``urls[n % len(urls)]`` at ``rate`` per second for ``seconds``."""
    results = Results()
    total = int(rate * seconds)
    next_index = iter(range(total))
    servers = [urlsplit(url) for url in urls]
    start = time.perf_counter() + 0.05

    async def client() -> None:
        pool = [Connection(s.hostname or "127.0.0.1", s.port or 80) for s in servers]
        try:
            for n in next_index:
                scheduled = start + n / rate
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                connection = pool[n % len(pool)]
                try:
                    async with asyncio.timeout(30):  # not wait_for: that starts a task per request
                        status, _ = await connection.get(path_for(n))
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as error:
                    results.errors.append(f"{type(error).__name__}: {error}")
                    connection.close()
                    continue
                results.latencies.append(time.perf_counter() - scheduled)
                results.statuses[status] = results.statuses.get(status, 0) + 1
        finally:
            for connection in pool:
                connection.close()

    await asyncio.gather(*(client() for _ in range(connections)))
    return results


def run_open_loop(
    urls: list[str], path_for: Callable[[int], str], *, rate: float, seconds: float, connections: int = 32
) -> Results:
    """``open_loop_get`` on a fresh uvloop event loop (uvicorn's loop, installed with it)."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(open_loop_get(urls, path_for, rate=rate, seconds=seconds, connections=connections))


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
