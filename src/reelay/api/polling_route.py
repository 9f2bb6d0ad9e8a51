"""``GET /v1/videos/{video_id}`` (and under ``/openai/v1``), answered before the router.

Clients poll this route until their video is done, so it is most of the traffic a gateway answers.
FastAPI's per-request machinery (its routing layers, dependency solving, exit stacks and exception
middleware) cost about a third of a retrieve's CPU. ``PollingShortcut`` is the innermost middleware:
it still runs inside the request-id, access-log, metrics and body-limit middleware, does the same
three steps as the FastAPI route (who is asking, the job, its wire object) and turns errors into
responses with the app's own handlers (``api.errors``), so clients cannot tell the two apart.

The FastAPI route stays registered behind it. It documents the operation in the OpenAPI schema and
answers what the shortcut does not match: an id outside ``[A-Za-z0-9_-]{1,64}``, which it rejects
with the usual 400 naming ``video_id``.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from reelay.api import errors
from reelay.api.costs import video_cost
from reelay.api.deps import app_context, principal
from reelay.api.present import video_response
from reelay.errors import ReelayError
from reelay.jobs.store import DATABASE_UNAVAILABLE


class VideoIdConvertor(Convertor[str]):
    """Only well-formed ids: anything else goes on to the FastAPI route and its 400."""

    regex = "[A-Za-z0-9_-]{1,64}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("video_id", VideoIdConvertor())


async def retrieve(request: Request) -> Response:
    ctx = app_context(request)
    who = await principal(request)
    job = await ctx.service.get(who, request.path_params["video_id"])
    return video_response(job, ctx.links, str(request.base_url), cost=await video_cost(ctx, job))


async def _answer(request: Request) -> Response:
    """``retrieve``'s response, or the one the app's exception handlers give for its error."""
    try:
        return await retrieve(request)
    except ReelayError as error:
        return await errors.reelay_error(request, error)
    except DATABASE_UNAVAILABLE as error:
        return await errors.database_unavailable(request, error)
    except Exception as error:  # logged with its traceback; the client gets the usual 500 body
        return await errors.unexpected_error(request, error)


class PollingShortcut:
    def __init__(self, app: ASGIApp, prefixes: Sequence[str]) -> None:
        self.app = app
        # Starlette routes used only to match; the matched one is the access log's and metrics' label.
        self.routes = [Route(f"{p}/videos/{{video_id:video_id}}", retrieve, methods=["GET"]) for p in prefixes]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            for route in self.routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    scope["route"] = route
                    response = await _answer(Request(scope, receive))
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
