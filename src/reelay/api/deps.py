"""FastAPI dependencies: the app context and who is asking."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from reelay.api.guard import Guard
from reelay.api.present import Links
from reelay.catalog import Catalog
from reelay.jobs.service import Principal, VideoService
from reelay.routing import Router


@dataclass
class AppContext:
    service: VideoService
    links: Links
    catalog: Catalog
    router: Router
    max_part_bytes: int
    guard: Guard | None = None  # API keys, limits, idempotency, webhooks (None: open, as before keys)


async def context(request: Request) -> AppContext:
    """The app's services. Async on purpose: FastAPI runs a plain ``def`` dependency in a worker
    thread, and that hop cost more than the whole database read of a retrieve."""
    return app_context(request)


def app_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


async def principal(request: Request) -> Principal:
    """Who is asking: the key in ``Authorization: Bearer`` (401 if missing, wrong or revoked; 429 past
    its per-minute limit), or the single local owner while no API keys are configured."""
    guard = app_context(request).guard
    if guard is None:
        return Principal(owner=None, admin=True)
    return await guard.authenticate(request.headers.get("authorization"))
