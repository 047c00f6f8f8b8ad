"""`ucp dedupe --incremental`: record by record through the store, the batch clusters."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ucp.domain.standardize.simple import fold_key, fold_words
from ucp.services.dedupe import dedupe_file
from ucp.services.dedupe_incremental import dedupe_file_incremental
from ucp.synth import generate

HEADER = ["id", "first_name", "surname", "email", "phone", "street", "address_2", "city",
          "postcode", "dob", "passport"]


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A flat person file from `ucp generate`: CRM contacts, newsletter sign-ups and shop
    accounts (one person in several rows), with an id-like column (an exact comparison) and
    a second address line."""
    work = tmp_path_factory.mktemp("dedupe-incremental")
    generate(work, persons=160, seed=7)
    with (work / "truth.csv").open(newline="", encoding="utf-8") as handle:
        person = {(r["source"], r["source_key"]): r["person_id"] for r in csv.DictReader(handle)}
    rows: list[list[str]] = []
    with (work / "crm.csv").open(newline="", encoding="utf-8") as handle:
        for n, r in enumerate(csv.DictReader(handle)):
            # a passport number on some contacts: the person's own, strong evidence
            passport = f"P-{person[('crm', r['ContactId'])]}" if n % 2 == 0 else ""
            rows.append([f"crm:{r['ContactId']}", r["FirstName"], r["LastName"], r["Email"],
                         r["Phone"], r["MailingStreet"], "Flat 2" if n % 9 == 0 else "",
                         r["MailingCity"], r["MailingPostalCode"], r["Birthdate"], passport])
    with (work / "newsletter.csv").open(newline="", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            rows.append([f"newsletter:{r['subscriber_id']}", r["first_name"], r["last_name"],
                         r["email"], "", "", "", "", "", "", ""])
    with (work / "shop_customers.jsonl").open(encoding="utf-8") as handle:
        for n, line in enumerate(handle):
            r = json.loads(line)
            address = r.get("default_address") or {}
            passport = f"P-{person[('shop_customers', str(r['id']))]}" if n % 2 else ""
            rows.append([f"shop:{r['id']}", r.get("first_name") or "", r.get("last_name") or "",
                         r.get("email") or "", r.get("phone") or "",
                         address.get("address1") or "", address.get("address2") or "",
                         address.get("city") or "", address.get("zip") or "", "", passport])
    path = work / "people.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("order_seed", [1, 2])
def test_record_by_record_through_the_store_gives_the_batch_clusters(
        people: Path, tmp_path: Path, order_seed: int) -> None:
    batch = dedupe_file(people, "id", None)
    out = tmp_path / "clusters.csv"
    result = dedupe_file_incremental(people, "id", out, order_seed=order_seed)
    s = result.summary
    assert s["records"] == len(batch.clusters) > 200
    assert len(result.latencies_ms) == s["records"]  # each record went in on its own
    assert s["exact_columns"] == ["passport"] and "address_line2" in s["columns"]
    assert s["multi_record_clusters"] > 20  # the data has duplicates to find
    assert result.model.version == batch.model.version
    assert result.clusters == batch.clusters  # the same cluster ids, not just the partition
    assert s["same_as_batch"]
    with out.open(newline="", encoding="utf-8") as handle:
        written = {r["id"]: r["cluster_id"] for r in csv.DictReader(handle)}
    assert written == batch.clusters


@settings(max_examples=300, deadline=None)
@given(raw=st.text(max_size=20))
def test_a_folded_key_is_its_own_folded_words(raw: str) -> None:
    """An exact column goes into the store as an attribute whose feature is the folded words
    of its match: with the folded key as match, that is the batch dedupe's feature."""
    assert fold_words(fold_key(raw)) == fold_key(raw)
