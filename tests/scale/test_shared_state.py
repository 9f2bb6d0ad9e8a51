"""Shared coordination state: circuit breakers of separate processes agree through Redis, and the
settings pick the scale-out pieces only when configured."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import redis

from reelay.config import Settings
from reelay.jobs.dispatch import InProcessDispatch
from reelay.jobs.migrate import sync_url
from reelay.routing.breaker import CircuitBreaker
from reelay.routing.config import RoutingConfig
from reelay.scaleout import build_breaker, build_dispatch, build_storage
from reelay.shared_state import RedisBreakerState
from reelay.storage import LocalStorage
from tests.scale.cluster import free_port


def _breaker(url: str, prefix: str) -> CircuitBreaker:
    state = RedisBreakerState(redis.Redis.from_url(url, decode_responses=True), prefix=prefix)
    return CircuitBreaker(failure_threshold=2, cooldown_seconds=60, state=state, clock=time.time)


def test_a_circuit_opened_by_one_process_is_open_for_another(redis_url: str) -> None:
    prefix = f"reelay-test:{uuid.uuid4().hex}:"
    api, worker = _breaker(redis_url, prefix), _breaker(redis_url, prefix)  # two processes' breakers
    worker.record_failure("xai")
    worker.record_failure("xai")
    assert api.status("xai") == "open" and not api.allow("xai")
    api.record_success("xai")
    assert worker.status("xai") == "closed"
    redis.Redis.from_url(redis_url).delete(prefix + "xai")


def test_an_unreachable_redis_fails_open() -> None:
    breaker = _breaker(f"redis://127.0.0.1:{free_port()}/0", "x:")
    breaker.record_failure("xai")  # logged, not raised
    assert breaker.allow("xai")


def test_the_embedded_default_needs_no_services(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert isinstance(build_storage(settings, tmp_path), LocalStorage)
    dispatch = build_dispatch(settings)
    assert isinstance(dispatch, InProcessDispatch) and dispatch.run_workers
    assert build_breaker(settings, RoutingConfig()) is None
    assert not Settings(data_dir=tmp_path, queue="procrastinate").workers_in_this_process()


def test_database_urls_map_to_psycopg_3() -> None:
    assert Settings(database_url="postgresql://u@h/db").resolved_database_url() == "postgresql+psycopg://u@h/db"
    assert sync_url("postgresql+psycopg://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert sync_url("postgresql+asyncpg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert sync_url("sqlite+aiosqlite:///x.db") == "sqlite:///x.db"
