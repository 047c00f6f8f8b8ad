"""`ucp records delete …`: a source retracts records it no longer holds."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from ucp.cli.context import fail, out, state
from ucp.cli.steward import actor
from ucp.errors import UCPError

records_app = typer.Typer(help="Source records: delete what a source retracted.",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(records_app, name="records")


@records_app.command("delete")
def delete(
    ctx: typer.Context,
    records: Annotated[list[str], typer.Argument(help="records to delete, SOURCE:KEY")],
) -> None:
    """Delete records (history is kept); their profiles are re-resolved and may split."""
    from ucp.services.records import delete_records

    st = state(ctx)
    try:
        report = delete_records(st.store, st.config, records, actor())
    except UCPError as exc:
        fail(exc)
        return
    out.print_json(orjson.dumps(report.to_dict()).decode())
