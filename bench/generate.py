"""Benchmark `ucp generate` and measure how far exact identifiers alone get on its output.

    .venv/bin/python bench/generate.py --persons 20000 [--workers 2] [--baseline]

Prints a table: wall time, persons/s, rows per source; with --baseline it links records that
share a normalised identifier (email, phone, ids) and scores that naive resolution with
`ucp.domain.evaluation` — the data is meant to leave ~5-15 % of the true pairs to probabilistic
matching.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import tempfile
import time
from pathlib import Path

import phonenumbers
from rich.console import Console
from rich.table import Table

from ucp.domain.evaluation import evaluate
from ucp.services.evaluate import load_truth
from ucp.synth import generate
from ucp.synth.corrupt import JUNK_EMAILS, JUNK_PHONES

_COUNTRY = {"united states": "US", "usa": "US", "us": "US", "united kingdom": "GB", "uk": "GB",
            "gb": "GB", "deutschland": "DE", "germany": "DE", "de": "DE", "france": "FR",
            "fr": "FR"}


def _email(value: str | None) -> str | None:
    if not value or value.lower() in JUNK_EMAILS or "@" not in value:
        return None
    local, _, domain = value.lower().partition("@")
    local = local.split("+")[0]
    if domain in ("gmail.com", "googlemail.com"):
        local = local.replace(".", "")
    return f"{local}@{domain}"


def _phone(value: str | None, region: str) -> str | None:
    if not value or value in JUNK_PHONES:
        return None
    try:
        number = phonenumbers.parse(re.split(r" ext\. | x|;ext=", value)[0], region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def exact_identifier_clusters(out: Path) -> dict[tuple[str, str], str]:
    """Union records sharing any normalised identifier (a naive deterministic resolution)."""
    parent: dict[object, object] = {}

    def find(x: object) -> object:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]  # type: ignore[index]
            x = parent[x]
        return x

    def link(record: tuple[str, str], *ids: tuple[str, str | None]) -> None:
        find(record)
        for id_type, value in ids:
            if value:
                parent[find((id_type, value))] = find(record)

    with (out / "crm.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            link(("crm", r["ContactId"]), ("email", _email(r["Email"])),
                 ("phone", _phone(r["Phone"], "US")))
    for line in (out / "shop_customers.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        link(("shop_customers", str(r["id"])), ("email", _email(r["email"])),
             ("phone", _phone(r["phone"], "US")), ("user_id", str(r["id"])))
    for line in (out / "shop_orders.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        link(("shop_orders", str(r["order_id"])), ("user_id", str(r["customer_id"])),
             ("email", _email(r["email"])))
    with (out / "support_tickets.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            link(("support_tickets", r["ticket_id"]), ("email", _email(r["requester_email"])),
                 ("phone", _phone(r["requester_phone"], "GB")))
    with (out / "newsletter.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            link(("newsletter", r["subscriber_id"]), ("email", _email(r["email"])))
    with (out / "pos_receipts.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            link(("pos_receipts", r["receipt_id"]), ("loyalty", r["loyalty_card"]),
                 ("phone", _phone(r["customer_phone"], r["store_country"])))
    for line in (out / "web_events.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        traits = r.get("traits", {})
        link(("web_events", r["messageId"]), ("anon", r["anonymousId"]),
             ("user_id", r.get("userId")), ("email", _email(traits.get("email"))))
    return {k: str(find(k)) for k in list(parent) if isinstance(k, tuple) and k[0] in (
        "crm", "shop_customers", "shop_orders", "support_tickets", "newsletter", "pos_receipts",
        "web_events") and len(k) == 2 and not k[0].startswith(("email", "phone"))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--baseline", action="store_true")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="ucp-bench-"))
    start = time.perf_counter()
    summary = generate(out, args.persons, args.seed, workers=args.workers)
    elapsed = time.perf_counter() - start
    table = Table(title=f"ucp generate: {args.persons:,} persons, {args.workers} worker(s)")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("wall time (s)", f"{elapsed:.1f}")
    table.add_row("persons / s", f"{args.persons / elapsed:,.0f}")
    for source, n in summary.rows.items():
        table.add_row(f"rows: {source}", f"{n:,}")
    table.add_row("output", str(out))
    if args.baseline:
        truth = load_truth(out / "truth.csv")
        result = evaluate(truth, exact_identifier_clusters(out))
        table.add_row("exact-identifier pairwise precision", f"{result.pairwise_precision:.4f}")
        table.add_row("exact-identifier pairwise recall", f"{result.pairwise_recall:.4f}")
        table.add_row("exact-identifier B-cubed recall", f"{result.bcubed_recall:.4f}")
        table.add_row("split entities", f"{result.split_entities:,}")
        # record sources only (events excluded): how many person views exact ids join
        rec = {k: v for k, v in truth.items()
               if k[0] in ("crm", "shop_customers", "support_tickets", "newsletter")}
        clusters = exact_identifier_clusters(out)
        r2 = evaluate(rec, {k: clusters[k] for k in rec if k in clusters})
        table.add_row("records only: pairwise recall", f"{r2.pairwise_recall:.4f}")
        table.add_row("records only: pairwise precision", f"{r2.pairwise_precision:.4f}")
    Console().print(table)


if __name__ == "__main__":
    main()
