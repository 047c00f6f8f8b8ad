"""`ucp dedupe INPUT`: find the duplicate people in one CSV/Parquet file, no store needed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from ucp.domain.standardize import DateOrder
from ucp.errors import UCPError
from ucp.services.dedupe import dedupe_file
from ucp.services.dedupe_incremental import dedupe_file_incremental

T = TypeVar("T")

_HELP = """Deduplicate the people in one CSV or Parquet file and write id,cluster_id.

Columns are recognised by their usual names (first_name/given_name, surname/last_name, dob or
year/month/day, email, phone, address/street/address_1 (+address_2), street_number,
city/suburb, postcode/zip, state, gender/sex, and id-like columns such as soc_sec_id as an
exact-match column); --map attribute=column names others. Values are standardized, a
Fellegi–Sunter model is trained on the file itself (no labels), and records are clustered
with constrained clustering. Records of one cluster share a cluster_id (the id of the
cluster's first record in id order), whatever the input order — try --order-seed.

Example:

  ucp dedupe people.csv --id-col rec_id --out clusters.csv
"""


def dedupe_command(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="CSV or Parquet file.")],
    id_col: Annotated[str, typer.Option("--id-col", help="Column with a unique row id.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write id,cluster_id.")] =
    Path("clusters.csv"),
    mapping: Annotated[list[str] | None, typer.Option(
        "--map", help="attribute=column, e.g. given_name=vorname (repeatable); an attribute "
        "that is not canonical becomes an exact-match column.")] = None,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", min=0.0, max=1.0,
        help="Match probability from which records are linked [default: settings' auto].")]
    = None,
    country: Annotated[str | None, typer.Option(
        "--country", help="Default ISO country for phones and postcodes, e.g. GB.")] = None,
    date_order: Annotated[str, typer.Option(
        "--date-order", help="How to read 01/02/1990: DMY, MDY or YMD.")] = "YMD",
    incremental: Annotated[bool, typer.Option(
        "--incremental", help="After training on the file, feed the records one at a time "
        "(in the --order-seed order) through the store's incremental path, in a temporary "
        "SQLite store; says whether the clusters equal the batch ones.")] = False,
    order_seed: Annotated[int | None, typer.Option(
        "--order-seed", help="Shuffle the input rows first (the clusters do not change).")]
    = None,
) -> None:
    err = Console(stderr=True)
    order = date_order.upper()
    if order not in ("DMY", "MDY", "YMD"):
        err.print("[red]error:[/red] --date-order must be DMY, MDY or YMD")
        raise typer.Exit(code=2)
    pairs = {}
    for item in mapping or []:
        attribute, sep, column = item.partition("=")
        if not sep or not attribute or not column:
            err.print(f"[red]error:[/red] --map expects attribute=column, got {item!r}")
            raise typer.Exit(code=2)
        pairs[attribute.strip()] = column.strip()
    chosen: DateOrder = "DMY" if order == "DMY" else "MDY" if order == "MDY" else "YMD"
    if incremental:
        _incremental(err, input_path, id_col, out, pairs, threshold, country, chosen,
                     order_seed)
        return
    with err.status("deduplicating…"):
        result = _or_exit(err, lambda: dedupe_file(
            input_path, id_col, out, mapping=pairs, auto=threshold, country=country,
            date_order=chosen, order_seed=order_seed))
    s = result.summary
    err.print(f"{s['records']:,} records -> {s['clusters']:,} clusters "
              f"({s['multi_record_clusters']:,} with duplicates, largest {s['largest_cluster']}); "
              f"{s['candidate_pairs']:,} candidate pairs, {s['links']:,} links, "
              f"{s['refused_links']:,} refused by constraints; model {s['model_version']}")
    err.print("columns: " + ", ".join(f"{a}={c}" for a, c in s["columns"].items())
              + (f"; exact: {', '.join(s['exact_columns'])}" if s["exact_columns"] else "")
              + (f"; ignored: {', '.join(s['ignored_columns'])}" if s["ignored_columns"] else ""))
    _timings_and_out(err, result.timings, out)


def _or_exit(err: Console, work: Callable[[], T]) -> T:
    """`work()`, or exit 2 with its error's message."""
    try:
        return work()
    except UCPError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from None


def _timings_and_out(err: Console, timings: dict[str, float], out: Path) -> None:
    err.print("timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
    err.print(f"wrote {out}")


def _incremental(err: Console, input_path: Path, id_col: str, out: Path,
                 pairs: dict[str, str], threshold: float | None, country: str | None,
                 date_order: DateOrder, order_seed: int | None) -> None:
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=err) as bar:
        task = bar.add_task("records one at a time", total=None)
        result = _or_exit(err, lambda: dedupe_file_incremental(
            input_path, id_col, out, mapping=pairs, auto=threshold, country=country,
            date_order=date_order, order_seed=order_seed,
            progress=lambda done, total: bar.update(task, completed=done, total=total)))
    s = result.summary
    err.print(f"{s['records']:,} records, one at a time (order seed {s['order_seed']}) -> "
              f"{s['clusters']:,} clusters ({s['multi_record_clusters']:,} with duplicates, "
              f"largest {s['largest_cluster']}); model {s['model_version']}")
    err.print(f"per record: median {s['median_ms']} ms, p99 {s['p99_ms']} ms; "
              + ("the same clusters as the batch dedupe" if s["same_as_batch"]
                 else "[red]the clusters differ from the batch dedupe's[/red]"))
    _timings_and_out(err, result.timings, out)
    if not s["same_as_batch"]:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add the `dedupe` command to the `ucp` application."""
    app.command("dedupe", help=_HELP, short_help="Deduplicate the people in one file.")(
        dedupe_command)
