"""Source shapes: Segment messages, shop orders tied to accounts, per-source date styles."""

from __future__ import annotations

import csv
import re
from datetime import datetime

import orjson


def _jsonl(dataset, name: str) -> list[dict]:
    return [orjson.loads(line) for line in (dataset.path / name).read_bytes().splitlines()]


def test_web_events_follow_the_segment_spec(dataset) -> None:
    messages = _jsonl(dataset, "web_events.jsonl")
    kinds = {m["type"] for m in messages}
    assert kinds == {"page", "identify", "track"}
    identified_at: dict[str, str] = {}
    for m in messages:
        assert {"type", "messageId", "anonymousId", "timestamp"} <= set(m)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", m["timestamp"])
        if m["type"] == "identify":
            assert m["userId"] and m["traits"]
            identified_at.setdefault(m["anonymousId"], m["timestamp"])
        elif m["type"] == "track":
            assert m["event"] in {"Product Viewed", "Product Added", "Order Completed"}
            assert "properties" in m
    # pages of a device's first session come before its identify and carry no userId
    anonymous_first = [m for m in messages if m["type"] == "page" and "userId" not in m
                       and m["anonymousId"] in identified_at
                       and m["timestamp"] < identified_at[m["anonymousId"]]]
    assert anonymous_first


def test_orders_belong_to_shop_accounts_and_repeat_purchases_are_skewed(dataset) -> None:
    customers = {c["id"]: c for c in _jsonl(dataset, "shop_customers.jsonl")}
    orders = _jsonl(dataset, "shop_orders.jsonl")
    per_customer: dict[int, int] = {}
    for order in orders:
        assert order["customer_id"] in customers
        assert order["line_items"]
        total = sum(float(li["price"]) * li["quantity"] for li in order["line_items"])
        assert abs(total - float(order["total_price"])) < 0.011
        per_customer[order["customer_id"]] = per_customer.get(order["customer_id"], 0) + 1
    for cid, n in per_customer.items():
        assert customers[cid]["orders_count"] == n
    counts = sorted(per_customer.values())
    assert counts[len(counts) // 2] <= 2 and counts[-1] >= 10


def test_each_source_keeps_its_own_date_style(dataset) -> None:
    def column(name: str, col: str) -> list[str]:
        with (dataset.path / name).open(encoding="utf-8", newline="") as f:
            return [r[col] for r in csv.DictReader(f) if r[col]]

    for value in column("crm.csv", "Birthdate"):
        datetime.strptime(value, "%m/%d/%Y")
    for value in column("crm.csv", "CreatedDate"):
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.000+0000")
    for value in column("support_tickets.csv", "created_at"):
        datetime.strptime(value, "%d/%m/%Y %H:%M")
    for value in column("newsletter.csv", "optin_time"):
        datetime.strptime(value, "%d.%m.%Y %H:%M:%S")
    for value in column("pos_receipts.csv", "purchased_at"):
        datetime.strptime(value, "%d/%m/%Y %H:%M:%S")
    for c in _jsonl(dataset, "shop_customers.jsonl"):
        datetime.fromisoformat(c["created_at"])


def test_every_date_is_before_the_reference_day(dataset) -> None:
    for value in (c["created_at"] for c in _jsonl(dataset, "shop_orders.jsonl")):
        assert value[:10] <= "2026-06-30"
