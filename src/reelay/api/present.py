"""Job → wire objects. The only place that knows how a ``VideoJob`` looks to a client."""

from __future__ import annotations

import time
from typing import Any

from starlette.responses import Response

from reelay.api.schemas import (
    ReportItem,
    VideoCost,
    VideoError,
    VideoMetadata,
    VideoObject,
    VideoOutputObject,
    VideoResult,
)
from reelay.jobs.models import JobStatus, VideoJob
from reelay.storage.base import Storage
from reelay.storage.signing import UrlSigner


class Links:
    """Absolute, signed download links for stored objects: the storage's own (a presigned S3 URL)
    when it has one, else a signed ``/v1/files`` link served by the API."""

    def __init__(self, signer: UrlSigner, public_url: str | None, storage: Storage | None = None) -> None:
        self.signer = signer
        self.public_url = public_url.rstrip("/") if public_url else None
        self.storage = storage

    def url(self, base_url: str, key: str, expires: int) -> str:
        direct = self.storage.download_url(key, expires) if self.storage is not None else None
        if direct is not None:
            return direct
        base = self.public_url or base_url.rstrip("/")
        return base + self.signer.path(key, expires)


def past_retention(job: VideoJob, now: float | None = None) -> bool:
    """A completed video whose outputs passed ``expires_at`` (the sweeper deletes them)."""
    now = time.time() if now is None else now
    return job.status is JobStatus.COMPLETED and job.expires_at is not None and job.expires_at <= now


def video_object(job: VideoJob, links: Links, base_url: str, cost: VideoCost | None = None) -> VideoObject:
    output = None
    status = job.status.value
    expired_output = past_retention(job)
    if expired_output:
        status = "expired"
    elif job.status is JobStatus.COMPLETED and job.outputs:
        expires = int(job.expires_at or time.time() + 3600)

        def link(key: str | None) -> str | None:
            return links.url(base_url, key, expires) if key else None

        results = [
            VideoResult(
                index=o.index,
                url=links.url(base_url, o.key, expires),
                thumbnail_url=link(o.thumbnail_key),
                spritesheet_url=link(o.spritesheet_key),
                size=o.size,
                seconds=o.seconds,
                has_audio=o.has_audio,
                bytes=o.bytes,
            )
            for o in job.outputs
        ]
        first = results[0]
        output = VideoOutputObject(
            url=first.url,
            thumbnail_url=first.thumbnail_url,
            spritesheet_url=first.spritesheet_url,
            size=first.size,
            seconds=first.seconds,
            has_audio=first.has_audio,
            results=results,
        )
    error = None
    if expired_output:
        error = VideoError(
            code="video_expired",
            message="this video's outputs were deleted after the server's retention period (expires_at); "
            "create it again to get a new one",
        )
    elif job.status in (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED):
        error = VideoError(
            code=job.error_code or job.status.value,
            message=job.error_message or f"the video was {job.status.value}",
        )
    return VideoObject(
        id=job.id,
        model=job.model,
        status=status,
        progress=job.progress,
        created_at=int(job.created_at),
        completed_at=int(job.completed_at) if job.completed_at else None,
        expires_at=int(job.expires_at) if job.expires_at else None,
        prompt=job.prompt,
        size=job.size,
        seconds=job.seconds,
        remixed_from_video_id=job.remixed_from_video_id,
        error=error,
        output=output,
        metadata=VideoMetadata(
            provider=job.provider,
            executed_model=job.executed_model,
            normalization=[ReportItem.model_validate(item) for item in job.report],
            cost_estimate=job.cost_estimate,
            n=job.n,
            attempts=job.attempts,
            stage=None if job.status.finished else job.stage.value,
            queued_reason=job.status_detail,
            cost=cost,
        ),
    )


def video_response(
    job: VideoJob, links: Links, base_url: str, status: int = 200, cost: VideoCost | None = None
) -> Response:
    """The video object with the gateway's headers: who served it, and when to poll again."""
    headers = {"X-Reelay-Provider": job.provider}
    if not job.status.finished:
        headers["openai-poll-after-ms"] = "1000"
    # pydantic's own JSON encoder: a third of the cost of a dict through json.dumps
    body = video_object(job, links, base_url, cost).model_dump_json().encode()
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def dump(model: Any) -> Any:
    return model.model_dump(mode="json")
