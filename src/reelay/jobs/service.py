"""The video service: what the API and CLI call. It knows jobs, not HTTP.

``create`` does everything that can fail on bad input before a job exists (model, provider, inputs,
normalization), so a client gets a 4xx at once instead of a failed job later; once the row is
committed and queued, the job is the worker's to finish.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from reelay.errors import InvalidRequest, VideoNotFound, VideoNotReady
from reelay.jobs.events import JobEvents, JobListener
from reelay.jobs.input_prep import prepare_inputs
from reelay.jobs.inputs import InputLimits, MediaInput, MediaSource, read_source, scratch_dir
from reelay.jobs.layout import delete_job_files, input_key
from reelay.jobs.models import JobStatus, NewJob, VideoJob
from reelay.jobs.queue import JobQueue
from reelay.jobs.spec import JobInputs, JobSpec, Target
from reelay.jobs.store import InsertHook, JobStore
from reelay.normalize import GenerationParams, NormalizedRequest, normalize
from reelay.providers.base import Operation
from reelay.providers.local_preview import LOCAL_PROVIDER, as_local_preview
from reelay.providers.registry import UPLOADS_OWN_INPUTS
from reelay.routing import Route, Router
from reelay.storage.base import Storage

log = logging.getLogger("reelay.service")

Variant = Literal["video", "thumbnail", "spritesheet"]


@dataclass(frozen=True)
class Principal:
    """Who is asking. ``owner`` scopes what they see; an admin sees every owner's videos."""

    owner: str | None = None
    admin: bool = True


@dataclass
class CreateRequest:
    """A create request as parsed from JSON or multipart; values still as the client sent them."""

    prompt: Any
    model: str | None = None
    seconds: Any = None
    seconds_field: str = "seconds"
    size: str | None = None
    aspect_ratio: str | None = None
    resolution: Any = None
    n: Any = None
    seed: Any = None
    reference_mode: Any = None  # "auto" | "first_frame" | "references": how input_reference images are used
    references: list[MediaSource] = field(default_factory=list)
    video: MediaSource | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    webhook_url: Any = None  # a gateway field: checked and stored by the API layer, never sent upstream
    deadline_seconds: float | None = None  # a gateway field: expire the job if no provider started it by then


@dataclass(frozen=True)
class Estimate:
    """A dry run: what would run, and what it would cost, without running it."""

    route: Route
    normalized: NormalizedRequest


def new_video_id() -> str:
    return f"video_{uuid.uuid4().hex}"


