"""The embedded gateway's proof that it works its SQLite database alone, and what it does with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reelay.jobs.models import JobStatus
from reelay.jobs.sole_owner import SoleOwner, sqlite_owner_lock
from reelay.jobs.store import JobStore
from tests.jobs.conftest import new_job


def test_one_holder_at_a_time_and_the_lock_goes_with_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / "reelay.db.owner"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import fcntl, os, sys, time\nfd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(600)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        mine = SoleOwner(path)
        assert not mine.acquire()  # another live process serves this database
        holder.kill()
        holder.wait(timeout=30)
        assert mine.acquire()  # SIGKILL dropped its lock: nobody else is there
        other = SoleOwner(path)
        assert not other.acquire()
        mine.release()
        assert other.acquire()
        other.release()
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_only_a_sqlite_file_gets_a_lock(tmp_path: Path) -> None:
    lock = sqlite_owner_lock(f"sqlite+aiosqlite:///{tmp_path}/reelay.db")
    assert lock is not None and lock.path == tmp_path / "reelay.db.owner"
    assert sqlite_owner_lock("sqlite+aiosqlite:///:memory:") is None
    assert sqlite_owner_lock("postgresql+psycopg://postgres@127.0.0.1/reelay") is None


async def test_release_all_leases_frees_unfinished_jobs_only(store: JobStore) -> None:
    await store.create(new_job("video_running"))
    await store.create(new_job("video_done"))
    assert await store.claim("video_running", "dead_worker", 3600)
    assert await store.claim("video_done", "dead_worker", 3600)
    assert await store.complete("video_done", "dead_worker", [], retention_seconds=3600)
    assert [job.video_id for job in await store.claimable()] == []  # leased for an hour
    assert await store.release_all_leases() == 1
    assert [job.video_id for job in await store.claimable()] == ["video_running"]
    done = await store.get("video_done")
    assert done is not None and done.status is JobStatus.COMPLETED
