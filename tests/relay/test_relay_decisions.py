"""What the relay decides from one poll, against a real store: what it writes, and whether a client
hears of it (an event is a NOTIFY on PostgreSQL, so a poll that changed nothing visible sends none)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from reelay.jobs.limits import SubmitGate
from reelay.jobs.migrate import upgrade_database
from reelay.jobs.models import Stage
from reelay.jobs.relay import Relay, RelaySettings
from reelay.jobs.retry import RetryPolicy
from reelay.jobs.spec import RunRecord
from reelay.jobs.store import JobStore, WaitingJob, make_engine
from reelay.providers.base import PollResult
from tests.jobs.conftest import new_job


class _Upstream:
    """Answers every poll with the next scripted result."""

    name = "scripted"

    def __init__(self, *answers: PollResult) -> None:
        self.answers = list(answers)

    async def poll(self, upstream_id: str) -> PollResult:
        return self.answers.pop(0)

    async def cancel(self, upstream_id: str) -> None:
        return None


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[JobStore]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"
    upgrade_database(url)
    store = JobStore(make_engine(url))
    yield store
    await store.close()


async def _waiting(store: JobStore) -> WaitingJob:
    await store.create(new_job("video_a"))
    await store.claim("video_a", "w1", 30, stages=(Stage.SUBMIT,), start=False)
    run = RunRecord(index=0, provider="scripted", upstream_id="up_1", submitted_at=time.time(), phase="running")
    await store.begin_wait("video_a", "w1", [run], due_at=0.0)
    [job] = await store.claim_due_polls("relay", 30, limit=1)
    return job


def _relay(store: JobStore, upstream: _Upstream) -> Relay:
    async def no_counts() -> dict[str, int]:
        return {}

    return Relay(
        worker=SimpleNamespace(store=store),  # type: ignore[arg-type]  (these decisions use only its store)
        providers={"scripted": upstream},  # type: ignore[dict-item]
        settings=RelaySettings(),
        retry=RetryPolicy(),
        gate=SubmitGate({}, no_counts),
    )


async def test_an_unchanged_poll_is_written_but_not_announced(store: JobStore) -> None:
    job = await _waiting(store)
    relay = _relay(store, _Upstream(PollResult("running", progress=0.0, poll_after=5.0)))
    update = await relay._decide(job)
    assert update is not None and update.stage is Stage.WAIT and not update.visible
    assert update.due_at is not None and update.due_at >= time.time() + 4  # the provider's pace


async def test_progress_and_the_end_of_the_generation_are_announced(store: JobStore) -> None:
    job = await _waiting(store)
    relay = _relay(store, _Upstream(PollResult("running", progress=0.5), PollResult("succeeded", output_urls=("u",))))
    moved = await relay._decide(job)
    assert moved is not None and moved.visible and moved.progress == 47
    done = await relay._decide(job)
    assert done is not None and done.stage is Stage.COLLECT and done.visible and done.runs[0].output_urls == ["u"]
