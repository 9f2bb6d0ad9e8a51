"""Admin API for keys: ``POST/GET /v1/admin/keys``, ``DELETE /v1/admin/keys/{id}``. Admin keys only.

The same operations as ``reelay keys …`` on the command line. The full key (``rly_<id>.<secret>``) is
in the create response and nowhere else, ever: Reelay stores only its hash.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from reelay.api.deps import AppContext, context, principal
from reelay.api.guard import Guard
from reelay.errors import NotFound, PermissionDenied
from reelay.jobs.service import Principal
from reelay.security.keys import ApiKey, KeyLimits

router = APIRouter(tags=["admin"])

KeyId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


class CreateKeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=200)
    admin: bool = False
    rpm: int | None = Field(default=None, ge=1, le=1_000_000, description="requests per minute")
    max_concurrent: int | None = Field(default=None, ge=1, le=100_000, description="unfinished videos at once")
    budget_usd: float | None = Field(default=None, ge=0, le=1e9, description="total USD of cost estimates")


class ApiKeyObject(BaseModel):
    id: str
    object: Literal["api_key"] = "api_key"
    name: str
    admin: bool
    rpm: int | None
    max_concurrent: int | None
    budget_usd: float | None
    spent_usd: float
    created_at: int
    revoked_at: int | None
    last_used_at: int | None


class CreatedApiKey(ApiKeyObject):
    key: str = Field(description="the full API key; shown once, store it now")


class ApiKeyList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ApiKeyObject]


def key_object(key: ApiKey) -> ApiKeyObject:
    return ApiKeyObject(
        id=key.id,
        name=key.name,
        admin=key.admin,
        rpm=key.limits.rpm,
        max_concurrent=key.limits.max_concurrent,
        budget_usd=key.limits.budget_usd,
        spent_usd=round(key.spent_usd, 6),
        created_at=int(key.created_at),
        revoked_at=int(key.revoked_at) if key.revoked_at is not None else None,
        last_used_at=int(key.last_used_at) if key.last_used_at is not None else None,
    )


async def admin_guard(
    ctx: Annotated[AppContext, Depends(context)], who: Annotated[Principal, Depends(principal)]
) -> Guard:
    if not who.admin:
        raise PermissionDenied("only admin API keys may manage keys; create one with `reelay keys create --admin`")
    if ctx.guard is None:
        raise NotFound("API keys are not available in this app")
    return ctx.guard


Admin = Annotated[Guard, Depends(admin_guard)]


@router.post("/admin/keys", status_code=201, response_model=CreatedApiKey, summary="Create an API key (admin)")
async def create_key(body: CreateKeyBody, guard: Admin) -> JSONResponse:
    limits = KeyLimits(rpm=body.rpm, max_concurrent=body.max_concurrent, budget_usd=body.budget_usd)
    key, token = await guard.keys.create(name=body.name, admin=body.admin, limits=limits)
    created = CreatedApiKey(**key_object(key).model_dump(), key=token)
    return JSONResponse(created.model_dump(), status_code=201)


@router.get("/admin/keys", response_model=ApiKeyList, summary="List API keys (admin; never the secrets)")
async def list_keys(guard: Admin) -> JSONResponse:
    keys = await guard.keys.list()
    return JSONResponse(ApiKeyList(data=[key_object(k) for k in keys]).model_dump())


@router.delete("/admin/keys/{key_id}", response_model=ApiKeyObject, summary="Revoke an API key (admin)")
async def revoke_key(key_id: KeyId, guard: Admin) -> JSONResponse:
    return JSONResponse(key_object(await guard.keys.revoke(key_id)).model_dump())
