"""``deadline_seconds``: how long a client will wait for a provider to START its video.

A job not started upstream within that many seconds of its creation ends ``expired`` and is not
charged. Checked by the worker before it submits (``expired``); a job already accepted by a provider
is never expired (it is billed by then, so it runs to its end).
"""

from __future__ import annotations

import math
from typing import Any

from reelay.errors import InvalidRequest
from reelay.jobs.models import VideoJob

FIELD = "deadline_seconds"
MAX_DEADLINE_SECONDS = 7 * 24 * 3600.0


def parse(value: Any) -> float | None:
    """The request's ``deadline_seconds`` (a positive number, at most a week), or None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidRequest(f"{FIELD} must be a number of seconds", param=FIELD)
    try:
        seconds = float(value)
    except ValueError:
        raise InvalidRequest(f"{FIELD} must be a number of seconds, not {value!r}", param=FIELD) from None
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_DEADLINE_SECONDS:
        raise InvalidRequest(
            f"{FIELD} must be more than 0 and at most {MAX_DEADLINE_SECONDS:.0f} (a week)", param=FIELD
        )
    return seconds


def deadline_at(job: VideoJob) -> float | None:
    seconds = job.spec.deadline_seconds
    return None if seconds is None else job.created_at + seconds


def expired(job: VideoJob, now: float) -> bool:
    """True when the job's deadline passed and no provider has started any of its runs."""
    at = deadline_at(job)
    if at is None or now < at:
        return False
    return not any(run.submitted_at for run in job.runs)


def message(job: VideoJob) -> str:
    seconds = job.spec.deadline_seconds or 0.0
    return (
        f"no provider started this video within its deadline_seconds ({seconds:g} s); it was not charged. "
        "Submit it again with a longer deadline_seconds, or none"
    )
