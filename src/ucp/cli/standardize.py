"""`ucp standardize KIND VALUE`: show how one raw value is standardized, as JSON."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from ucp.domain.standardize import KINDS, Context, DateOrder, standardize

_HELP = f"""Standardize one raw VALUE of the given KIND and print the result as JSON.

KIND is one of: {", ".join(KINDS)}.

The JSON object has the display value, the matching form, the parsed parts and the \
quality flags (e.g. invalid, placeholder, ambiguous, role_account, disposable).

Examples:

  ucp standardize phone "020 7946 0958" --country GB

  ucp standardize date 07/03/1985 --day-first

  ucp standardize name "O'BRIEN, Robert J."
"""


def standardize_command(
    kind: Annotated[str, typer.Argument(help=f"What VALUE is: {', '.join(KINDS)}.")],
    value: Annotated[str, typer.Argument(help="The raw value, quoted if it has spaces.")],
    country: Annotated[
        str | None,
        typer.Option("--country", "-c", help="Default ISO country of the source, e.g. GB, DE."),
    ] = None,
    day_first: Annotated[
        bool, typer.Option("--day-first", help="Read 07/03/1985 as 7 March (DMY sources).")
    ] = False,
    month_first: Annotated[
        bool, typer.Option("--month-first", help="Read 07/03/1985 as July 3 (MDY sources).")
    ] = False,
) -> None:
    if kind not in KINDS:
        typer.echo(f"Error: unknown kind {kind!r}. Kinds are: {', '.join(KINDS)}.", err=True)
        raise typer.Exit(code=2)
    if day_first and month_first:
        typer.echo("Error: --day-first and --month-first exclude each other.", err=True)
        raise typer.Exit(code=2)
    order: DateOrder = "DMY" if day_first else "MDY" if month_first else "YMD"
    ctx = Context(country=country.upper() if country else None, date_order=order)
    result = standardize(kind, value, ctx)
    typer.echo(orjson.dumps(result.to_dict()).decode())


def register(app: typer.Typer) -> None:
    """Add the `standardize` command to the `ucp` application."""
    app.command(
        "standardize", help=_HELP, short_help="Standardize one value and print it as JSON."
    )(standardize_command)