def format_seconds(seconds: float) -> str:
    """``seconds`` as the OpenAI API shows it: a string, without a needless ``.0``."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:.2f}".rstrip("0")


class VideoService:
    def __init__(
        self,
        *,
        store: JobStore,
        storage: Storage,
        router: Router,
        queue: JobQueue,
        limits: InputLimits,
        scratch_base: Path,
        listeners: Sequence[JobListener] = (),
        input_links_available: bool = False,
    ) -> None:
        self.listeners = list(listeners)
        # True when Reelay can hand a provider a signed URL to an input (REELAY_PUBLIC_URL or S3).
        self.input_links_available = input_links_available
        self.store = store
        self.storage = storage
        self.router = router
        self.queue = queue
        self.limits = limits
        self.scratch_base = scratch_base

    # -- create ----------------------------------------------------------------------------------

    async def create(
        self,
        principal: Principal,
        request: CreateRequest,
        *,
        dry_run: bool = False,
        remixed_from: str | None = None,
        operation: Operation = "generate",
        on_insert: InsertHook | None = None,
    ) -> VideoJob | Estimate:
        if request.model is not None and not isinstance(request.model, str):
            raise InvalidRequest("model must be a string", param="model")
        if operation != "generate" and request.video is None:
            raise InvalidRequest(f"video is required to {operation} a video", param="video")
        route = self.router.route(request.model or self.router.catalog.default_model)
        scratch = scratch_dir(self.scratch_base)
        try:
            references, video = await self._read_inputs(principal, request, scratch)
            if operation == "extend":
                assert video is not None
                plan = _plan_extension(request, video, route)
            else:
                normalized = normalize(_generation_params(request, references, video), route.card)
                if route.provider == LOCAL_PROVIDER:  # --demo too: the size the local engine renders
                    normalized = as_local_preview(normalized)
                plan = _Plan(normalized, normalized.size, normalized.seconds)
            can_host = self.input_links_available or route.card.provider in UPLOADS_OWN_INPUTS
            prepared = await prepare_inputs(route.card, references, video, can_host=can_host)
            references, video = prepared.references, prepared.video
            plan = replace(plan, normalized=replace(plan.normalized, report=plan.normalized.report + prepared.report))
            if dry_run:
                return Estimate(route, plan.normalized)
            video_id = new_video_id()
            inputs = await self._store_inputs(video_id, references, video)
            spec = _job_spec(plan, inputs, route, operation)
            spec.deadline_seconds = request.deadline_seconds  # read by billing.deadline
            job = await self.store.create(
                NewJob(
                    id=video_id,
                    owner=principal.owner,
                    model=route.card.id,
                    prompt=plan.normalized.prompt,
                    size=plan.size,
                    seconds=format_seconds(plan.seconds),
                    n=plan.normalized.n,
                    provider=route.provider,
                    executed_model=route.executed_model,
                    spec=spec,
                    report=plan.normalized.report_json(),
                    cost_estimate=plan.normalized.cost_estimate,
                    remixed_from_video_id=remixed_from,
                ),
                on_insert=on_insert,
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self.queue.put(job.id)
        return job

    async def edit(
        self,
        principal: Principal,
        request: CreateRequest,
        *,
        dry_run: bool = False,
        on_insert: InsertHook | None = None,
    ) -> VideoJob | Estimate:
        """``POST /v1/videos/edits``: change a video (upload, URL or earlier id) as the prompt says."""
        return await self._from_video(principal, request, "edit", dry_run, on_insert)

    async def extend(
        self,
        principal: Principal,
        request: CreateRequest,
        *,
        dry_run: bool = False,
        on_insert: InsertHook | None = None,
    ) -> VideoJob | Estimate:
        """``POST /v1/videos/extensions``: continue a video from its last frame; returns the joined clip."""
        return await self._from_video(principal, request, "extend", dry_run, on_insert)

    async def _from_video(
        self,
        principal: Principal,
        request: CreateRequest,
        operation: Operation,
        dry_run: bool,
        on_insert: InsertHook | None = None,
    ) -> VideoJob | Estimate:
        if request.video is None:
            raise InvalidRequest('video is required: an uploaded file or {"id": "video_…"}', param="video")
        if request.model is None and request.video.kind == "video_id":
            request.model = (await self.get(principal, request.video.value)).model
        return await self.create(principal, request, operation=operation, dry_run=dry_run, on_insert=on_insert)

    async def _read_inputs(
        self, principal: Principal, request: CreateRequest, scratch: Path
    ) -> tuple[list[MediaInput], MediaInput | None]:
        async def lookup(video_id: str) -> Path:
            return await self.content_path(principal, video_id, "video", 0)

        references = [
            await read_source(source, "image", param="input_reference", scratch=scratch, limits=self.limits)
            for source in request.references
        ]
        video = None
        if request.video is not None:
            video = await read_source(
                request.video,
                "video",
                param="input_video",
                scratch=scratch,
                limits=self.limits,
                lookup_video=lookup,
            )
        return references, video

    async def _store_inputs(self, video_id: str, references: list[MediaInput], video: MediaInput | None) -> JobInputs:
        inputs = JobInputs()
        for i, reference in enumerate(references):
            key = input_key(video_id, f"reference{i}", reference.suffix)
            await self.storage.put_file(key, reference.path)
            inputs.image = inputs.image or key  # the first frame (image-to-video)
            inputs.references.append(key)  # all of them (reference-to-video)
        if video is not None:
            key = input_key(video_id, "input", video.suffix)
            await self.storage.put_file(key, video.path)
            inputs.video = key
        return inputs

    async def remix(
        self,
        principal: Principal,
        video_id: str,
        prompt: Any,
        extra: Mapping[str, Any],
        on_insert: InsertHook | None = None,
    ) -> VideoJob:
        """A new video from a completed one and a new prompt (video-to-video on its first output)."""
        source = await self.get(principal, video_id)
        if source.status is not JobStatus.COMPLETED:
            raise VideoNotReady(
                f"video {video_id} is {source.status.value}; only a completed video can be remixed",
                param="video_id",
            )
        request = CreateRequest(
            prompt=prompt,
            model=source.model,
            size=source.size,
            video=MediaSource(kind="video_id", value=video_id),
            extra=dict(extra),
        )
        job = await self.create(principal, request, remixed_from=video_id, operation="edit", on_insert=on_insert)
        assert isinstance(job, VideoJob)
        return job

    # -- read and delete -------------------------------------------------------------------------

    async def get(self, principal: Principal, video_id: str) -> VideoJob:
        job = await self.store.get(video_id, owner=principal.owner, any_owner=principal.admin)
        if job is None:
            raise VideoNotFound(f"no video with id {video_id!r}", param="video_id")
        return job

    async def page(
        self, principal: Principal, *, after: str | None, limit: int, order: Literal["asc", "desc"]
    ) -> tuple[list[VideoJob], bool]:
        return await self.store.page(
            owner=principal.owner, any_owner=principal.admin, after=after, limit=limit, order=order
        )

    async def cancel(self, principal: Principal, video_id: str) -> VideoJob:
        """Stop an unfinished video (it ends ``cancelled``); a finished one is returned unchanged."""
        job = await self.get(principal, video_id)
        if job.status.finished:
            return job
        return await self._request_cancel(job, delete_after=False)

    async def _request_cancel(self, job: VideoJob, *, delete_after: bool) -> VideoJob:
        """Ask for the job to stop. A queued job nobody holds ends at once, and since no worker will
        report that ending, the listeners (webhooks, metrics) are told here; a running job is ended,
        and reported, by its worker."""
        after = await self.store.request_cancel(job.id, delete_after=delete_after) or job
        if after.status is JobStatus.CANCELLED:
            await JobEvents(self.listeners).ended(after)
        return after

    async def delete(self, principal: Principal, video_id: str) -> None:
        """Delete a video and its files; an unfinished one is cancelled first."""
        job = await self.get(principal, video_id)
        if not job.status.finished:
            await self._request_cancel(job, delete_after=True)
            return
        await self.store.mark_deleted(video_id)
        await delete_job_files(self.storage, video_id)
        await self.store.purge(video_id)

    async def content_path(self, principal: Principal, video_id: str, variant: Variant, index: int) -> Path:
        job = await self.get(principal, video_id)
        if job.status is not JobStatus.COMPLETED:
            detail = f": {job.error_message}" if job.error_message else ""
            raise VideoNotReady(
                f"video {video_id} is {job.status.value} (progress {job.progress}%){detail}; its content is "
                f"available once GET /v1/videos/{video_id} says completed",
                param="video_id",
            )
        if not 0 <= index < len(job.outputs):
            raise InvalidRequest(f"index must be between 0 and {len(job.outputs) - 1} for this video", param="index")
        output = job.outputs[index]
        key = {"video": output.key, "thumbnail": output.thumbnail_key, "spritesheet": output.spritesheet_key}[variant]
        path = await self.storage.local_path(key) if key else None
        if path is None:
            raise VideoNotFound(f"the {variant} of video {video_id} has expired or was deleted", param="video_id")
        return path


@dataclass(frozen=True)
class _Plan:
    """What a create will run: the normalized request, the size and seconds the client sees, and
    for an extension the length of the input (it runs on the input's frame size, adds ``seconds``)."""

    normalized: NormalizedRequest
    size: str
    seconds: float
    extend_from_seconds: float | None = None


MAX_EXTENDED_SECONDS = 30.0


def _plan_extension(request: CreateRequest, video: MediaInput, route: Route) -> _Plan:
    """Validate the ADDED seconds against the card, keep the input's shape; show the stitched total."""
    if "v2v" not in route.card.modes:
        raise InvalidRequest(f"model {route.card.id!r} cannot take a video, so it cannot extend one", param="model")
    if not isinstance(request.prompt, str):
        raise InvalidRequest("prompt is required and must be a string", param="prompt")
    width, height = video.width // 2 * 2, video.height // 2 * 2
    params = GenerationParams(
        prompt=request.prompt,
        seconds=request.seconds,
        seconds_field=request.seconds_field,
        size=request.size or f"{width}x{height}",
        n=request.n,
        seed=request.seed,
        extra=request.extra,
        extend_input_seconds=video.seconds or 0.0,
    )
    normalized = normalize(params, route.card)
    input_seconds = video.seconds or 0.0
    total = input_seconds + normalized.seconds
    if total > MAX_EXTENDED_SECONDS:
        raise InvalidRequest(
            f"the extended video would be {total:.1f} s; the limit is {MAX_EXTENDED_SECONDS:.0f} s in all "
            f"(the input is {input_seconds:.1f} s)",
            param="seconds",
        )
    return _Plan(normalized, normalized.size, total, extend_from_seconds=input_seconds)


def _generation_params(
    request: CreateRequest, references: list[MediaInput], video: MediaInput | None
) -> GenerationParams:
    if not isinstance(request.prompt, str):
        raise InvalidRequest("prompt is required and must be a string", param="prompt")
    return GenerationParams(
        prompt=request.prompt,
        seconds=request.seconds,
        seconds_field=request.seconds_field,
        size=request.size,
        aspect_ratio=request.aspect_ratio,
        resolution=request.resolution,
        n=request.n,
        seed=request.seed,
        reference_images=len(references),
        reference_size=(references[0].width, references[0].height) if references else None,
        reference_mode=request.reference_mode,
        input_video=(video.width, video.height, video.seconds or 0.0) if video else None,
        extra=request.extra,
    )


def _job_spec(plan: _Plan, inputs: JobInputs, route: Route, operation: Operation) -> JobSpec:
    """What the workers need to run the job (targets: the providers to try, in order)."""
    normalized = plan.normalized
    return JobSpec(
        targets=[Target(provider=t.provider, model=t.model) for t in route.targets],
        operation=operation,
        mode="v2v" if plan.extend_from_seconds is not None else normalized.mode,
        prompt=normalized.prompt,
        width=normalized.width,
        height=normalized.height,
        seconds=normalized.seconds,
        seed=normalized.seed,
        n=normalized.n,
        emulate_n=normalized.emulate_n,
        upstream_model=normalized.upstream_model,
        aspect_ratio=normalized.aspect_ratio,
        resolution=normalized.resolution,
        upstream_resolution=normalized.upstream_resolution,
        audio=True,
        passthrough=dict(normalized.passthrough),
        inputs=inputs,
        reference_mode=normalized.reference_mode,
        input_seconds=plan.extend_from_seconds,
        # upstream fields the card says not to send for this mode (ProviderJob.omit)
        omit=sorted(route.card.omitted(normalized.mode)),
    )
