"""`ucp demo`: generate data, ingest every source, resolve, summarise, make a key, serve."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ucp.config import load_config
from ucp.domain.evaluation import evaluate
from ucp.errors import InputError
from ucp.services.evaluate import load_truth, store_clusters
from ucp.services.ingest import ingest_file
from ucp.services.keys import create_key
from ucp.services.resolution import build_resolver, resolve_all
from ucp.services.training import train_model
from ucp.settings import Settings
from ucp.store.store import Store
from ucp.synth import generate

ProgressFactory = Callable[..., AbstractContextManager[Callable[[int, int], None]]]


def source_file(data: Path, source: str) -> Path:
    """The generated file of a source: `<source>.<ext>` in the data folder."""
    matches = sorted(p for p in data.glob(f"{source}.*") if p.suffix in (".csv", ".jsonl"))
    if not matches:
        raise InputError(f"no file for source {source!r} in {data}")
    return matches[0]


def run_demo(
    *,
    persons: int,
    seed: int,
    directory: Path,
    port: int,
    serve: bool,
    out: Console,
    err: Console,
    progress: ProgressFactory,
) -> None:
    started = time.perf_counter()
    if directory.exists():
        shutil.rmtree(directory)
    data = directory / "data"
    with progress(f"generate {persons} persons", persons) as update:
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            update(done, persons)

        generate(data, persons=persons, seed=seed, on_progress=step)
    config_path = data / "ucp.yaml"
    config = load_config(config_path)
    db_url = f"sqlite:///{(directory / 'ucp.db').resolve()}"
    store = Store.open(db_url)
    table = Table(
        "source",
        "rows",
        "records",
        "events",
        "rejected",
        "seconds",
        title="ingest",
        title_justify="left",
    )
    for source in config.sources:
        path = source_file(data, source)
        with progress(f"ingest {source}") as update:
            report = ingest_file(
                store,
                config,
                source,
                path,
                rejects_path=directory / "rejects" / f"{source}.csv",
                progress=update,
                resolve=False,
            )
        table.add_row(
            source,
            str(report.rows),
            str(report.inserted + report.updated),
            str(report.events_inserted),
            str(report.rejected),
            f"{report.seconds:.1f}",
        )
    out.print(table)
    with err.status("training the matching model …"):
        trained = train_model(store, config, actor="demo")
    with progress("resolve") as update:
        resolve_all(store, build_resolver(config, store), progress=update)
    with store.read() as tx:
        counts = tx.counts()
    predicted, _ = store_clusters(store)
    score = evaluate(load_truth(data / "truth.csv"), predicted)
    out.print(
        f"[bold]{counts['records']}[/bold] records and [bold]{counts['events']}[/bold] events "
        f"from {len(config.sources)} sources → [bold]{counts['profiles']}[/bold] profiles "
        f"({counts['links']} links) for {persons} real persons, "
        f"in {time.perf_counter() - started:.1f} s"
    )
    out.print(
        f"model {trained.model.version} trained on {trained.records} records; against the "
        f"ground truth: pairwise F1 [bold]{score.pairwise_f1:.3f}[/bold] "
        f"(precision {score.pairwise_precision:.3f}, recall {score.pairwise_recall:.3f}), "
        f"B-cubed F1 {score.bcubed_f1:.3f}"
    )
    out.print(
        f"score it: ucp --db {db_url} --config {config_path} evaluate --truth {data / 'truth.csv'}"
    )
    key, secret = create_key(store, "admin", name="demo", actor="demo")
    store.close()
    base = f"http://127.0.0.1:{port}"
    out.print(f"\nAPI key (role admin, made for this run): [bold]{secret}[/bold]")
    out.print(f"API: {base}  (OpenAPI docs: {base}/docs)")
    out.print(f'try: curl -H "Authorization: Bearer {secret}" "{base}/v1/profiles?limit=3"')
    if serve:
        from ucp.api.factory import run_server

        err.print("serving until Ctrl-C …")
        run_server(Settings(database_url=db_url, config_path=config_path), "127.0.0.1", port)
