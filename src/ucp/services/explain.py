"""Explain decisions: why two records are (not) one person, and why a record is in a profile."""

from __future__ import annotations

from collections import deque
from typing import Any

from ucp.config import UCPConfig
from ucp.domain.model import RecordKey
from ucp.errors import NotFound
from ucp.services.resolution import build_resolver
from ucp.services.steward import parse_record_key
from ucp.store.store import Store


def explain_pair(store: Store, config: UCPConfig, a: str, b: str) -> dict[str, Any]:
    """The match-weight waterfall of any two records, their shared identifiers and profiles."""
    ka, kb = parse_record_key(a), parse_record_key(b)
    with store.read() as tx:
        resolver = build_resolver(config, tx)
        ids = tx.record_ids([ka, kb])
        missing = [str(k) for k in (ka, kb) if k not in ids]
        if missing:
            raise NotFound(f"no record {missing[0]}")
        loaded = tx.resolvable([ids[ka], ids[kb]])
    (ra, pa), (rb, pb) = loaded[ids[ka]], loaded[ids[kb]]
    shared = sorted(
        {(i.type, i.value) for i in ra.identifiers} & {(i.type, i.value) for i in rb.identifiers}
    )
    body: dict[str, Any] = {
        "a": str(ka),
        "b": str(kb),
        "same_profile": pa is not None and pa == pb,
        "profiles": [pa, pb],
        "shared_identifier_types": sorted({t for t, _ in shared}),
        "model_version": resolver.model_version,
    }
    if resolver.probabilistic:
        score = resolver.engine().score(ra, rb)
        body.update(
            weight=round(score.weight, 4),
            probability=score.probability,
            waterfall=score.evidence,
            thresholds={"auto": resolver.settings.auto, "review": resolver.settings.review},
        )
    return body


def why_in_profile(store: Store, profile_id: str, record: str) -> dict[str, Any]:
    """The chain of stored links joining a record to the rest of its profile."""
    key = parse_record_key(record)
    with store.read() as tx:
        located = tx.locate_profile(profile_id)
        if located is None:
            raise NotFound(f"no profile {profile_id!r}")
        pid = located[0]["id"]
        members = {
            r["id"]: RecordKey(r["source"], r["source_key"]) for r in tx.profile_records(pid)
        }
        start = next((rid for rid, k in members.items() if k == key), None)
        if start is None:
            raise NotFound(f"record {key} is not in profile {pid}")
        links = tx.current_links(list(members))
    graph: dict[int, list[dict[str, Any]]] = {}
    for link in links:
        graph.setdefault(link["record_a"], []).append(link)
        graph.setdefault(link["record_b"], []).append(link)
    # breadth-first from the record: the tree of links that reaches every other member
    seen, order, queue = {start}, [], deque([start])
    while queue:
        rid = queue.popleft()
        for link in sorted(graph.get(rid, []), key=lambda x: -(x["weight"] or 1e9)):
            other = link["record_b"] if link["record_a"] == rid else link["record_a"]
            if other in seen or other not in members:
                continue
            seen.add(other)
            queue.append(other)
            order.append(
                {
                    "from": str(members[rid]),
                    "to": str(members[other]),
                    "kind": link["kind"],
                    "weight": link["weight"],
                    "evidence": link["evidence"],
                    "model_version": link["model_version"],
                }
            )
    return {
        "profile_id": pid,
        "record": str(key),
        "links": order,
        "reaches_all_records": len(seen) == len(members),
    }
