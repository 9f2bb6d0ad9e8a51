"""``GET /v1/usage``: spend, holds and refunds from the ledger, by key, model, provider and day.

A key sees its own usage; an admin key sees every key's (``?key=`` narrows it to one). With no keys
configured the single local owner is the admin and its usage is under the key ``""``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from reelay.api.deps import AppContext, context, principal
from reelay.api.present import dump
from reelay.billing.usage import UsageFilter, usage_lines
from reelay.errors import InvalidRequest, PermissionDenied
from reelay.jobs.service import Principal
from reelay.security.models import scope_of

router = APIRouter(tags=["usage"])
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class UsageLineObject(BaseModel):
    key: str = Field(description='the API key id ("" for the single local owner when no keys exist)')
    model: str
    provider: str
    day: str = Field(description="UTC day the job was submitted (its hold taken), YYYY-MM-DD")
    spent: float = Field(description="USD charged for settled jobs")
    held: float = Field(description="USD reserved by jobs not settled yet")
    refunded: float = Field(description="USD of holds released in full (jobs that cost nothing)")
    jobs: int


class UsageTotals(BaseModel):
    spent: float
    held: float
    refunded: float
    jobs: int


class Usage(BaseModel):
    object: Literal["usage"] = "usage"
    currency: Literal["USD"] = "USD"
    totals: UsageTotals
    data: list[UsageLineObject]


def _day(value: str | None, param: str) -> str | None:
    if value is not None and not _DAY.match(value):
        raise InvalidRequest(f"{param} must be a UTC day as YYYY-MM-DD", param=param)
    return value


@router.get("/usage", response_model=Usage, summary="Spend, holds and refunds by key, model, provider and day")
async def usage(
    ctx: Annotated[AppContext, Depends(context)],
    who: Annotated[Principal, Depends(principal)],
    key: Annotated[str | None, Query(max_length=32, description="admins: one key's usage")] = None,
    start: Annotated[str | None, Query(description="first UTC day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, Query(description="last UTC day, YYYY-MM-DD")] = None,
) -> JSONResponse:
    if who.admin:
        scope = key
    elif key is not None and key != who.owner:
        raise PermissionDenied("a key can read only its own usage; ask an admin for other keys'", param="key")
    else:
        scope = scope_of(who.owner)
    where = UsageFilter(scope=scope, start=_day(start, "start"), end=_day(end, "end"))
    lines = await usage_lines(ctx.service.store.engine, where)
    data = [
        UsageLineObject(
            key=line.key,
            model=line.model,
            provider=line.provider,
            day=line.day,
            spent=round(line.spent_usd, 6),
            held=round(line.held_usd, 6),
            refunded=round(line.refunded_usd, 6),
            jobs=line.jobs,
        )
        for line in lines
    ]
    totals = UsageTotals(
        spent=round(sum(line.spent_usd for line in lines), 6),
        held=round(sum(line.held_usd for line in lines), 6),
        refunded=round(sum(line.refunded_usd for line in lines), 6),
        jobs=sum(line.jobs for line in lines),
    )
    return JSONResponse(dump(Usage(totals=totals, data=data)))
