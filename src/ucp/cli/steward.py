"""`ucp steward …`: merge, split, list and revoke steward decisions from the shell."""

from __future__ import annotations

import getpass
from typing import Annotated

import orjson
import typer
from rich.table import Table

from ucp.cli.context import fail as _fail
from ucp.cli.context import out
from ucp.cli.context import state as _state
from ucp.errors import UCPError

steward_app = typer.Typer(
    help="Fix matches: merge, split, list and revoke decisions.", no_args_is_help=True
)


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def register(app: typer.Typer) -> None:
    app.add_typer(steward_app, name="steward")


@steward_app.command("merge")
def merge(
    ctx: typer.Context,
    profile_ids: Annotated[list[str], typer.Argument(help="two or more profile ids")],
    reason: Annotated[str | None, typer.Option(help="why (kept in the audit log)")] = None,
) -> None:
    """Merge profiles into one person; later resolutions keep them together."""
    from ucp.services import steward

    st = _state(ctx)
    try:
        result = steward.merge(st.store, st.config, profile_ids, actor(), reason)
    except UCPError as exc:
        _fail(exc)
        return
    out.print_json(orjson.dumps(result.to_dict()).decode())


@steward_app.command("split")
def split(
    ctx: typer.Context,
    profile_id: Annotated[str, typer.Argument(help="the profile to split")],
    record: Annotated[list[str], typer.Option("--record", "-r", help="SOURCE:KEY to move out")],
    reason: Annotated[str | None, typer.Option(help="why (kept in the audit log)")] = None,
) -> None:
    """Move records out of a profile; later resolutions keep them apart."""
    from ucp.services import steward

    st = _state(ctx)
    try:
        result = steward.split(st.store, st.config, profile_id, record, actor(), reason)
    except UCPError as exc:
        _fail(exc)
        return
    out.print_json(orjson.dumps(result.to_dict()).decode())


@steward_app.command("constraints")
def constraints(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="include revoked ones")] = False,
) -> None:
    """List steward constraints, newest first."""
    from ucp.services import steward

    table = Table("id", "kind", "a", "b", "actor", "created", "revoked")
    for c in steward.list_constraints(_state(ctx).store, active_only=not all_):
        table.add_row(
            str(c["id"]),
            c["kind"],
            f"{c['source_a']}:{c['key_a']}",
            f"{c['source_b']}:{c['key_b']}",
            c["actor"],
            str(c["created_at"]),
            str(c["revoked_at"] or ""),
        )
    out.print(table)


@steward_app.command("revoke")
def revoke(
    ctx: typer.Context,
    constraint_id: Annotated[int, typer.Argument(help="constraint id")],
) -> None:
    """Revoke a constraint; the records it touched are resolved again."""
    from ucp.services import steward

    st = _state(ctx)
    try:
        result = steward.revoke(st.store, st.config, constraint_id, actor())
    except UCPError as exc:
        _fail(exc)
        return
    out.print_json(orjson.dumps(result.to_dict()).decode())
