"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text

from reelay.api.deps import AppContext, context

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database and storage are reachable")
async def readyz(ctx: Annotated[AppContext, Depends(context)]) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        async with ctx.service.store.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # readiness reports, it does not raise
        checks["database"] = f"error: {type(error).__name__}"
    try:
        await ctx.service.storage.exists("readyz-probe")
        checks["storage"] = "ok"
    except Exception as error:
        checks["storage"] = f"error: {type(error).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
    )
