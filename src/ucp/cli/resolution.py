"""`ucp train`, `ucp explain`, `ucp review …`: the resolution model and its decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from ucp.cli.context import err, fail, out, state
from ucp.cli.steward import actor
from ucp.errors import UCPError

review_app = typer.Typer(help="The steward review queue of uncertain pairs.",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("explain")(explain)
    app.add_typer(review_app, name="review")


def train(
    ctx: typer.Context,
    sample: Annotated[
        int | None, typer.Option(help="train on a random sample of this many records")
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of the random pairs and the sample")] = 0,
    labels: Annotated[
        Path | None,
        typer.Option(help="CSV of known pairs (columns a, b as SOURCE:KEY, match true/false) "
                     "that refine m, beside the steward decisions"),
    ] = None,
) -> None:
    """Train the matching model (Fellegi–Sunter, no labels needed); print the m/u table."""
    from ucp.services.training import read_labels, train_model

    st = state(ctx)
    try:
        extra = read_labels(labels) if labels is not None else []
        with err.status("training …"):
            result = train_model(st.store, st.config, sample, seed, actor(), extra)
    except UCPError as exc:
        fail(exc)
        return
    out.print(result.report.to_text(), highlight=False)
    out.print(f"model {result.model.version} trained on {result.records} records "
              f"({result.labels} labels) in {result.seconds} s; it is now active — "
              "run `ucp resolve` to apply it")


def explain(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="first record, SOURCE:KEY")],
    b: Annotated[str, typer.Argument(help="second record, SOURCE:KEY")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Why two records are (or are not) one person: the match-weight waterfall."""
    from ucp.services.explain import explain_pair

    st = state(ctx)
    try:
        body = explain_pair(st.store, st.config, a, b)
    except UCPError as exc:
        fail(exc)
        return
    if as_json or "waterfall" not in body:
        out.print_json(orjson.dumps(body, default=str).decode())
        return
    wf = body["waterfall"]
    table = Table("comparison", "level", "weight", "tf adj.", "running total",
                  title=f"{body['a']} vs {body['b']}")
    running = wf["prior"]
    table.add_row("prior", "", f"{wf['prior']:+.2f}", "", f"{running:+.2f}")
    for c in wf["comparisons"]:
        running += c["weight"] + c.get("tf_adjustment", 0)
        table.add_row(c["name"], str(c["level"]), f"{c['weight']:+.2f}",
                      f"{c.get('tf_adjustment', 0):+.2f}", f"{running:+.2f}")
    out.print(table)
    verdict = "one profile" if body["same_profile"] else "different profiles"
    out.print(f"total weight {body['weight']:+.2f}, probability {body['probability']:.4f} "
              f"(link ≥ {body['thresholds']['auto']}, review ≥ {body['thresholds']['review']}); "
              f"now in {verdict}; shared identifiers: "
              f"{', '.join(body['shared_identifier_types']) or 'none'}")


@review_app.command("list")
def review_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="items to show")] = 20,
    offset: Annotated[int, typer.Option(help="skip this many")] = 0,
) -> None:
    """Open review items, most probable first."""
    from ucp.services.review import review_queue

    try:
        items = review_queue(state(ctx).store, limit, offset)
    except UCPError as exc:
        fail(exc)
        return
    table = Table("id", "a", "b", "probability", "weight")
    for i in items:
        table.add_row(str(i["id"]), str(i["a"]), str(i["b"]), f"{i['probability']:.3f}",
                      f"{i['weight']:+.2f}")
    out.print(table)


@review_app.command("decide")
def review_decide(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument(help="review item id")],
    decision: Annotated[str, typer.Argument(help="accept | reject")],
) -> None:
    """Accept (the pair is one person) or reject (two people); it becomes a constraint."""
    from ucp.services.review import decide

    st = state(ctx)
    try:
        result = decide(st.store, st.config, item_id, decision, actor())
    except UCPError as exc:
        fail(exc)
        return
    out.print_json(orjson.dumps(result).decode())
