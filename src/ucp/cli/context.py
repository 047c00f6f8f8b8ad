"""What every `ucp` command shares: consoles, the lazily opened store and config, progress bars
and the mapping of errors to exit codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ucp.config import UCPConfig, load_config
from ucp.errors import ConfigError, InputError, UCPError
from ucp.settings import Settings
from ucp.store.store import Store

out = Console()
err = Console(stderr=True)


class State:
    """What the global options chose; opened lazily so `--help` never touches a database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None
        self._config: UCPConfig | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.settings.database_url)
        return self._store

    @property
    def config(self) -> UCPConfig:
        if self._config is None:
            self._config = load_config(self.settings.config_path)
        return self._config


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


@contextmanager
def progress_bar(label: str, total: int | None = None) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar; yields `update(done, total)`."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    ) as bar:
        task = bar.add_task(label, total=total)

        def update(done: int, total_now: int) -> None:
            bar.update(task, completed=done, total=total_now)

        yield update


def fail(exc: UCPError) -> None:
    err.print(f"[red]error:[/red] {exc}", highlight=False)
    if isinstance(exc, ConfigError) and len(exc.errors) > 1:
        for line in exc.errors:
            err.print(f"  - {line}", highlight=False)
    raise typer.Exit(2 if isinstance(exc, (ConfigError, InputError)) else 1)
