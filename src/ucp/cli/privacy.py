"""`ucp dsr|suppression|consent|export|retention`: privacy from the shell (thin over services)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from ucp.cli.context import err, fail, out, progress_bar, state
from ucp.cli.steward import actor
from ucp.errors import InputError, UCPError

dsr_app = typer.Typer(
    help="Data subject requests: access (export), erase, rectify, status.", no_args_is_help=True
)
suppression_app = typer.Typer(
    help="The suppression list of erased identifiers (keyed hashes).", no_args_is_help=True
)
consent_app = typer.Typer(help="The consent ledger: show and record.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention periods from ucp.yaml.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(dsr_app, name="dsr")
    app.add_typer(suppression_app, name="suppression")
    app.add_typer(consent_app, name="consent")
    app.add_typer(retention_app, name="retention")
    app.command("export")(export)


def _json(doc: object) -> None:
    out.print_json(orjson.dumps(doc, default=str, option=orjson.OPT_NON_STR_KEYS).decode())


# -- dsr ------------------------------------------------------------------------------------------
Subject = Annotated[str, typer.Argument(help="profile id, or TYPE:VALUE such as email:ann@x.org")]


@dsr_app.command("access")
def dsr_access(
    ctx: typer.Context,
    subject: Subject,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="write the export here: .zip (JSON + CSVs) or .json"),
    ] = None,
) -> None:
    """Export everything held about a person (machine-readable JSON, or a zip of CSVs)."""
    from ucp.services import privacy

    st = state(ctx)
    try:
        view = privacy.create_request(st.store, st.config, "access", subject, actor())
        export = privacy.request_export(st.store, view["id"])
    except UCPError as exc:
        fail(exc)
        return
    if out_path is None:
        _json(export)
        return
    if out_path.suffix == ".zip":
        out_path.write_bytes(privacy.export_zip(export))
    else:
        out_path.write_bytes(orjson.dumps(export, default=str, option=orjson.OPT_INDENT_2))
    err.print(f"request {view['id']}: {len(export['profiles'])} profile(s) written to {out_path}")


@dsr_app.command("erase")
def dsr_erase(
    ctx: typer.Context,
    subject: Subject,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Erase a person completely and suppress their identifiers (needs UCP_SECRET_KEY)."""
    from ucp.services import privacy
    from ucp.services.suppression import secret_or_none

    st = state(ctx)
    if not yes and not typer.confirm("Erase this person for good?", err=True):
        raise typer.Exit(1)
    try:
        view = privacy.create_request(
            st.store,
            st.config,
            "erasure",
            subject,
            actor(),
            secret=secret_or_none(st.settings),
        )
    except UCPError as exc:
        fail(exc)
        return
    _json(view)


@dsr_app.command("rectify")
def dsr_rectify(
    ctx: typer.Context,
    subject: Subject,
    changes: Annotated[
        list[str], typer.Option("--set", help="ATTRIBUTE=VALUE, e.g. family_name=Lee (repeat)")
    ],
) -> None:
    """Correct a person's data: each value is pinned on their golden record."""
    from ucp.services import privacy

    st = state(ctx)
    try:
        parsed: dict[str, str] = {}
        for item in changes:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise InputError("--set takes ATTRIBUTE=VALUE", field="set")
            parsed[name.strip()] = value
        view = privacy.create_request(
            st.store, st.config, "rectification", subject, actor(), changes=parsed
        )
    except UCPError as exc:
        fail(exc)
        return
    _json(view)


@dsr_app.command("status")
def dsr_status(
    ctx: typer.Context, request_id: Annotated[str, typer.Argument(help="dsr_… request id")]
) -> None:
    """Print a data subject request: type, status, times and what it did."""
    from ucp.services import privacy

    try:
        view = privacy.get_request(state(ctx).store, request_id)
    except UCPError as exc:
        fail(exc)
        return
    _json(view)


