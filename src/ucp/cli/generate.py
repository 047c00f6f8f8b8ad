"""`ucp generate`: write a synthetic multi-source customer data set with its ground truth."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ucp.errors import UCPError
from ucp.synth import Rates, generate
from ucp.synth.locales import DEFAULT_LOCALES


def register(app: typer.Typer) -> None:
    """Add the `generate` command to `app`."""
    app.command("generate")(generate_command)


def generate_command(
    persons: Annotated[int, typer.Option("--persons", "-n", min=1,
                                         help="How many real people to invent.")] = 1000,
    seed: Annotated[int, typer.Option(help="Same seed and ucp version: byte-identical files.")]
    = 0,
    out: Annotated[Path, typer.Option("--out", "-o", file_okay=False,
                                      help="Directory to write into (created if needed).")]
    = Path("ucp-data"),
    locales: Annotated[str, typer.Option(
        help="Comma-separated Faker locales of the population.")] = ",".join(DEFAULT_LOCALES),
    rates: Annotated[Path | None, typer.Option(
        "--rates", exists=True, dir_okay=False,
        help="JSON file overriding some rates (see rates.json in any output).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64,
                                         help="Processes rendering chunks of people.")] = 1,
    progress: Annotated[bool, typer.Option(
        "--progress/--no-progress", help="Show a progress bar (only on a terminal).")] = True,
) -> None:
    """Generate customer data as six systems hold it, plus the truth of who is who.

    Writes crm.csv, shop_customers.jsonl, shop_orders.jsonl, support_tickets.csv,
    newsletter.csv, pos_receipts.csv and web_events.jsonl, each in its own native columns and
    with realistic errors; truth.csv (source, source_key, person_id) for every record and
    event; a ucp.yaml mapping all the sources; and rates.json (the corruption rates used).
    See docs/data.md.
    """
    console = Console(stderr=True)
    try:
        chosen_rates = Rates.load(rates) if rates else Rates()
        names = [x.strip() for x in locales.split(",") if x.strip()]
        show = progress and sys.stderr.isatty()
        with Progress(TextColumn("generating"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, disable=not show) as bar:
            task = bar.add_task("persons", total=persons)
            summary = generate(out, persons, seed, names, chosen_rates, workers=workers,
                               on_progress=lambda n: bar.advance(task, n))
    except UCPError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from None
    table = Table(title=f"{persons:,} persons written to {out}", title_justify="left")
    table.add_column("source")
    table.add_column("rows", justify="right")
    for source, n in summary.rows.items():
        table.add_row(source, f"{n:,}")
    table.add_row("truth.csv", f"{sum(summary.rows.values()):,}")
    Console().print(table)
