"""Exports of golden records: only the profiles that consented to the export's purpose.

Data leaving ucp always states what it is for; `consent.consented_profiles` decides who is in.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import IO, Any

import orjson
from sqlalchemy import select

from ucp.config import UCPConfig
from ucp.domain.attributes import CANONICAL_ATTRIBUTES
from ucp.domain.survivorship import golden_record
from ucp.errors import InputError
from ucp.services import audit, consent
from ucp.services.profiles import candidates_of, pin_candidates, survivorship_rules
from ucp.store import tables as t
from ucp.store.store import Store, StoreTx

FORMATS = ("csv", "jsonl")
PAGE = 500


def _goldens(tx: StoreTx, config: UCPConfig, pids: list[str]) -> dict[str, dict[str, Any]]:
    r = t.records.c
    ranks = tx.source_ranks()
    by_profile: dict[str, list[dict[str, Any]]] = {pid: [] for pid in pids}
    for row in tx.conn.execute(
        select(r.id, r.profile_id, r.source, r.source_key, r.attributes, r.last_seen).where(
            r.profile_id.in_(pids)
        )
    ).mappings():
        by_profile[row["profile_id"]].append(dict(row))
    rules = survivorship_rules(config)
    out: dict[str, dict[str, Any]] = {}
    for pid in pids:
        pins = pin_candidates(tx.pins([pid, *tx.aliases_of(pid)]))
        golden = golden_record(candidates_of(by_profile[pid], ranks), rules, pins)
        out[pid] = {name: g.value for name, g in sorted(golden.items())}
    return out


def export_golden(
    store: Store,
    config: UCPConfig,
    purpose: str,
    out: IO[str],
    fmt: str = "jsonl",
    actor: str = "cli",
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the golden record of every profile consenting to `purpose`; returns how many."""
    consent.check_purpose(config, purpose)
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)}", field="format")
    columns = ["profile_id", *CANONICAL_ATTRIBUTES]
    writer = csv.writer(out) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(columns)
    written, seen, cursor = 0, 0, None
    with store.read() as tx:
        total = tx.counts()["profiles"]
    while True:
        with store.read() as tx:
            page = [row["id"] for row in tx.list_profiles(cursor, PAGE)]
            if not page:
                break
            cursor = page[-1]
            allowed = sorted(consent.consented_profiles(tx, config, purpose, page))
            goldens = _goldens(tx, config, allowed) if allowed else {}
        for pid in allowed:
            values = goldens[pid]
            if writer is not None:
                writer.writerow([pid, *(values.get(c, "") for c in columns[1:])])
            else:
                out.write(orjson.dumps({"profile_id": pid, "golden": values}).decode() + "\n")
            written += 1
        seen += len(page)
        if progress:
            progress(seen, total)
    with store.write() as tx:
        audit.record(
            tx,
            actor,
            "profiles.exported",
            None,
            None,
            {"purpose": purpose, "profiles": written, "format": fmt},
        )
    return written