# -- suppression -------------------------------------------------------------------------------
@suppression_app.command("list")
def suppression_list(
    ctx: typer.Context,
    lifted: Annotated[bool, typer.Option("--lifted", help="include lifted entries")] = False,
) -> None:
    """List suppressed identifiers (type and keyed hash only; the values are not kept)."""
    from ucp.services import suppression

    table = Table("id", "type", "hash", "request", "created", "lifted")
    for row in suppression.list_suppressions(state(ctx).store, include_lifted=lifted):
        table.add_row(
            str(row["id"]),
            row["identifier_type"],
            row["value_hash"][:16] + "…",
            str(row["request_id"] or ""),
            str(row["created_at"]),
            str(row["lifted_at"] or ""),
        )
    out.print(table)


@suppression_app.command("lift")
def suppression_lift(
    ctx: typer.Context,
    suppression_id: Annotated[int | None, typer.Argument(help="suppression id")] = None,
    identifier: Annotated[
        str | None, typer.Option(help="TYPE:VALUE instead of an id (needs UCP_SECRET_KEY)")
    ] = None,
) -> None:
    """Lift a suppression, so ingest accepts that identifier again (admin decision)."""
    from ucp.services import suppression

    st = state(ctx)
    try:
        sid = suppression.lift(
            st.store,
            st.config,
            actor(),
            suppression_id=suppression_id,
            identifier=identifier,
            secret=suppression.secret_or_none(st.settings),
        )
    except UCPError as exc:
        fail(exc)
        return
    out.print(f"lifted suppression {sid}")


# -- consent -----------------------------------------------------------------------------------
def _profile(st: object, ref: str) -> str:
    from ucp.services import profiles

    if ref.startswith("p_"):
        return ref
    found = profiles.find_by_identifier(st.store, st.config, ref)  # type: ignore[attr-defined]
    if not found:
        from ucp.errors import NotFound

        raise NotFound(f"no profile holds that {ref.split(':')[0]} identifier")
    return found[0]


@consent_app.command("show")
def consent_show(
    ctx: typer.Context, ref: Annotated[str, typer.Argument(help="profile id, or TYPE:VALUE")]
) -> None:
    """Print a profile's consent state per purpose and its full ledger history."""
    from ucp.services import consent

    st = state(ctx)
    try:
        _json(consent.profile_consent(st.store, st.config, _profile(st, ref)))
    except UCPError as exc:
        fail(exc)


@consent_app.command("set")
def consent_set(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="profile id, or TYPE:VALUE")],
    purpose: Annotated[str, typer.Option(help="a purpose under consent.purposes")],
    status: Annotated[str, typer.Option(help="granted | denied | withdrawn")],
    channel: Annotated[str | None, typer.Option(help="e.g. email, sms")] = None,
) -> None:
    """Append a consent decision for a profile to the ledger (audited)."""
    from ucp.services import consent

    st = state(ctx)
    try:
        result = consent.record_consent(
            st.store,
            st.config,
            _profile(st, ref),
            purpose,
            status,
            actor(),
            channel=channel,
            evidence={"via": "cli"},
        )
    except UCPError as exc:
        fail(exc)
        return
    _json(result)


# -- export / retention -------------------------------------------------------------------------
def export(
    ctx: typer.Context,
    purpose: Annotated[str, typer.Option(help="what the export is for; only consenting profiles")],
    fmt: Annotated[str, typer.Option("--format", help="csv | jsonl")] = "jsonl",
    out_path: Annotated[Path | None, typer.Option("--out", help="file (default: stdout)")] = None,
) -> None:
    """Export golden records of the profiles that consented to a purpose (CSV or JSONL)."""
    from ucp.services.export import export_golden

    st = state(ctx)
    try:
        if out_path is None:
            n = export_golden(st.store, st.config, purpose, sys.stdout, fmt, actor())
        else:
            with (
                out_path.open("w", newline="", encoding="utf-8") as f,
                progress_bar(f"export {purpose}") as update,
            ):
                n = export_golden(st.store, st.config, purpose, f, fmt, actor(), update)
    except UCPError as exc:
        fail(exc)
        return
    err.print(f"exported {n} profiles consenting to {purpose!r}")


@retention_app.command("apply")
def retention_apply(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count only, delete nothing")] = False,
) -> None:
    """Delete records and events whose retention period (ucp.yaml `retention:`) has passed."""
    from ucp.services.retention import apply_retention

    st = state(ctx)
    try:
        report = apply_retention(st.store, st.config, dry_run=dry_run, actor=actor())
    except UCPError as exc:
        fail(exc)
        return
    _json(report.to_dict())
