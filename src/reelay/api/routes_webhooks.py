"""``GET /v1/webhooks/secret`` (the caller's signing secret) and ``POST /v1/videos/{id}/cancel``.

Both belong to the "safe to expose" surface: the secret lets a receiver verify that an event came
from this Reelay (docs/security.md shows how); cancel stops a job the caller owns.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from reelay.api.costs import video_cost
from reelay.api.deps import AppContext, context, principal
from reelay.api.present import dump, video_object
from reelay.api.schemas import VideoObject
from reelay.errors import NotFound
from reelay.jobs.service import Principal

router = APIRouter()

Ctx = Annotated[AppContext, Depends(context)]
Who = Annotated[Principal, Depends(principal)]
VideoId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class WebhookSecret(BaseModel):
    object: Literal["webhook_secret"] = "webhook_secret"
    secret: str = Field(description="whsec_<base64>: verify webhook-signature with it (Standard Webhooks)")


@router.get("/webhooks/secret", response_model=WebhookSecret, tags=["webhooks"], summary="Your webhook signing secret")
async def webhook_secret(ctx: Ctx, who: Who) -> JSONResponse:
    if ctx.guard is None:
        raise NotFound("webhooks are not available in this app")
    return JSONResponse(WebhookSecret(secret=await ctx.guard.webhook_secret(who)).model_dump())


@router.post(
    "/videos/{video_id}/cancel",
    status_code=202,
    response_model=VideoObject,
    tags=["videos"],
    summary="Cancel a video; 200 once it is cancelled (or already finished), 202 while the worker stops",
)
async def cancel_video(video_id: VideoId, request: Request, ctx: Ctx, who: Who) -> JSONResponse:
    job = await ctx.service.cancel(who, video_id)
    body = dump(video_object(job, ctx.links, str(request.base_url), await video_cost(ctx, job)))
    return JSONResponse(body, status_code=200 if job.status.finished else 202)
