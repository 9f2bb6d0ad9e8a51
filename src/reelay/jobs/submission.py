"""Submitting one run upstream: its ``ProviderJob``, and fallback across the job's targets.

``Submitter.submit`` tries the job's targets in routing order and returns the first that takes the
run. Targets whose circuit is open are skipped unless they are the last hope; a content-policy
refusal is final (another provider is not asked to generate what one refused). Every outcome feeds
the circuit breaker, so routing learns from submissions made in any stage.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reelay.errors import AllProvidersExhausted, ReelayError, UpstreamError
from reelay.jobs.models import VideoJob
from reelay.jobs.retry import counts_against_provider
from reelay.jobs.spec import JobSpec, RunRecord, Target
from reelay.providers.base import Provider, ProviderJob
from reelay.routing.breaker import CircuitBreaker
from reelay.storage.base import Storage

log = logging.getLogger("reelay.worker")


@dataclass(frozen=True)
class InputPaths:
    """Local paths of a job's stored inputs (workers on other machines fetch them from storage)."""

    image: Path | None = None  # the first frame (image-to-video)
    video: Path | None = None
    references: tuple[Path, ...] = ()  # reference-to-video: every image, none of them a first frame


async def input_paths(storage: Storage, spec: JobSpec) -> InputPaths:
    """Resolve the job's input keys; a stored input gone missing fails the job."""
    inputs = spec.inputs
    as_references = spec.reference_mode == "references"
    image_keys = list(inputs.references) if as_references else ([inputs.image] if inputs.image else [])
    images = [await storage.local_path(key) for key in image_keys]
    video = await storage.local_path(inputs.video) if inputs.video else None
    if any(path is None for path in images) or (inputs.video and video is None):
        raise ReelayError("an input file of this job is missing from storage", code="input_missing")
    found = tuple(path for path in images if path is not None)
    if as_references:
        return InputPaths(video=video, references=found)
    return InputPaths(image=found[0] if found else None, video=video)


def provider_job(job: VideoJob, run: RunRecord, model: str, paths: InputPaths) -> ProviderJob:
    """One run as a provider receives it (a job with ``n`` > 1 emulated is n of these)."""
    spec = job.spec
    return ProviderJob(
        video_id=job.id,
        index=run.index,
        model=model,
        mode=spec.mode,
        prompt=spec.prompt,
        width=spec.width,
        height=spec.height,
        seconds=spec.seconds,
        seed=spec.seed,
        audio=spec.audio,
        image_path=paths.image,
        video_path=paths.video,
        reference_paths=paths.references,
        n=1 if spec.emulate_n else job.n,
        passthrough=dict(spec.passthrough),
        operation=spec.operation,
        aspect_ratio=spec.aspect_ratio,
        resolution=spec.upstream_resolution or spec.resolution,
        idempotency_key=run.submit_key,
        omit=frozenset(spec.omit),
    )


def targets_of(job: VideoJob) -> list[Target]:
    return list(job.spec.targets) or [Target(provider=job.provider, model=job.executed_model)]


class Submitter:
    def __init__(self, providers: Mapping[str, Provider], breaker: CircuitBreaker) -> None:
        self.providers = providers
        self.breaker = breaker

    def first_available(self, targets: list[Target]) -> Target | None:
        """The target a submission would try first (configured here, circuit closed or last)."""
        for position, target in enumerate(targets):
            if target.provider not in self.providers:
                continue
            if self.breaker.allow(target.provider) or position == len(targets) - 1:
                return target
        return None

    async def submit(
        self, job: VideoJob, run: RunRecord, paths: InputPaths, targets: list[Target]
    ) -> tuple[Target, str]:
        """Submit to the first target that takes it: (target, upstream id)."""
        failures: list[UpstreamError] = []
        reasons: list[str] = []
        for position, target in enumerate(targets):
            provider = self.providers.get(target.provider)
            if provider is None:
                reasons.append(f"{target.provider}: not configured on this worker")
                continue
            if not self.breaker.allow(target.provider) and position < len(targets) - 1:
                reasons.append(f"{target.provider}: taken out of the pool after repeated failures")
                continue
            try:
                upstream_id = await provider.submit(provider_job(job, run, target.model, paths))
            except UpstreamError as error:
                if counts_against_provider(error):
                    self.breaker.record_failure(target.provider)
                if error.code == "content_policy_violation":
                    raise
                log.warning("submit failed", extra={"job_id": job.id, "provider": target.provider, "code": error.code})
                failures.append(error)
                reasons.append(f"{target.provider}: {error.message}")
                continue
            self.breaker.record_success(target.provider)
            return target, upstream_id
        if len(failures) == 1 and len(targets) == 1:
            raise failures[0]
        raise AllProvidersExhausted(
            "no provider could take the job: " + "; ".join(reasons),
            retryable=any(f.retryable for f in failures) or not failures,
        )


__all__ = ["InputPaths", "Submitter", "input_paths", "provider_job", "targets_of"]
