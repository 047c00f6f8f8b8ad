"""Health and version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ucp import __version__

router = APIRouter(tags=["system"])


@router.get("/healthz", summary="Liveness and database reachability")
def healthz(request: Request) -> dict[str, Any]:
    with request.app.state.store.read() as tx:
        tx.ping()
    return {"status": "ok", "version": __version__}
