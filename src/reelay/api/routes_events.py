"""``GET /v1/videos/{video_id}/events``: a video's status and progress as Server-Sent Events.

Each event's ``data`` is the video object, exactly as ``GET /v1/videos/{video_id}`` answers it, and
its ``id`` names the state it shows (``<status>.<progress>``). An event is sent on every change of
status or progress, the first one at once; the stream ends after the terminal status (completed,
failed or cancelled). A client that reconnects with ``Last-Event-ID`` is sent the current state only
if it differs from the one it saw, and a reconnect after the terminal event is answered 204, which
tells a browser's ``EventSource`` to stop reconnecting. Keys see only their own videos, as on every
video route (404 otherwise, before any stream starts).

Changes come from the process's event hub (``reelay.events``), not from polling: the stream sleeps
until the store reports a change to this video and then re-reads it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import Response, StreamingResponse

from reelay.api.costs import video_cost
from reelay.api.deps import AppContext, context, principal
from reelay.api.present import video_object
from reelay.api.routes_videos import VideoId
from reelay.errors import VideoNotFound
from reelay.events import LocalEventHub, Subscription, sse
from reelay.jobs.models import VideoJob
from reelay.jobs.service import Principal

router = APIRouter(tags=["videos"])

KEEPALIVE_SECONDS = 15.0
RETRY_MILLISECONDS = 2000
_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no proxy buffering (nginx)


def event_id(job: VideoJob) -> str:
    return f"{job.status.value}.{job.progress}"


def event_hub(request: Request) -> LocalEventHub:
    hub: LocalEventHub = request.app.state.events
    return hub


@router.get(
    "/videos/{video_id}/events",
    response_class=StreamingResponse,
    summary="Stream a video's status and progress (text/event-stream) until it finishes",
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Events whose data is the video object"},
        204: {"description": "Last-Event-ID already names the finished state: nothing more will come"},
    },
)
async def video_events(
    video_id: VideoId,
    request: Request,
    ctx: Annotated[AppContext, Depends(context)],
    who: Annotated[Principal, Depends(principal)],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Response:
    subscription = event_hub(request).subscribe(video_id)  # before the first read: no change slips by
    try:
        job = await ctx.service.get(who, video_id)  # 404 for a missing video or another key's
    except BaseException:
        subscription.close()
        raise
    if job.status.finished and last_event_id == event_id(job):
        subscription.close()
        return Response(status_code=204)
    stream = _events(request, ctx, who, job, subscription, last_event_id)
    return StreamingResponse(stream, media_type="text/event-stream", headers=_HEADERS)


async def _events(
    request: Request,
    ctx: AppContext,
    who: Principal,
    job: VideoJob,
    subscription: Subscription,
    last_sent: str | None,
) -> AsyncIterator[bytes]:
    """The stream's body; it owns ``subscription`` and closes it however the stream ends."""
    try:
        async for chunk in _changes(request, ctx, who, job, subscription, last_sent):
            yield chunk
    finally:
        subscription.close()


async def _changes(
    request: Request,
    ctx: AppContext,
    who: Principal,
    job: VideoJob,
    subscription: Subscription,
    last_sent: str | None,
) -> AsyncIterator[bytes]:
    base = str(request.base_url)
    yield sse.retry(RETRY_MILLISECONDS)
    while True:
        current = event_id(job)
        if current != last_sent:
            data = video_object(job, ctx.links, base, cost=await video_cost(ctx, job)).model_dump_json()
            yield sse.event(data, event_id=current)
            last_sent = current
        if job.status.finished:
            return
        while not await subscription.wait(KEEPALIVE_SECONDS):
            yield sse.KEEPALIVE
        try:
            job = await ctx.service.get(who, job.id)
        except VideoNotFound:  # deleted while we watched: nothing more will come
            return
