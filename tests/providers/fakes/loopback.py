"""Run an ASGI app with uvicorn in a thread on 127.0.0.1 (ephemeral port), plus scriptable faults.

The fakes never talk to the network; everything they serve (the output MP4 included) is served from
the same loopback server.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp


class LoopbackServer:
    """``with LoopbackServer(app) as server: server.url`` — a real HTTP server for the test's lifetime."""

    def __init__(self, app: ASGIApp, *, lifespan: Literal["on", "off"] = "off", port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port = int(self._sock.getsockname()[1])
        config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the loopback server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()


@dataclass
class Fault:
    """What the next matching request(s) get instead of a normal answer.

    ``status`` None with a ``delay`` means "answer normally, but late" (for client timeouts);
    ``raw`` is sent as the body verbatim (malformed JSON).
    """

    method: str | None = None
    path: str = ""
    status: int | None = 500
    body: Any = None
    raw: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int = 1


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any = None


class FaultPlan:
    """Faults queued by a test, applied in order to matching requests."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if (fault.method in (None, method)) and path.startswith(fault.path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    async def apply(self, request: Request) -> Response | None:
        fault = self._take(request.method, request.url.path)
        if fault is None:
            return None
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is None:
            return None
        if fault.raw is not None:
            return Response(fault.raw, status_code=fault.status, media_type="application/json", headers=fault.headers)
        body = fault.body if fault.body is not None else {"error": {"message": f"scripted {fault.status}"}}
        return JSONResponse(body, status_code=fault.status, headers=fault.headers)
