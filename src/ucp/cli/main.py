"""The `ucp` command: a thin shell over the services (Typer + Rich)."""

from __future__ import annotations

import gc
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from ucp.cli import dedupe as dedupe_cmd
from ucp.cli import generate as generate_cmd
from ucp.cli import privacy as privacy_cmd
from ucp.cli import realtime as realtime_cmd
from ucp.cli import records as records_cmd
from ucp.cli import resolution as resolution_cmd
from ucp.cli import standardize as standardize_cmd
from ucp.cli import steward as steward_cmd
from ucp.cli.context import State, err, fail, out, progress_bar, state
from ucp.cli.starter import STARTER_CONFIG
from ucp.config import load_config
from ucp.errors import InputError, NotFound, UCPError
from ucp.settings import Settings
from ucp.store.store import Store

app = typer.Typer(
    name="ucp",
    help="ucp — Unified Customer Profile engine: ingest customer records from many sources, "
    "resolve them into one profile per person, and serve the profiles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
profile_app = typer.Typer(help="Read profiles.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(profile_app, name="profile")
app.add_typer(audit_app, name="audit")


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", envvar="UCP_DATABASE_URL", help="database URL [default: sqlite:///ucp.db]"
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", envvar="UCP_CONFIG_PATH", help="path of ucp.yaml"),
    ] = None,
) -> None:
    overrides: dict[str, Any] = {}
    if db:
        overrides["database_url"] = db
    if config:
        overrides["config_path"] = config
    ctx.obj = State(Settings(**overrides))


# -- init / db -------------------------------------------------------------------------------
@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="where to write the starter config")] = Path(
        "ucp.yaml"
    ),
    force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
) -> None:
    """Write a commented starter ucp.yaml."""
    if path.exists() and not force:
        fail(InputError(f"{path} exists; pass --force to overwrite it"))
    path.write_text(STARTER_CONFIG, encoding="utf-8")
    out.print(f"wrote {path}; edit its sources, then `ucp ingest FILE --source NAME`")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the database schema to the newest version."""
    from ucp.store import migrations

    try:
        store = Store.open(state(ctx).settings.database_url, upgrade=False)
        migrations.upgrade(store.engine)
        out.print(f"schema at revision {migrations.current_revision(store.engine)}")
    except UCPError as exc:
        fail(exc)


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Print the schema revision of the database."""
    from ucp.store import migrations

    store = Store.open(state(ctx).settings.database_url, upgrade=False)
    out.print(migrations.current_revision(store.engine) or "empty (run `ucp db upgrade`)")


