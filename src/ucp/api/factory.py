"""Running the API under uvicorn; worker processes build the app from `UCP_*` settings."""

from __future__ import annotations

import asyncio
import os
import socket

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ucp.settings import Settings


def _no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's pure-Python HTTP/1.1 protocol with TCP_NODELAY on every connection.

    With `--workers` > 1 uvicorn binds the listening socket itself (protocol number 0), so
    asyncio does not set TCP_NODELAY on accepted sockets; a response written as headers then
    body then waits ~40 ms for the client's delayed ACK. Setting it here fixes every mode.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """The same with httptools' C parser (less CPU per request than h11)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)


def app_from_env() -> FastAPI:
    """uvicorn factory: each worker process builds its own app and store."""
    from ucp.api.app import create_app

    return create_app(Settings())


def run_server(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Serve until interrupted; settings reach worker processes through the environment.

    uvloop is used when installed (`loop="auto"`), and httptools parses HTTP.
    """
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
        loop="auto",
        http=NoDelayHttpToolsProtocol,
    )
