"""`create_app(settings)`: builds the FastAPI application; nothing happens at import time."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from ucp import __version__
from ucp.api import problems
from ucp.api.routes import changes, profiles, resolution, steward, system
from ucp.api.routes import collector as collector_routes
from ucp.api.routes import consent as consent_routes
from ucp.api.routes import privacy as privacy_routes
from ucp.config import UCPConfig, load_config
from ucp.settings import Settings
from ucp.store.store import Store

log = logging.getLogger("ucp.api")


def create_app(
    settings: Settings, config: UCPConfig | None = None, store: Store | None = None
) -> FastAPI:
    """The API for one store and one configuration."""
    config = config or load_config(settings.config_path)
    owned = store is None
    store = store or Store.open(settings.database_url)

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        async with collector_routes.realtime(app_):
            yield
        if owned:
            store.close()

    app = FastAPI(
        title="ucp",
        version=__version__,
        summary="Unified Customer Profile API",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.config = config
    app.state.store = store
    problems.install(app)
    collector_routes.install(app)

    @app.middleware("http")
    async def request_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.state.request_id = rid
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["x-request-id"] = rid
        # paths only: identifiers travel in query strings and must not reach the logs
        log.info(
            "%s %s %d %.1fms",
            request.method,
            request.url.path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    app.include_router(system.router)
    app.include_router(profiles.router, prefix="/v1")
    app.include_router(changes.router, prefix="/v1")
    app.include_router(steward.router, prefix="/v1")
    app.include_router(resolution.router, prefix="/v1")
    app.include_router(collector_routes.router, prefix="/v1")
    app.include_router(consent_routes.router, prefix="/v1")
    app.include_router(privacy_routes.router, prefix="/v1")
    return app
