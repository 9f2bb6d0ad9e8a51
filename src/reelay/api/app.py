"""The composition root: settings in, a wired FastAPI app out.

Everything is built here and nowhere else (database, storage, catalog, providers, router, queue,
worker, service), so tests can build the same app with fakes and a temporary data directory.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from reelay import __version__
from reelay.api import errors
from reelay.api.body_limit import BodyLimitMiddleware
from reelay.api.deps import AppContext, principal
from reelay.api.metrics import MetricsListener
from reelay.api.metrics import router as metrics_router
from reelay.api.polling_route import PollingShortcut
from reelay.api.present import Links
from reelay.api.request_context import RequestContextMiddleware
from reelay.api.routes_admin import router as admin_router
from reelay.api.routes_files import router as files_router
from reelay.api.routes_health import router as health_router
from reelay.api.routes_models import router as models_router
from reelay.api.routes_playground import mount_playground
from reelay.api.routes_videos import DOCUMENTED_BODIES
from reelay.api.routes_videos import router as videos_router
from reelay.api.routes_webhooks import router as webhooks_router
from reelay.api.security_setup import build_security
from reelay.catalog import load_catalog
from reelay.config import Settings
from reelay.jobs.inputs import InputLimits
from reelay.jobs.migrate import upgrade_database
from reelay.jobs.service import VideoService
from reelay.jobs.store import JobStore, make_engine
from reelay.jobs.worker import JobListener, Worker, WorkerSettings
from reelay.procpool import ProcessPool
from reelay.providers.base import Provider
from reelay.providers.local import LocalProvider
from reelay.providers.registry import InstanceSettings, build_remote_providers
from reelay.routing import Router, load_routing_config
from reelay.scaleout import build_breaker, build_dispatch, build_storage
from reelay.security.fetch import FetchPolicy
from reelay.storage import UrlSigner, load_or_create_secret

log = logging.getLogger("reelay")

# Builds extra providers once the process pool exists (tests inject fakes this way).
ProviderFactory = Callable[[ProcessPool], Mapping[str, Provider]]


_API_PREFIXES = ("/v1", "/openai/v1")


def create_app(settings: Settings | None = None, *, extra_providers: ProviderFactory | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        data_dir = settings.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        url = settings.resolved_database_url()
        await asyncio.to_thread(upgrade_database, url)
        dispatch = build_dispatch(settings)  # in-process queue, or procrastinate (scale-out)
        store = JobStore(make_engine(url, pool_size=settings.database_pool_size), on_create=dispatch.on_create)
        await dispatch.open(store)
        storage = build_storage(settings, data_dir)  # local disk, or an S3-compatible bucket
        signer = UrlSigner(load_or_create_secret(data_dir / "secret.key"))
        security = build_security(settings, store.engine, Links(signer, settings.public_url, storage))
        catalog = load_catalog(settings.catalog_dirs)
        pool = ProcessPool(settings.local_render_processes)
        app.state.warming = pool.warm_up() if settings.workers_in_this_process() else []
        http = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=True, trust_env=False)
        providers: dict[str, Provider] = {"local": LocalProvider(pool, data_dir / "work")}
        routing = load_routing_config(settings.config_file)
        instances = {
            name: InstanceSettings(
                type=item.type or name, api_key_env=item.api_key_env, base_url=item.base_url,
                base_url_env=item.base_url_env,
            )
            for name, item in routing.providers.items()
            if name != "local"
        }
        remote, provider_types = build_remote_providers(os.environ, http, instances)
        providers.update(remote)
        provider_types["local"] = "local"
        if extra_providers is not None:
            extra = extra_providers(pool)
            providers.update(extra)
            provider_types.update({name: name for name in extra})
        router = Router(
            catalog, provider_types, config=routing, demo=settings.demo, breaker=build_breaker(settings, routing)
        )
        queue = dispatch.queue
        listeners: list[JobListener] = [security.listener, MetricsListener()]
        worker = Worker(
            store=store,
            storage=storage,
            providers=providers,
            pool=pool,
            queue=queue,
            scratch_dir=data_dir / "scratch",
            breaker=router.breaker,
            # webhooks: the delivery row is stored before the worker moves on; then the metrics
            listeners=listeners,
            sweep_hooks=[security.guard.idempotency.purge_expired],
            settings=WorkerSettings(
                concurrency=settings.workers,
                lease_seconds=settings.job_lease_seconds,
                retention_seconds=settings.retention_hours * 3600,
                max_run_seconds=settings.provider_deadline_seconds,
                backoff_base=settings.retry_backoff_seconds,
                cancel_check_interval=settings.cancel_check_seconds,
            ),
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
            queue=queue,
            limits=limits,
            scratch_base=data_dir / "uploads",
            listeners=listeners,
        )
        app.state.ctx = AppContext(
            service=service,
            links=Links(signer, settings.public_url, storage),
            catalog=catalog,
            router=router,
            max_part_bytes=settings.max_image_bytes * 4 // 3 + 1024 * 1024,
            guard=security.guard,
        )
        app.state.worker = worker
        await dispatch.start(worker)
        security.deliveries.start()
        log.info("reelay ready", extra={"data_dir": str(data_dir), "providers": sorted(providers)})
        try:
            yield
        finally:
            await security.deliveries.stop()
            await dispatch.stop(worker)
            await http.aclose()
            await asyncio.to_thread(pool.shutdown)
            await store.close()

    app = FastAPI(
        title="Reelay",
        version=__version__,
        description="Self-hostable, OpenAI-compatible video-generation gateway.",
        lifespan=lifespan,
    )
    errors.install(app)
    app.add_middleware(PollingShortcut, prefixes=_API_PREFIXES)  # added first = innermost: the polled GET
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.add_middleware(RequestContextMiddleware)  # added last = outermost: request id, access log, metrics
    authenticated = [Depends(principal)]  # runs once per request even where a route also asks for it
    for prefix in _API_PREFIXES:
        # Authenticated (API keys): every route but health, docs and signed /v1/files links.
        app.include_router(videos_router, prefix=prefix, dependencies=authenticated)
        app.include_router(models_router, prefix=prefix, dependencies=authenticated)
        app.include_router(webhooks_router, prefix=prefix, dependencies=authenticated)
    app.include_router(files_router, prefix="/v1")
    app.include_router(admin_router, prefix="/v1")
    app.include_router(health_router)
    app.include_router(metrics_router)
    mount_playground(app)  # the web playground at / and /playground (static files in api/static/)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema plus the request bodies that routes parse by hand (JSON or multipart)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in DOCUMENTED_BODIES:
        definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(definition.pop("$defs", {}))
        components[model.__name__] = definition
    app.openapi_schema = schema
    return schema