# -- ingest / resolve ------------------------------------------------------------------------
@app.command()
def ingest(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV, JSONL or Parquet file")],
    source: Annotated[str, typer.Option("--source", "-s", help="source name from ucp.yaml")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv | jsonl | parquet (default: by extension)")
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="where to write rejected rows [default: FILE.rejects.csv]"),
    ] = None,
    chunk_size: Annotated[int, typer.Option(help="rows per transaction")] = 1000,
    defer_resolution: Annotated[
        bool,
        typer.Option(help="bulk load: store records now, resolve later with `ucp resolve`"),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Load a file of one source: map, standardize, store versions, resolve.

    Re-running on an unchanged file stores nothing new; rejected rows go to a rejects file
    with their row number and reason, and the exit status is 1 when any row was rejected.
    """
    from ucp.services.ingest import ingest_file
    from ucp.services.suppression import secret_or_none

    st = state(ctx)
    rejects = rejects or file.with_name(file.name + ".rejects.csv")
    try:
        with progress_bar(f"ingest {source}") as update:
            report = ingest_file(
                st.store,
                st.config,
                source,
                file,
                fmt,
                rejects,
                chunk_size,
                progress=update,
                resolve=not defer_resolution,
                secret=secret_or_none(st.settings),
            )
    except UCPError as exc:
        fail(exc)
        return
    if as_json:
        out.print_json(orjson.dumps(report.to_dict()).decode())
    else:
        table = Table(title=f"ingest {source}: {file.name}", show_header=False)
        for name in (
            "rows",
            "inserted",
            "updated",
            "unchanged",
            "rejected",
            "skipped",
            "suppressed",
            "consent_entries",
            "events_inserted",
            "events_known",
            "profiles_touched",
            "seconds",
        ):
            table.add_row(name, str(getattr(report, name)))
        out.print(table)
        if report.rejected:
            reasons = ", ".join(f"{k}: {v}" for k, v in sorted(report.reject_reasons.items()))
            err.print(
                f"[yellow]{report.rejected} rows rejected[/yellow] ({reasons}); "
                f"see {report.rejects_path}"
            )
    if report.rejected:
        raise typer.Exit(1)


@app.command()
def resolve(
    ctx: typer.Context,
    train: Annotated[
        bool,
        typer.Option(help="train a matching model first when none is active (probabilistic)"),
    ] = True,
    full: Annotated[
        bool,
        typer.Option("--full", help="re-resolve every record with the active model (default: "
                     "only the records that need it: ingested with --defer-resolution, "
                     "changed, or resolved under another model)"),
    ] = False,
) -> None:
    """Resolve the records that need it with the active model, or with --full every record.

    Ingest resolves incrementally; what is left are records ingested with
    --defer-resolution, changed ones, and after a new model all of them (then done in one
    batch). The partition is the same either way."""
    from ucp.services.resolution import build_resolver, resolve_all, resolve_pending
    from ucp.services.training import train_model

    st = state(ctx)
    try:
        if train and st.config.resolution.engine == "probabilistic":
            with st.store.read() as tx:
                active = tx.active_model()
            if active is None:
                try:
                    with err.status("no model yet: training …"):
                        result = train_model(st.store, st.config)
                    err.print(f"trained model {result.model.version} on {result.records} "
                              f"records in {result.seconds} s")
                except InputError as exc:
                    err.print(f"not training ({exc}); resolving with the untrained model")
        resolver = build_resolver(st.config, st.store)
        with progress_bar("resolve") as update:
            if full:
                report, batch = resolve_all(st.store, resolver, progress=update), True
            else:
                report, batch = resolve_pending(st.store, resolver, progress=update)
        with st.store.read() as tx:
            counts = tx.counts()
    except UCPError as exc:
        fail(exc)
        return
    if not report.records and not batch:
        out.print(f"nothing to resolve: every record is resolved under the active model "
                  f"({counts['profiles']} profiles); --full re-resolves them all")
        return
    how = "one batch over the store" if batch else "the incremental path"
    out.print(
        f"resolved {report.records} records ({how}) into {counts['profiles']} profiles "
        f"({counts['links']} links, {report.changes} changes)"
    )


@app.command()
def stats(ctx: typer.Context) -> None:
    """Counts of records, profiles, links and events in the store."""
    st = state(ctx)
    with st.store.read() as tx:
        counts = tx.counts()
    out.print_json(orjson.dumps(counts).decode())


# -- serve -----------------------------------------------------------------------------------
@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    bus: Annotated[
        str | None,
        typer.Option(help="nats://HOST:4222 to queue collected messages on NATS JetStream "
                     "(default: the store's own log, drained by a worker process the server "
                     "starts)"),
    ] = None,
) -> None:
    """Serve the REST API and the Segment-compatible collector (OpenAPI at /docs)."""
    from ucp.api.factory import run_server

    st = state(ctx)
    try:
        load_config(st.settings.config_path)
        Store.open(st.settings.database_url).close()
    except UCPError as exc:
        fail(exc)
    if bus:
        realtime_cmd.use_bus(bus)
    run_server(st.settings, host, port, workers)


# -- keys ------------------------------------------------------------------------------------
@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    role: Annotated[str, typer.Option(help="admin | steward | analyst | support | ingest")],
    name: Annotated[str, typer.Option(help="a label for the key")] = "",
    ttl_days: Annotated[int | None, typer.Option(help="expire after this many days")] = None,
) -> None:
    """Create an API key; the secret is printed once and stored only as a hash."""
    from ucp.services.keys import create_key

    try:
        key, secret = create_key(state(ctx).store, role, name, ttl_days=ttl_days)
    except UCPError as exc:
        fail(exc)
        return
    err.print(f"created key {key.id} (role {key.role.value}); the secret is shown only now:")
    out.print(secret, highlight=False)


@keys_app.command("list")
def keys_list(ctx: typer.Context) -> None:
    """List API keys (never their secrets)."""
    from ucp.services.keys import list_keys

    table = Table("id", "name", "role", "created", "expires", "revoked")
    for k in list_keys(state(ctx).store):
        table.add_row(
            *(
                str(k[c] or "")
                for c in ("id", "name", "role", "created_at", "expires_at", "revoked_at")
            )
        )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(ctx: typer.Context, key_id: Annotated[str, typer.Argument(help="key id")]) -> None:
    """Revoke an API key at once."""
    from ucp.services.keys import revoke_key

    try:
        revoke_key(state(ctx).store, key_id)
    except UCPError as exc:
        fail(exc)
    out.print(f"revoked {key_id}")


# -- profiles --------------------------------------------------------------------------------
@profile_app.command("show")
def profile_show(
    ctx: typer.Context,
    ref: Annotated[
        str, typer.Argument(help="profile id, or TYPE:VALUE such as email:ann@example.com")
    ],
    as_of: Annotated[
        datetime | None, typer.Option("--as-of", help="the profile as the store knew it then")
    ] = None,
) -> None:
    """Print one profile as JSON: golden record, identifiers, records, recent events."""
    from ucp.cli.steward import actor
    from ucp.services.privacy import read_profile

    st = state(ctx)
    try:
        pid = _profile_ref(st, ref)
        if as_of is not None and as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=UTC)
        view = read_profile(st.store, st.config, pid, actor(), as_of=as_of)  # audited read
    except UCPError as exc:
        fail(exc)
        return
    out.print_json(orjson.dumps(view).decode())


def _profile_ref(st: State, ref: str) -> str:
    from ucp.services import profiles

    if ref.startswith("p_"):
        return ref
    found = profiles.find_by_identifier(st.store, st.config, ref)
    if not found:
        raise NotFound(f"no profile holds that {ref.split(':')[0]} identifier")
    return found[0]


@profile_app.command("search")
def profile_search(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="name words, or an email or phone prefix")],
    limit: Annotated[int, typer.Option(help="at most this many profiles")] = 20,
) -> None:
    """Find profiles by name, email or phone prefix."""
    from ucp.services import profiles

    st = state(ctx)
    try:
        rows, _ = profiles.search_profiles(st.store, text, None, limit)
        table = Table("profile", "records", "name", "email")
        for row in rows:
            view = profiles.get_profile(st.store, row["id"], st.config)
            name = " ".join(
                str(view.golden[a]["value"])
                for a in ("given_name", "family_name")
                if a in view.golden
            )
            email = view.golden.get("email", {}).get("value", "")
            table.add_row(row["id"], str(row["record_count"]), name, str(email))
    except UCPError as exc:
        fail(exc)
        return
    out.print(table)


@profile_app.command("history")
def profile_history(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="profile id, or TYPE:VALUE")],
) -> None:
    """Print the changes that shaped a profile (merges, splits, updates, pins)."""
    from ucp.services import profiles

    st = state(ctx)
    try:
        history = profiles.profile_history(st.store, _profile_ref(st, ref))
    except UCPError as exc:
        fail(exc)
        return
    out.print_json(orjson.dumps(history, default=str).decode())


@profile_app.command("why")
def profile_why(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="profile id, or TYPE:VALUE")],
    record: Annotated[str, typer.Argument(help="a record of the profile, SOURCE:KEY")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON (with each evidence)")]
    = False,
) -> None:
    """Why a record is in a profile: the chain of stored links that joins it to the rest."""
    from ucp.services import explain

    st = state(ctx)
    try:
        why = explain.why_in_profile(st.store, _profile_ref(st, ref), record)
    except UCPError as exc:
        fail(exc)
        return
    if as_json:
        out.print_json(orjson.dumps(why, default=str).decode())
        return
    table = Table(title=f"{why['record']} in {why['profile_id']}", title_justify="left")
    for name in ("from", "to", "kind", "weight", "model"):
        table.add_column(name, justify="right" if name == "weight" else "left",
                         overflow="fold")
    for link in why["links"]:
        weight = "" if link["weight"] is None else f"{link['weight']:.2f}"
        table.add_row(link["from"], link["to"], link["kind"], weight,
                      link["model_version"] or "")
    out.print(table)
    if not why["links"]:
        out.print("the profile holds this record alone")
    elif not why["reaches_all_records"]:
        out.print("[yellow]these links do not reach every record of the profile[/yellow]")


@profile_app.command("pin")
def profile_pin(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="profile id, or TYPE:VALUE")],
    attribute: Annotated[str, typer.Argument(help="canonical attribute, e.g. given_name")],
    value: Annotated[str | None, typer.Argument(help="the value to pin")] = None,
    unpin: Annotated[bool, typer.Option("--unpin", help="remove the pin instead")] = False,
) -> None:
    """Pin a golden value (a steward override of every survivorship rule), or unpin it."""
    from ucp.cli.steward import actor
    from ucp.services import profiles

    st = state(ctx)
    if (value is None) != unpin:
        fail(InputError("give a VALUE to pin, or --unpin without one"))
    try:
        pid = profiles.pin_attribute(st.store, _profile_ref(st, ref), attribute, value, actor())
    except UCPError as exc:
        fail(exc)
        return
    out.print(f"{'unpinned' if unpin else 'pinned'} {attribute} on {pid}")


# -- evaluate / audit ------------------------------------------------------------------------
@app.command()
def evaluate(
    ctx: typer.Context,
    truth: Annotated[Path, typer.Option(help="truth.csv: source, source_key, person_id")],
    clusters: Annotated[
        Path | None, typer.Option(help="score this clusters file instead of the store")
    ] = None,
    id_col: Annotated[str, typer.Option(help="record id column of --clusters")] = "id",
    cluster_col: Annotated[str, typer.Option(help="cluster column of --clusters")] = "cluster_id",
    source_col: Annotated[
        str | None, typer.Option(help="source column of --clusters, if it has one")
    ] = None,
    all_truth: Annotated[
        bool, typer.Option("--all-truth", help="also score truth rows of sources not ingested")
    ] = False,
    blocking: Annotated[
        bool, typer.Option("--blocking", help="also report what each blocking rule finds: "
                           "candidate pairs, and pairs of one true person (store only)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Score the store's profiles (or a clusters file) against a ground truth."""
    from ucp.domain.evaluation import evaluate as score
    from ucp.services import evaluate as ev
    from ucp.services.resolution import build_resolver

    st = state(ctx)
    try:
        if blocking and clusters is not None:
            raise InputError("--blocking reports on the store's records, not on --clusters",
                             field="blocking")
        truth_map = ev.load_truth(truth)
        if clusters is not None:
            predicted = ev.load_clusters_file(
                clusters, id_col, cluster_col, source_col, truth=truth_map
            )
        else:
            predicted, loaded = ev.store_clusters(st.store)
            if not all_truth:
                skipped = sorted({src for src, _ in truth_map} - loaded)
                truth_map = {k: v for k, v in truth_map.items() if k[0] in loaded}
                if skipped:
                    err.print(f"scoring the sources in the store only (not {', '.join(skipped)}; "
                              "--all-truth scores them as unresolved)")
        result = score(truth_map, predicted)
        report = None
        if blocking:
            with err.status("blocking the store's records …"):
                report = ev.blocking_report(st.store, build_resolver(st.config, st.store),
                                            truth_map)
    except UCPError as exc:
        fail(exc)
        return
    if as_json:
        body = result.to_dict()
        if report is not None:
            body["blocking"] = report.to_dict()
        out.print_json(orjson.dumps(body).decode())
    else:
        out.print(ev.render_report(result))
        if report is not None:
            out.print(ev.render_blocking(report))


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Check the audit chain; names the first edited, deleted or reordered entry."""
    from ucp.services.audit import verify

    result = verify(state(ctx).store)
    if result.ok:
        out.print(f"audit log intact: {result.entries} entries")
        return
    err.print(f"[red]audit log broken[/red] at entry {result.first_bad}: {result.reason}")
    raise typer.Exit(1)


# -- demo ------------------------------------------------------------------------------------
@app.command()
def demo(
    ctx: typer.Context,
    persons: Annotated[int, typer.Option(help="synthetic persons to generate")] = 2000,
    seed: Annotated[int, typer.Option(help="generator seed")] = 42,
    directory: Annotated[Path, typer.Option(help="demo state folder (wiped each run)")] = Path(
        ".ucp-demo"
    ),
    port: Annotated[int, typer.Option(help="API port")] = 8000,
    serve_api: Annotated[
        bool, typer.Option("--serve/--no-serve", help="serve the API after loading")
    ] = True,
) -> None:
    """Generate data, ingest every source, resolve, print a summary, make a key and serve.

    Each run starts clean: the demo folder is wiped and rebuilt.
    """
    from ucp.cli.demo import run_demo

    try:
        run_demo(
            persons=persons,
            seed=seed,
            directory=directory,
            port=port,
            serve=serve_api,
            out=out,
            err=err,
            progress=progress_bar,
        )
    except UCPError as exc:
        fail(exc)


generate_cmd.register(app)
standardize_cmd.register(app)
steward_cmd.register(app)
records_cmd.register(app)
dedupe_cmd.register(app)
realtime_cmd.register(app)
resolution_cmd.register(app)
privacy_cmd.register(app)


def run() -> None:
    """Console-script entry point."""
    # fewer, larger young-generation collections: ingest allocates many short-lived objects
    gc.set_threshold(50_000, 20, 100)
    try:
        app()
    except UCPError as exc:  # pragma: no cover - last resort for errors outside a command
        err.print(f"[red]error:[/red] {exc}")
        sys.exit(2)
