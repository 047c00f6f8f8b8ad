"""Running the API under uvicorn; worker processes build the app from `UCP_*` settings."""

from __future__ import annotations

import os

import uvicorn
from fastapi import FastAPI

from ucp.settings import Settings


def app_from_env() -> FastAPI:
    """uvicorn factory: each worker process builds its own app and store."""
    from ucp.api.app import create_app

    return create_app(Settings())


def run_server(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Serve until interrupted; settings reach worker processes through the environment."""
    os.environ["UCP_DATABASE_URL"] = settings.database_url
    os.environ["UCP_CONFIG_PATH"] = str(settings.config_path.resolve())
    uvicorn.run(
        "ucp.api.factory:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )
