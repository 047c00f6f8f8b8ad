"""The Segment-compatible collector: `/v1/identify|track|page|screen|group|alias|batch|import`.

Authenticated by a source's write key (HTTP Basic user name, as the SDKs send it, or `writeKey`
in the body). 200 means every accepted message is committed to the log; a batch with some bad
messages is still a 200 (the SDKs do not retry a 400) that lists them under `rejected`; a request
whose every message is bad is a 400 problem naming each field (docs/realtime.md).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ucp.api.problems import problem
from ucp.config import UCPConfig
from ucp.connectors.collector import PayloadTooLarge, UnreadableBody
from ucp.errors import StoreError
from ucp.services.collect import Collected, Collector, InboxLog, bus_url
from ucp.services.worker import InboxWorker, WorkerProcess
from ucp.store.store import Store

router = APIRouter(tags=["collector"])
log = logging.getLogger("ucp.collector")

_ROUTES = {
    "identify": "identify", "track": "track", "page": "page", "screen": "screen",
    "group": "group", "alias": "alias", "batch": None, "import": None,
}
_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "a Segment message, or {\"batch\": [messages]} for /v1/batch; "
        "Content-Encoding: gzip accepted",
    }
}


def _basic_user(header: str | None) -> str | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.split(":", 1)[0] or None


async def _collect(request: Request, implied_type: str | None) -> JSONResponse:
    state = request.app.state
    collector: Collector = state.collector
    raw = await request.body()
    path = request.url.path
    try:
        collected: Collected = await run_in_threadpool(
            collector.collect, raw, request.headers.get("content-encoding"), implied_type,
            _basic_user(request.headers.get("authorization")),
        )
    except PayloadTooLarge as exc:
        return problem(413, "payload too large", str(exc), path)
    except UnreadableBody as exc:
        errors = [{"field": exc.field, "reason": exc.reason}]
        return problem(400, "invalid input", str(exc), path, errors=errors)
    rejected = [r.to_dict() for r in collected.rejected]
    if not collected.messages and rejected:
        detail = "; ".join(f"{r['field']}: {r['reason']}" for r in rejected)
        return problem(400, "invalid input", detail, path, errors=rejected)
    sink = state.message_log
    try:
        if isinstance(sink, InboxLog):
            await run_in_threadpool(sink.append, collected.source, collected.messages)
        else:
            await sink.append(collected.source, collected.messages)
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - the bus is down: tell the sender to retry
        log.warning("message log unavailable: %s", type(exc).__name__)
        return problem(503, "log unavailable", "the message log did not acknowledge; retry",
                       path)
    body: dict[str, Any] = {"success": True, "accepted": len(collected.messages),
                            "rejected": rejected}
    return JSONResponse(body)


def _route(implied_type: str | None) -> Any:
    async def handler(request: Request) -> JSONResponse:
        return await _collect(request, implied_type)

    return handler


for _name, _type in _ROUTES.items():
    router.add_api_route(
        f"/{_name}", _route(_type), methods=["POST"], response_model=None,
        summary=f"Segment {_name}" + (" (alias of batch)" if _name == "import" else ""),
        openapi_extra=_BODY_DOC, name=f"collect_{_name}",
    )


@asynccontextmanager
async def realtime(app: FastAPI) -> AsyncIterator[None]:
    """Set up the collector's log for the app's lifetime: NATS when a bus is configured,
    else the inbox table drained by the embedded worker (a child process, or a thread)."""
    from ucp.services.suppression import secret_or_none
    config = app.state.config
    store = app.state.store
    app.state.collector = Collector(config)
    url = bus_url(config)
    worker: InboxWorker | WorkerProcess | None = None
    bus: Any = None
    if url:
        from ucp.connectors.nats_bus import NatsLog

        bus = NatsLog(url, config.collector.stream, config.collector.subject_prefix)
        await bus.connect()
        app.state.message_log = bus
    else:
        if config.collector.embedded_worker and _has_collector_source(config):
            worker = _embedded_worker(store, config, secret_or_none(app.state.settings))
            worker.start()
        app.state.message_log = InboxLog(store, worker.notify if worker else None)
    app.state.inbox_worker = worker
    try:
        yield
    finally:
        if worker is not None:
            worker.stop()
        if bus is not None:
            await bus.close()


def _embedded_worker(
    store: Store, config: UCPConfig, secret: bytes | None
) -> InboxWorker | WorkerProcess:
    """A `WorkerProcess` when configured and the database is reachable from another process
    (a file or a server), else an `InboxWorker` thread."""
    c = config.collector
    url = store.engine.url
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    if c.worker_process and not in_memory:
        return WorkerProcess(url.render_as_string(hide_password=False), config, c.batch_size,
                             c.poll_interval, secret)
    return InboxWorker(store, config, c.batch_size, c.poll_interval, secret=secret)


def install(app: FastAPI) -> None:
    """Defaults for an app used without its lifespan (TestClient without `with`): log to the
    inbox table and leave applying to `ucp worker`; `realtime` replaces them on startup."""
    app.state.collector = Collector(app.state.config)
    app.state.message_log = InboxLog(app.state.store)
    app.state.inbox_worker = None


def _has_collector_source(config: Any) -> bool:
    return any(s.kind == "segment" and s.write_key for s in config.sources.values())
