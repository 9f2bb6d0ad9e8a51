"""FastAPI dependencies: the app context and who is asking."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

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


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def principal(request: Request) -> Principal:
    """Everyone is the single local owner until API keys are configured."""
    return Principal(owner=None, admin=True)
