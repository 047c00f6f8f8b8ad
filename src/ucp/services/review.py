"""The steward review queue: uncertain pairs, best first; a decision becomes a constraint."""

from __future__ import annotations

from typing import Any

from ucp.config import UCPConfig
from ucp.errors import Conflict, InputError, NotFound
from ucp.services import audit
from ucp.services.resolution import build_resolver, resolve_touched
from ucp.store.store import Store, now


def review_queue(store: Store, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Open review items, most probable first, with both record keys and the evidence."""
    if not 1 <= limit <= 500 or offset < 0:
        raise InputError("limit must be 1..500 and offset ≥ 0", field="limit")
    with store.read() as tx:
        items = tx.review_page(offset, limit)
        keys = tx.record_keys([i["record_a"] for i in items] + [i["record_b"] for i in items])
    return [
        {
            "id": i["id"],
            "a": str(keys[i["record_a"]]) if i["record_a"] in keys else None,
            "b": str(keys[i["record_b"]]) if i["record_b"] in keys else None,
            "probability": i["probability"],
            "weight": i["weight"],
            "model_version": i["model_version"],
            "created_at": i["created_at"],
            "evidence": i["evidence"],
        }
        for i in items
    ]


def decide(
    store: Store,
    config: UCPConfig,
    item_id: int,
    decision: str,
    actor: str,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Accept (must-link) or reject (cannot-link) a review item; its records are resolved again."""
    if decision not in ("accept", "reject"):
        raise InputError("decision must be 'accept' or 'reject'", field="decision")
    at = now()
    with store.write() as tx:
        item = tx.review_item(item_id)
        if item is None:
            raise NotFound(f"no review item {item_id}")
        if item["status"] != "open":
            raise Conflict(f"review item {item_id} is already {item['status']}")
        keys = tx.record_keys([item["record_a"], item["record_b"]])
        if len(keys) != 2:
            raise Conflict(f"the records of review item {item_id} no longer exist")
        a, b = keys[item["record_a"]], keys[item["record_b"]]
        kind, other = (
            ("must_link", "cannot_link") if decision == "accept" else ("cannot_link", "must_link")
        )
        tx.revoke_constraints_between(other, a, b, actor, at)
        constraint = tx.add_constraint(kind, a, b, actor, f"review item {item_id}", at)
        tx.decide_review_item(
            item_id, "accepted" if decision == "accept" else "rejected", actor, at
        )
        audit.record(
            tx, actor, f"review.{decision}ed", str(item_id), request_id, {"constraint": constraint}
        )
        resolve_touched(tx, build_resolver(config, tx), [item["record_a"], item["record_b"]], at)
        owners = {pid for _, (_, pid) in tx.resolvable(list(keys)).items()}
    return {
        "id": item_id,
        "decision": decision,
        "constraint_id": constraint,
        "profile_ids": sorted(p for p in owners if p),
    }
