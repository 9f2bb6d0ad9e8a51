"""The OpenAI Videos API routes (mounted at ``/v1`` and ``/openai/v1``). Thin: parse, call, present."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.datastructures import FormData

from reelay.api.costs import video_cost, video_costs
from reelay.api.deps import AppContext, context, principal
from reelay.api.guard import guarded_create, remix_request
from reelay.api.parsing import (
    create_request_from_form,
    create_request_from_json,
    parse_body,
)
from reelay.api.present import dump, past_retention, video_object, video_response
from reelay.api.schemas import (
    CreateVideoBody,
    RemixBody,
    ReportItem,
    VideoDeleted,
    VideoEstimate,
    VideoJobBody,
    VideoList,
    VideoObject,
)
from reelay.characters import CharacterStore
from reelay.characters.apply import apply_characters
from reelay.errors import InvalidRequest, VideoExpired
from reelay.jobs.models import VideoJob
from reelay.jobs.service import CreateRequest, Estimate, Principal, format_seconds

router = APIRouter(tags=["videos"])

VideoId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Ctx = Annotated[AppContext, Depends(context)]
Who = Annotated[Principal, Depends(principal)]

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/CreateVideoBody"}},
            "multipart/form-data": {"schema": {"$ref": "#/components/schemas/CreateVideoBody"}},
        },
    }
}
_MEDIA_TYPES = {"video": "video/mp4", "thumbnail": "image/jpeg", "spritesheet": "image/jpeg"}


async def _video_response(job: VideoJob, ctx: AppContext, request: Request, status: int = 200) -> Response:
    return video_response(job, ctx.links, str(request.base_url), status, await video_cost(ctx, job))


async def _created(result: VideoJob | Estimate, ctx: AppContext, request: Request, replayed: bool = False) -> Response:
    if isinstance(result, Estimate):
        return _estimate_response(result)
    # 200: an Idempotency-Key replay
    return await _video_response(result, ctx, request, status=200 if replayed else 202)


async def _parse_create(request: Request, ctx: AppContext) -> tuple[CreateRequest, FormData | None]:
    """The body as a typed request, plus the form to close once the service has copied its uploads."""
    data, form = await parse_body(request, max_part_bytes=ctx.max_part_bytes)
    return (create_request_from_form(form) if form is not None else create_request_from_json(data)), form


def _estimate_response(estimate: Estimate) -> JSONResponse:
    normalized = estimate.normalized
    body = VideoEstimate(
        model=estimate.route.card.id,
        provider=estimate.route.provider,
        executed_model=estimate.route.executed_model,
        size=normalized.size,
        seconds=format_seconds(normalized.seconds),
        n=normalized.n,
        cost_estimate=normalized.cost_estimate,
        total_cost_micros=round(normalized.cost_estimate * 1_000_000),
        normalization=[ReportItem.model_validate(item) for item in normalized.report_json()],
    )
    return JSONResponse(dump(body), headers={"X-Reelay-Provider": estimate.route.provider})


@router.post(
    "/videos",
    status_code=202,
    response_model=VideoObject,
    openapi_extra=_BODY_DOC,
    summary="Create a video (JSON or multipart); ?dryRun=true estimates without running",
)
@router.post(
    "/videos/generations",
    status_code=202,
    response_model=VideoObject,
    openapi_extra=_BODY_DOC,
    summary="Alias of POST /videos",
)
async def create_video(
    request: Request, ctx: Ctx, who: Who, dry_run: Annotated[bool, Query(alias="dryRun")] = False
) -> Response:
    create, form = await _parse_create(request, ctx)
    try:
        with ExitStack() as character_files:  # characters: ["char_…"] → input_reference stills
            if "characters" in create.extra and isinstance(create.model, str | None):
                card = ctx.router.route(create.model or ctx.router.catalog.default_model).card
                await apply_characters(CharacterStore(ctx.service.storage), who, create, card, character_files)
            result, replayed = await guarded_create(
                ctx.guard,
                ctx.service,
                who,
                "generate",
                create,
                request.headers.get("idempotency-key"),
                lambda hook: ctx.service.create(who, create, dry_run=dry_run, on_insert=hook),
                dry_run=dry_run,
            )
    finally:
        if form is not None:
            await form.close()
    return await _created(result, ctx, request, replayed)


@router.get("/videos", response_model=VideoList, summary="List videos (cursor pagination)")
async def list_videos(
    request: Request,
    ctx: Ctx,
    who: Who,
    after: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> JSONResponse:
    jobs, has_more = await ctx.service.page(who, after=after, limit=limit, order=order)
    base = str(request.base_url)
    costs = await video_costs(ctx, jobs)
    page = VideoList(
        data=[video_object(job, ctx.links, base, costs[job.id]) for job in jobs],
        first_id=jobs[0].id if jobs else None,
        last_id=jobs[-1].id if jobs else None,
        has_more=has_more,
    )
    return JSONResponse(dump(page))


@router.get("/videos/{video_id}", response_model=VideoObject, summary="Retrieve a video (poll this)")
async def retrieve_video(video_id: VideoId, request: Request, ctx: Ctx, who: Who) -> Response:
    """Documents the operation; well-formed ids are answered ahead of it by ``api.polling_route``."""
    return await _video_response(await ctx.service.get(who, video_id), ctx, request)


@router.delete("/videos/{video_id}", response_model=VideoDeleted, summary="Delete a video (cancels it if running)")
async def delete_video(video_id: VideoId, ctx: Ctx, who: Who) -> JSONResponse:
    await ctx.service.delete(who, video_id)
    return JSONResponse(dump(VideoDeleted(id=video_id)))


@router.get(
    "/videos/{video_id}/content",
    response_class=FileResponse,
    summary="Download the video (MP4), its thumbnail or its spritesheet (JPEG)",
)
async def video_content(
    video_id: VideoId,
    ctx: Ctx,
    who: Who,
    variant: Annotated[Literal["video", "thumbnail", "spritesheet"], Query()] = "video",
    index: Annotated[int, Query(ge=0, le=3)] = 0,
) -> FileResponse:
    job = await ctx.service.get(who, video_id)
    if past_retention(job):
        raise VideoExpired(
            f"video {video_id} expired at {int(job.expires_at or 0)} (unix time) and its outputs were deleted "
            "after the server's retention period; create it again",
            param="video_id",
        )
    path = await ctx.service.content_path(who, video_id, variant, index)
    suffix = "mp4" if variant == "video" else "jpg"
    return FileResponse(path, media_type=_MEDIA_TYPES[variant], filename=f"{video_id}-{variant}.{suffix}")


@router.post(
    "/videos/{video_id}/remix",
    status_code=202,
    response_model=VideoObject,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RemixBody"}}},
        }
    },
    summary="Remix a completed video with a new prompt",
)
async def remix_video(video_id: VideoId, request: Request, ctx: Ctx, who: Who) -> Response:
    data, form = await parse_body(request, max_part_bytes=ctx.max_part_bytes)
    fields: dict[str, Any] = dict(data)
    if form is not None:
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        await form.close()
    if "prompt" not in fields:
        raise InvalidRequest("prompt is required", param="prompt")
    remix = remix_request(fields.pop("prompt"), fields)
    job, replayed = await guarded_create(
        ctx.guard,
        ctx.service,
        who,
        f"remix:{video_id}",
        remix,
        request.headers.get("idempotency-key"),
        lambda hook: ctx.service.remix(who, video_id, remix.prompt, remix.extra, on_insert=hook),
    )
    assert isinstance(job, VideoJob)
    return await _video_response(job, ctx, request, status=200 if replayed else 202)


_VIDEO_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/VideoJobBody"}},
            "multipart/form-data": {"schema": {"$ref": "#/components/schemas/VideoJobBody"}},
        },
    }
}


@router.post(
    "/videos/edits",
    status_code=202,
    response_model=VideoObject,
    openapi_extra=_VIDEO_BODY_DOC,
    summary="Edit a video (uploaded file, URL or {id}) as the prompt says",
)
async def edit_video(
    request: Request, ctx: Ctx, who: Who, dry_run: Annotated[bool, Query(alias="dryRun")] = False
) -> Response:
    return await _from_video(request, ctx, who, "edit", dry_run)


@router.post(
    "/videos/extensions",
    status_code=202,
    response_model=VideoObject,
    openapi_extra=_VIDEO_BODY_DOC,
    summary="Extend a video from its last frame by `seconds`; the result is the joined clip",
)
async def extend_video(
    request: Request, ctx: Ctx, who: Who, dry_run: Annotated[bool, Query(alias="dryRun")] = False
) -> Response:
    return await _from_video(request, ctx, who, "extend", dry_run)


async def _from_video(
    request: Request, ctx: AppContext, who: Principal, operation: Literal["edit", "extend"], dry_run: bool
) -> Response:
    """An edit or an extension: parsed, guarded (auth, limits, idempotency) and answered like a create."""
    start = ctx.service.edit if operation == "edit" else ctx.service.extend
    create, form = await _parse_create(request, ctx)
    try:
        result, replayed = await guarded_create(
            ctx.guard,
            ctx.service,
            who,
            operation,
            create,
            request.headers.get("idempotency-key"),
            lambda hook: start(who, create, dry_run=dry_run, on_insert=hook),
            dry_run=dry_run,
        )
    finally:
        if form is not None:
            await form.close()
    return await _created(result, ctx, request, replayed)


# Referenced from openapi_extra; registering them here makes them appear under components/schemas.
DOCUMENTED_BODIES = (CreateVideoBody, RemixBody, VideoJobBody)
