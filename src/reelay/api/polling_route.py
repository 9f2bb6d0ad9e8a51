"""``GET /v1/videos/{video_id}`` (and under ``/openai/v1``) on a plain Starlette route, ahead of FastAPI's.

Clients poll this route until their video is done, so it is most of the traffic a gateway answers.
FastAPI's per-request machinery (dependency solving, two exit stacks, its routing layers) cost about
a third of a retrieve's CPU; this route does the same three steps (who is asking, the job, its wire
object) on Starlette's ``Route``, which still runs inside the app's middleware and exception handlers:
errors, the access log, metrics and request ids are exactly those of every other route.

The FastAPI route stays registered behind it. It documents the operation in the OpenAPI schema and
answers what this route does not match: an id outside ``[A-Za-z0-9_-]{1,64}``, which it rejects with
the usual 400 naming ``video_id``.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from reelay.api.deps import app_context, principal
from reelay.api.present import video_response


class VideoIdConvertor(Convertor[str]):
    """Only well-formed ids: anything else falls through to the FastAPI route and its 400."""

    regex = "[A-Za-z0-9_-]{1,64}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("video_id", VideoIdConvertor())


class PollingRoute(Route):
    """Records itself as the matched route (as FastAPI's routes do) for the access log and metrics."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is Match.FULL:
            child_scope["route"] = self
        return match, child_scope


async def retrieve(request: Request) -> Response:
    ctx = app_context(request)
    who = await principal(request)
    job = await ctx.service.get(who, request.path_params["video_id"])
    return video_response(job, ctx.links, str(request.base_url))


def mount_polling_route(app: FastAPI, prefixes: tuple[str, ...]) -> None:
    """Put the route first, so the router tries it before any FastAPI route."""
    for prefix in reversed(prefixes):
        app.router.routes.insert(0, PollingRoute(f"{prefix}/videos/{{video_id:video_id}}", retrieve, methods=["GET"]))
