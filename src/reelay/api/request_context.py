"""Per-request context: a request id, one access-log line and the HTTP metrics.

Outermost middleware (pure ASGI, so streaming downloads pass through untouched). The request id is
the client's ``X-Request-ID`` when it is a sane token, else a fresh one; it is echoed in the response
and attached to every log line written while the request runs (``reelay.logs.REQUEST_ID``).

The access line carries method, route template, status and duration, never headers or the query
string: the Authorization header and signed-link signatures stay out of the logs by construction.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelay.api.metrics import HTTP_DURATION, HTTP_REQUESTS
from reelay.logs import REQUEST_ID

log = logging.getLogger("reelay.access")

HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes: debug level only
# A successful poll is debug level too: clients repeat it every second or so for every video, and the
# metrics count it anyway. A poll that fails (401, 404, 429, 503) is logged at info like any request.
_POLL_ROUTES = frozenset({"/v1/videos/{video_id}", "/openai/v1/videos/{video_id}"})


def access_level(method: str, route: str, status: int) -> int:
    """The access line's level: debug for probes, scrapes and successful polls, info otherwise."""
    quiet = route in _QUIET_ROUTES or (status == 200 and method == "GET" and route in _POLL_ROUTES)
    return logging.DEBUG if quiet else logging.INFO


def incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1").strip()
            return text if _SANE_ID.match(text) else None
    return None


def route_template(scope: Scope) -> str:
    """``/v1/videos/{video_id}`` rather than the raw path; unmatched paths share one label."""
    route = scope.get("route")
    # ``path_format``: ``{video_id}`` where the route declares ``{video_id:video_id}`` (a convertor)
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    request_path = str(scope.get("path", ""))
    if isinstance(path, str) and path:
        # Included routers may report their own path without the prefix (/v1, /openai/v1): put it back.
        params = {k: str(v) for k, v in (scope.get("path_params") or {}).items()}
        try:
            concrete = path.format(**params) if params else path
        except (KeyError, IndexError, ValueError):
            return path
        if request_path.endswith(concrete) and request_path != concrete:
            return request_path[: len(request_path) - len(concrete)] + path
        return path
    for candidate in getattr(getattr(scope.get("app"), "router", None), "routes", ()):
        if isinstance(candidate, Mount) and request_path.startswith(candidate.path + "/"):  # static files
            return candidate.path + "/{path}"
    return "<unmatched>"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method = str(scope.get("method", ""))
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_DURATION.labels(method, route).observe(elapsed)
            log.log(
                access_level(method, route, status),
                "%s %s %s",
                method,
                route,
                status,
                extra={"method": method, "route": route, "status": status, "duration_ms": round(elapsed * 1000, 1)},
            )
            REQUEST_ID.reset(token)
