"""`ucp worker`, `ucp traits rebuild`, and the `--bus` choice of `ucp serve` (thin shells)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ucp.config import load_config
from ucp.errors import UCPError
from ucp.services.suppression import secret_or_none
from ucp.settings import Settings
from ucp.store.store import Store

err = Console(stderr=True)
out = Console()
traits_app = typer.Typer(help="Computed traits (lifetime value, order count …).",
                         no_args_is_help=True)


def _settings(ctx: typer.Context) -> Settings:
    state: Any = ctx.find_root().obj
    settings = getattr(state, "settings", None)
    return settings if isinstance(settings, Settings) else Settings()


def _fail(exc: UCPError) -> None:
    err.print(f"[red]error:[/red] {exc}", highlight=False)
    raise typer.Exit(2)


def use_bus(bus: str | None) -> None:
    """`ucp serve --bus nats://HOST:4222`: every server process logs collected messages to NATS
    JetStream instead of the inbox table (and runs no embedded worker). Call before serving."""
    from ucp.services.collect import BUS_ENV

    if bus:
        os.environ[BUS_ENV] = bus


def worker(
    ctx: typer.Context,
    bus: Annotated[str | None, typer.Option(
        help="nats://HOST:4222 to consume NATS JetStream; default: drain the inbox table")] = None,
    batch: Annotated[int, typer.Option(help="messages per transaction")] = 500,
    durable: Annotated[str, typer.Option(help="durable consumer name (shared by workers)")] =
        "ucp-workers",
    once: Annotated[bool, typer.Option(
        help="stop when nothing is pending (inbox) or after 2 s without messages (NATS)")] = False,
) -> None:
    """Apply collected messages: identify → records, track/page/screen → events, traits.

    Several workers may run at once on PostgreSQL (advisory locks around the touched
    identifiers and profiles); each batch is one transaction, idempotent on messageId.
    """
    from ucp.services.worker import InboxWorker, run_bus_worker

    settings = _settings(ctx)
    try:
        config = load_config(settings.config_path)
        store = Store.open(settings.database_url)
        secret = secret_or_none(settings)
    except UCPError as exc:
        _fail(exc)
        return
    bus = bus or config.collector.bus
    try:
        if bus:
            from ucp.connectors.nats_bus import NatsLog

            async def consume() -> int:
                log = NatsLog(bus, config.collector.stream, config.collector.subject_prefix)
                await log.connect()
                try:
                    return await run_bus_worker(store, config, log, durable, batch,
                                                idle_exit=2.0 if once else None,
                                                secret=secret)
                finally:
                    await log.close()

            total = asyncio.run(consume())
        else:
            inbox = InboxWorker(store, config, batch, config.collector.poll_interval,
                                secret=secret)
            if once:
                total = inbox.drain()
            else:
                inbox.start()
                err.print("draining the inbox; Ctrl-C to stop")
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    inbox.stop()
                total = inbox.applied
    except KeyboardInterrupt:
        total = -1
    except UCPError as exc:
        _fail(exc)
        return
    finally:
        store.close()
    if total >= 0:
        out.print(f"applied {total} messages")


def traits_rebuild(ctx: typer.Context) -> None:
    """Recompute every profile's traits from its events (same values as the incremental path)."""
    from ucp.services.traits import rebuild_traits

    settings = _settings(ctx)
    try:
        config = load_config(Path(settings.config_path))
        store = Store.open(settings.database_url)
        n = rebuild_traits(store, config)
        store.close()
    except UCPError as exc:
        _fail(exc)
        return
    out.print(f"recomputed the traits of {n} profiles")


def register(app: typer.Typer) -> None:
    """Add `ucp worker` and `ucp traits rebuild` to the `ucp` command."""
    app.command("worker")(worker)
    traits_app.command("rebuild")(traits_rebuild)
    app.add_typer(traits_app, name="traits")
