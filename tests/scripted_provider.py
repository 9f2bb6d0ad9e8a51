"""An in-process provider whose behaviour a test scripts: failures at submit or poll, silence."""

from __future__ import annotations

import shutil
from pathlib import Path

from reelay.errors import UpstreamError
from reelay.providers.base import PollResult, ProviderJob


class ScriptedProvider:
    resumable = True

    def __init__(
        self,
        name: str,
        video: Path,
        *,
        submit_errors: list[UpstreamError] | None = None,
        always_fail_submit: UpstreamError | None = None,
        poll_errors: list[UpstreamError] | None = None,
        silent: bool = False,
        failed_generations: int = 0,
    ) -> None:
        self.name = name
        self.video = video
        self.submit_errors = list(submit_errors or [])
        self.always_fail_submit = always_fail_submit
        self.poll_errors = list(poll_errors or [])
        self.silent = silent
        self.failed_generations = failed_generations  # the first N generations end failed (retryable)
        self.submit_keys: list[str | None] = []  # the Idempotency-Key of every submit attempt
        self.submit_attempts = 0
        self.submissions: list[ProviderJob] = []
        self.polls: dict[str, int] = {}
        self.cancelled: list[str] = []

    async def submit(self, job: ProviderJob) -> str:
        self.submit_attempts += 1
        self.submit_keys.append(job.idempotency_key)
        if self.always_fail_submit is not None:
            raise self.always_fail_submit
        if self.submit_errors:
            raise self.submit_errors.pop(0)
        self.submissions.append(job)
        upstream_id = f"{self.name}_{len(self.submissions)}"
        self.polls[upstream_id] = 0
        return upstream_id

    async def poll(self, upstream_id: str) -> PollResult:
        if self.poll_errors:
            raise self.poll_errors.pop(0)
        self.polls[upstream_id] += 1
        if self.silent or self.polls[upstream_id] < 2:
            return PollResult("running", progress=0.5, poll_after=0.05)
        if int(upstream_id.rsplit("_", 1)[1]) <= self.failed_generations:
            error = UpstreamError(f"{self.name}: the GPU fell over", retryable=True, code="upstream_job_failed")
            return PollResult("failed", error=error)
        return PollResult("succeeded", progress=1.0)

    async def fetch_output(self, upstream_id: str, result: PollResult, destination: Path) -> None:
        shutil.copyfile(self.video, destination)

    async def cancel(self, upstream_id: str) -> None:
        self.cancelled.append(upstream_id)
