"""The web app: settings in, a FastAPI app out, wrapping a ``reelay.runtime.Runtime``.

The runtime (database, storage, catalog, providers, router, queue, relay, workers, service) is built
by ``reelay.runtime`` for this app and for ``reelay worker`` alike; this module adds only the HTTP
side (routes, middleware, error handlers, OpenAPI), so tests build the same app with fakes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from reelay import __version__
from reelay.api import errors
from reelay.api.body_limit import BodyLimitMiddleware
from reelay.api.deps import AppContext, principal
from reelay.api.metrics import metrics_access
from reelay.api.metrics import router as metrics_router
from reelay.api.polling_route import PollingShortcut
from reelay.api.request_context import RequestContextMiddleware
from reelay.api.routes_admin import router as admin_router
from reelay.api.routes_characters import router as characters_router
from reelay.api.routes_events import router as events_router
from reelay.api.routes_files import router as files_router
from reelay.api.routes_health import router as health_router
from reelay.api.routes_models import router as models_router
from reelay.api.routes_playground import mount_playground
from reelay.api.routes_usage import router as usage_router
from reelay.api.routes_videos import DOCUMENTED_BODIES
from reelay.api.routes_videos import router as videos_router
from reelay.api.routes_webhooks import router as webhooks_router
from reelay.config import Settings
from reelay.runtime import ProviderFactory, build_runtime

log = logging.getLogger("reelay")

_API_PREFIXES = ("/v1", "/openai/v1")


def create_app(settings: Settings | None = None, *, extra_providers: ProviderFactory | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await build_runtime(settings, extra_providers=extra_providers)
        app.state.warming = []  # the render pool starts its processes when the first local task arrives
        app.state.ctx = AppContext(
            service=runtime.service,
            links=runtime.links,
            catalog=runtime.catalog,
            router=runtime.router,
            max_part_bytes=settings.max_image_bytes * 4 // 3 + 1024 * 1024,
            guard=runtime.security.guard,
        )
        app.state.runtime = runtime
        app.state.events = runtime.events  # GET /v1/videos/{id}/events (api.routes_events)
        app.state.worker = runtime.worker
        await runtime.start()
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title="Reelay",
        version=__version__,
        description="Self-hostable, OpenAI-compatible video-generation gateway.",
        lifespan=lifespan,
        docs_url=None,  # served by mount_playground with Swagger UI's files from the package: works offline
        redoc_url=None,
    )
    errors.install(app)
    app.add_middleware(PollingShortcut, prefixes=_API_PREFIXES)  # added first = innermost: the polled GET
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.add_middleware(RequestContextMiddleware)  # added last = outermost: request id, access log, metrics
    authenticated = [Depends(principal)]  # runs once per request even where a route also asks for it
    for prefix in _API_PREFIXES:
        # Authenticated (API keys): every route but health, docs and signed /v1/files links.
        app.include_router(videos_router, prefix=prefix, dependencies=authenticated)
        app.include_router(events_router, prefix=prefix, dependencies=authenticated)
        app.include_router(characters_router, prefix=prefix, dependencies=authenticated)
        app.include_router(models_router, prefix=prefix, dependencies=authenticated)
        app.include_router(webhooks_router, prefix=prefix, dependencies=authenticated)
        app.include_router(usage_router, prefix=prefix, dependencies=authenticated)
        app.include_router(files_router, prefix=prefix)  # issue 13: /openai/v1 too, as the README says
        app.include_router(admin_router, prefix=prefix)
    app.include_router(health_router)
    app.include_router(metrics_router, dependencies=[Depends(metrics_access(settings.metrics_access))])
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
