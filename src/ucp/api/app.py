"""`create_app(settings)`: builds the FastAPI application; nothing happens at import time."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ucp import __version__
from ucp.api import problems
from ucp.api.routes import changes, profiles, records, resolution, steward, system
from ucp.api.routes import collector as collector_routes
from ucp.api.routes import consent as consent_routes
from ucp.api.routes import privacy as privacy_routes
from ucp.config import UCPConfig, load_config
from ucp.services.audit import AuditBuffer
from ucp.services.keys import KeyCache
from ucp.settings import Settings
from ucp.store.store import Store

log = logging.getLogger("ucp.api")


class RequestIdMiddleware:
    """Gives each request an id (`x-request-id`, echoed back) and logs method, path, status,
    time. Plain ASGI: Starlette's `BaseHTTPMiddleware` costs more than a profile lookup."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = (
            next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
            or uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)
        if log.isEnabledFor(logging.INFO):
            # paths only: identifiers travel in query strings and must not reach the logs
            log.info(
                "%s %s %d %.1fms",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
            )


def create_app(
    settings: Settings, config: UCPConfig | None = None, store: Store | None = None
) -> FastAPI:
    """The API for one store and one configuration."""
    config = config or load_config(settings.config_path)
    owned = store is None
    store = store or Store.open(settings.database_url)

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        app_.state.read_audit.start()
        try:
            async with collector_routes.realtime(app_):
                yield
        finally:
            app_.state.read_audit.close()
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
    # hot-path helpers: a key is re-checked every 2 s, profile reads are audited in batches
    app.state.keys = KeyCache(store, ttl=2.0)
    app.state.read_audit = AuditBuffer(store)
    problems.install(app)
    collector_routes.install(app)

    app.add_middleware(RequestIdMiddleware)

    app.include_router(system.router)
    app.include_router(profiles.router, prefix="/v1")
    app.include_router(changes.router, prefix="/v1")
    app.include_router(steward.router, prefix="/v1")
    app.include_router(records.router, prefix="/v1")
    app.include_router(resolution.router, prefix="/v1")
    app.include_router(collector_routes.router, prefix="/v1")
    app.include_router(consent_routes.router, prefix="/v1")
    app.include_router(privacy_routes.router, prefix="/v1")
    return app
