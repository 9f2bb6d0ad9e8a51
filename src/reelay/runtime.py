"""The runtime: settings in, every working part out, for ``reelay serve`` and ``reelay worker``.

One place builds the store, the queue, the providers, storage, the relay (the poller of waiting
jobs) and the workers, so the API process and a separate worker process can never disagree on how
a job runs. The web app (``api.app``) wraps a runtime; ``reelay worker`` runs one with no web app.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from reelay import heap
from reelay.api.metrics import MetricsListener, record_ledger_ending
from reelay.api.present import Links
from reelay.api.security_setup import Security, build_security
from reelay.billing.listener import BillingListener
from reelay.catalog import Catalog, load_catalog
from reelay.config import Settings
from reelay.events import LocalEventHub, build_event_hub
from reelay.jobs.collect import Collector
from reelay.jobs.dispatch import Dispatch
from reelay.jobs.events import JobListener
from reelay.jobs.inputs import InputLimits
from reelay.jobs.limits import ProviderLimits, SubmitGate, resolve_limits
from reelay.jobs.migrate import upgrade_database
from reelay.jobs.previews import OnDemandPreviews
from reelay.jobs.queue import InProcessQueue
from reelay.jobs.relay import Relay, RelaySettings
from reelay.jobs.service import VideoService
from reelay.jobs.sole_owner import SoleOwner, sqlite_owner_lock
from reelay.jobs.store import JobStore, make_engine
from reelay.jobs.worker import Worker, WorkerSettings
from reelay.procpool import PROBE_STACK, ProcessPool
from reelay.providers.base import Provider
from reelay.providers.diffusers_engine import DiffusersProvider, build_diffusers_provider
from reelay.providers.hosting import InputLinks
from reelay.providers.local import LocalProvider
from reelay.providers.registry import InstanceSettings, build_remote_providers
from reelay.providers.transport import provider_client
from reelay.routing import Router, load_routing_config
from reelay.scaleout import build_breaker, build_dispatch, build_storage
from reelay.security.fetch import FetchPolicy
from reelay.storage import Storage, UrlSigner, load_or_create_secret

log = logging.getLogger("reelay")

# One media process: a probe is about 10 ms, and the images are made only when asked for, so one
# keeps up with thousands of videos a minute; a second would hold its own ~40 MiB of FFmpeg and Python.
MEDIA_PROCESSES = 1
# FFmpeg's threads in a render or media process would each get a malloc arena (up to 8 a core) whose
# pages stay resident after the task; two are enough for them (reelay.heap).
MEDIA_ARENAS = 2
STOP_SECONDS = 15.0  # the longest a shutdown waits for one part (workers get a 5 s grace inside it)

# Builds extra providers once the process pool exists (tests inject fakes this way).
ProviderFactory = Callable[[ProcessPool], Mapping[str, Provider]]


@dataclass
class Runtime:
    settings: Settings
    store: JobStore
    storage: Storage
    links: Links
    security: Security
    catalog: Catalog
    router: Router
    providers: dict[str, Provider]
    pool: ProcessPool  # local renders
    media: ProcessPool  # probes of collected videos, their posters and spritesheets: one process
    http: httpx.AsyncClient
    dispatch: Dispatch
    worker: Worker
    relay: Relay
    service: VideoService
    events: LocalEventHub  # live job events (GET /v1/videos/{id}/events): in-process, or LISTEN/NOTIFY
    engine: DiffusersProvider | None = None  # the diffusers engine, when reelay.toml declares models
    sole_owner: SoleOwner | None = None  # SQLite: proof that no other process works this database
    _trimmer: asyncio.Task[None] | None = None

    @property
    def runs_workers(self) -> bool:
        return self.settings.workers_in_this_process()

    async def start(self) -> None:
        """Start the workers and the relay (where this process runs them) and webhook deliveries."""
        await self.events.start()
        if self.runs_workers and self.sole_owner is not None and self.sole_owner.acquire():
            released = await self.store.release_all_leases()  # a crashed predecessor's: take them back now
            if released:
                log.info("took back jobs a stopped process held", extra={"jobs": released})
        await self.dispatch.start(self.worker)
        if self.runs_workers:
            await self.relay.start()
            if self.engine is not None:  # preload, when configured, in the process that runs the jobs
                self.engine.start(self.settings.worker_models)
        self.security.deliveries.start()
        self._trimmer = asyncio.create_task(_keep_trimmed())  # a burst's freed heap goes back to the system
        log.info(
            "reelay ready",
            extra={"data_dir": str(self.settings.data_dir), "providers": sorted(self.providers)},
        )

    async def close(self) -> None:
        if self._trimmer is not None:
            self._trimmer.cancel()
        # Each stop is bounded: a shutdown that waits forever on one part (seen once in the suite,
        # cause not yet found) would hang the process; the job table keeps whatever was in flight.
        for name, stop in (
            ("webhook deliveries", self.security.deliveries.stop()),
            ("relay", self.relay.stop()),
            ("workers", self.dispatch.stop(self.worker)),
        ):
            try:
                await asyncio.wait_for(stop, STOP_SECONDS)
            except TimeoutError:
                log.warning("stop timed out; going on", extra={"part": name, "seconds": STOP_SECONDS})
        await self.http.aclose()
        await asyncio.to_thread(self.pool.shutdown)
        await asyncio.to_thread(self.media.shutdown)
        if self.engine is not None:
            await asyncio.to_thread(self.engine.close)
        await self.events.stop()
        await self.store.close()
        if self.sole_owner is not None:
            self.sole_owner.release()


async def _keep_trimmed(interval: float = heap.TRIM_SECONDS) -> None:
    """``heap.trim`` every ``interval`` seconds until cancelled, in a thread: on a heap fragmented by a
    burst it takes a few milliseconds, which the event loop should not wait for."""
    while True:
        await asyncio.sleep(interval)
        await asyncio.to_thread(heap.trim)


async def build_runtime(settings: Settings, *, extra_providers: ProviderFactory | None = None) -> Runtime:
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url()
    await asyncio.to_thread(upgrade_database, url)
    dispatch = build_dispatch(settings)  # in-process queue, or procrastinate (scale-out)
    events = build_event_hub(url)  # told of every committed change; wakes the events streams
    store = JobStore(
        make_engine(url, pool_size=settings.database_pool_size), on_create=dispatch.on_create, on_change=events.changed
    )
    await dispatch.open(store)
    # Media work runs in processes of its own, started on first use, stopped after process_idle_seconds
    # without a task: local renders in their pool, and every probe, poster and spritesheet of a
    # collected video (untrusted media: never parsed in this process) in one media process.
    idle, memory_mb = settings.process_idle_seconds or None, settings.render_memory_mb or None
    pool = ProcessPool(
        settings.local_render_processes, memory_limit_mb=memory_mb, idle_seconds=idle, malloc_arenas=MEDIA_ARENAS
    )
    media = ProcessPool(
        MEDIA_PROCESSES, memory_limit_mb=memory_mb, idle_seconds=idle, malloc_arenas=MEDIA_ARENAS, preload=PROBE_STACK
    )
    storage: Storage = build_storage(settings, data_dir)  # local disk, or an S3-compatible bucket
    # A bucket serves presigned links the API never sees, so its images are made at collection;
    # local files are served by the API, which makes each the first time it is asked for.
    eager_previews = settings.storage != "local"
    if not eager_previews:
        storage = OnDemandPreviews(storage, media, data_dir / "scratch" / "previews")
    links = Links(UrlSigner(load_or_create_secret(data_dir / "secret.key")), settings.public_url, storage)
    security = build_security(settings, store.engine, links)
    catalog = load_catalog(settings.catalog_dirs)
    # every provider call (polls above all): room for the relay's polls, the intake lane and collections
    http = provider_client(settings.poll_concurrency + settings.submit_concurrency + settings.workers + 16)
    providers: dict[str, Provider] = {"local": LocalProvider(pool, data_dir / "work")}
    routing = load_routing_config(settings.config_file)
    instances = {
        name: InstanceSettings(
            type=item.type or name,
            api_key_env=item.api_key_env,
            base_url=item.base_url,
            base_url_env=item.base_url_env,
        )
        for name, item in routing.providers.items()
        if name != "local"
    }
    input_links = InputLinks(storage, links.signer, settings.public_url)  # issue 12: inputs providers fetch by URL
    remote, provider_types = build_remote_providers(os.environ, http, instances, links=input_links)
    providers.update(remote)
    provider_types["local"] = "local"
    if extra_providers is not None:
        extra = extra_providers(pool)
        providers.update(extra)
        provider_types.update({name: name for name in extra})
    # The diffusers engine (docs/gpu.md): the models declared under [diffusers.models], and only those.
    engine = build_diffusers_provider(catalog, routing.diffusers, data_dir / "work")
    if engine is not None:
        providers[engine.name] = engine
        provider_types[engine.name] = engine.name
    breaker = build_breaker(settings, routing)
    serves = {engine.name: engine.serves} if engine is not None else None
    router = Router(catalog, provider_types, config=routing, demo=settings.demo, breaker=breaker, serves=serves)
    overrides = {
        name: ProviderLimits(item.max_in_flight, item.submits_per_second) for name, item in routing.providers.items()
    }
    gate = SubmitGate(resolve_limits(provider_types, overrides), store.in_flight_by_provider)
    billing = BillingListener(security.ledger, catalog, store, on_ended=record_ledger_ending)
    # webhooks first: stored; then the hold settled; then counted
    listeners: list[JobListener] = [security.listener, billing, MetricsListener()]
    worker_settings = WorkerSettings(
        concurrency=settings.workers,
        submit_concurrency=settings.submit_concurrency,
        lease_seconds=settings.job_lease_seconds,
        retention_seconds=settings.retention_hours * 3600,
        max_run_seconds=settings.provider_deadline_seconds,
        backoff_base=settings.retry_backoff_seconds,
        cancel_check_interval=settings.cancel_check_seconds,
    )
    worker = Worker(
        store=store,
        storage=storage,
        providers=providers,
        collector=Collector(storage, media, data_dir / "scratch", eager_previews=eager_previews),
        queue=dispatch.queue,
        cpu_queue=InProcessQueue() if settings.queue == "inprocess" else None,
        scratch_dir=data_dir / "scratch",
        breaker=router.breaker,
        listeners=listeners,
        sweep_hooks=[security.guard.idempotency.purge_expired, billing.reconcile],
        settings=worker_settings,
        gate=gate,
    )
    relay = Relay(
        worker=worker,
        providers=providers,
        settings=RelaySettings(
            concurrency=settings.poll_concurrency,
            lease_seconds=settings.job_lease_seconds,
            max_run_seconds=settings.provider_deadline_seconds,
        ),
        retry=worker_settings.retry,
        gate=gate,
    )
    limits = InputLimits(
        max_image_bytes=settings.max_image_bytes,
        max_video_bytes=settings.max_video_bytes,
        fetch_policy=FetchPolicy(
            allow_http=settings.fetch_allow_http,
            allowed_hosts=frozenset(settings.fetch_allow_hosts),
            timeout=settings.fetch_timeout,
        ),
    )
    service = VideoService(
        store=store,
        storage=storage,
        router=router,
        queue=dispatch.queue,
        limits=limits,
        scratch_base=data_dir / "uploads",
        listeners=listeners,
        input_links_available=input_links.available,
    )
    return Runtime(
        settings=settings,
        store=store,
        storage=storage,
        links=links,
        security=security,
        catalog=catalog,
        router=router,
        providers=providers,
        pool=pool,
        media=media,
        http=http,
        dispatch=dispatch,
        worker=worker,
        relay=relay,
        service=service,
        engine=engine,
        events=events,
        sole_owner=sqlite_owner_lock(url) if settings.queue == "inprocess" else None,
    )


__all__ = ["ProviderFactory", "Runtime", "build_runtime"]
