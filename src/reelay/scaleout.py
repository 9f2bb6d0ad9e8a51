"""Settings → the parts that differ between the embedded default and the scale-out mode.

Only the composition root (``api.app.create_app``) calls these. The scale-out dependencies
(procrastinate, boto3, redis: the ``reelay[scale]`` extra) are imported only when configured, so the
embedded default (SQLite, local disk, in-process workers) needs none of them.
"""

from __future__ import annotations

import time
from pathlib import Path

from reelay.config import Settings
from reelay.jobs.dispatch import Dispatch, InProcessDispatch
from reelay.routing.breaker import CircuitBreaker
from reelay.routing.config import RoutingConfig
from reelay.storage import LocalStorage, Storage


def build_storage(settings: Settings, data_dir: Path) -> Storage:
    if settings.storage == "local":
        return LocalStorage(data_dir / "files")
    from reelay.storage.s3 import S3Settings, S3Storage

    if not settings.s3_bucket:
        raise ValueError("REELAY_STORAGE=s3 needs REELAY_S3_BUCKET (and REELAY_S3_ENDPOINT_URL for MinIO or R2)")
    s3 = S3Settings(
        bucket=settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url,
        public_endpoint_url=settings.s3_public_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
        prefix=settings.s3_prefix,
    )
    return S3Storage(s3, data_dir / "cache")


def build_dispatch(settings: Settings) -> Dispatch:
    run_workers = settings.workers_in_this_process()
    if settings.queue == "inprocess":
        return InProcessDispatch(run_workers=run_workers)
    from reelay.jobs.procrastinate_worker import ProcrastinateDispatch

    return ProcrastinateDispatch(
        settings.resolved_database_url(),
        run_workers=run_workers,
        queues=_worker_queues(settings),
        concurrency=settings.workers,
        sweep_seconds=settings.sweep_seconds,
    )


def _worker_queues(settings: Settings) -> list[str] | None:
    """The procrastinate queues this process takes jobs from (None: all of them)."""
    if not settings.worker_models and not settings.worker_providers:
        return None
    from reelay.catalog import load_catalog
    from reelay.jobs.procrastinate_queue import worker_queues
    from reelay.providers.registry import SPECS
    from reelay.routing import load_routing_config

    catalog = load_catalog(settings.catalog_dirs)
    models = [catalog.get(name).id for name in settings.worker_models]
    providers = {"local", *(spec.name for spec in SPECS), *load_routing_config(settings.config_file).providers}
    every_model = [card.id for card in catalog.cards()]
    return worker_queues(providers, every_model, only_providers=settings.worker_providers, only_models=models)


def build_breaker(settings: Settings, routing: RoutingConfig) -> CircuitBreaker | None:
    """A breaker whose state every process shares (Redis), or None: the router keeps its own."""
    if not settings.redis_url:
        return None
    from reelay.shared_state import RedisBreakerState

    return CircuitBreaker(
        failure_threshold=routing.circuit_breaker.failure_threshold,
        cooldown_seconds=routing.circuit_breaker.cooldown_seconds,
        state=RedisBreakerState.from_url(settings.redis_url),
        clock=time.time,  # wall clock: comparable across processes and machines
    )
