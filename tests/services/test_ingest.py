"""File ingest: good rows land, bad rows are rejected with reasons, re-runs store nothing twice."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import SAMPLE

from ucp.config import parse_config
from ucp.services.ingest import ingest_file
from ucp.store.store import Store

CONFIG = parse_config((SAMPLE / "ucp.yaml").read_text())


GIVEN = ["Ann", "Bob", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo", "Kai", "Lou"]
SYLLABLES = ["ka", "lo", "mi", "ru", "te", "vo", "za", "ne", "pi", "sha", "qu", "bex", "dor",
             "fin", "gal", "hup", "jor", "wen", "yil", "cro"]


def _word(i: int) -> str:
    """A distinct pronounceable word per number (names that do not fold to one key)."""
    return "".join(SYLLABLES[(i // 20**k) % 20] for k in range(3)).capitalize()


def _rows(n: int) -> list[dict[str, str]]:
    """Distinct people: varied names, birth dates and towns (nobody shares a block widely)."""
    return [
        {
            "ContactId": f"C{i:05d}",
            "FirstName": GIVEN[i % 12],
            "LastName": _word(i),
            "Email": f"{_word(i).lower()}.{i}@acmemail.com",
            "Phone": "",
            "MailingStreet": f"{i % 300 + 1} {_word(i * 7 + 3)} St",
            "MailingCity": _word(i % 613 + 4000),
            "MailingPostalCode": f"{10000 + i * 37 % 89999:05d}",
            "Birthdate": f"{1 + i * 5 % 12:02d}/{1 + i * 11 % 28:02d}/{1940 + i * 7 % 61}",
        }
        for i in range(n)
    ]


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_sample_sources_resolve_on_exact_identifiers(store: Store) -> None:
    """Ann's three records join on email; the test@test.com records stay apart."""
    r1 = ingest_file(store, CONFIG, "crm", SAMPLE / "crm.csv")
    r2 = ingest_file(store, CONFIG, "shop", SAMPLE / "shop.jsonl")
    r3 = ingest_file(store, CONFIG, "orders", SAMPLE / "orders.jsonl")
    assert (r1.inserted, r2.inserted, r3.events_inserted) == (5, 4, 3)
    with store.read() as tx:
        members = {(s, k): p for s, k, p in tx.memberships()}
    ann = {members[("crm", "003A1")], members[("crm", "003A5")], members[("shop", "c-100")]}
    assert len(ann) == 1
    # phone (415) 555-0111 == +14155550111 links Robert/Bob despite different emails
    assert members[("crm", "003A2")] == members[("shop", "c-101")]
    assert members[("crm", "003A4")] != members[("shop", "c-103")]
    assert len(set(members.values())) == 5


def test_reingesting_an_unchanged_file_creates_no_versions(store: Store) -> None:
    ingest_file(store, CONFIG, "crm", SAMPLE / "crm.csv")
    again = ingest_file(store, CONFIG, "crm", SAMPLE / "crm.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    with store.read() as tx:
        assert tx.counts()["record_versions"] == 5


def test_a_changed_row_creates_a_new_version(store: Store, tmp_path: Path) -> None:
    rows = _rows(3)
    path = tmp_path / "crm.csv"
    _write_csv(path, rows)
    ingest_file(store, CONFIG, "crm", path)
    rows[1]["Email"] = "new@acmemail.com"
    _write_csv(path, rows)
    report = ingest_file(store, CONFIG, "crm", path)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 2)
    with store.read() as tx:
        assert tx.existing_records("crm", ["C00001"])["C00001"].version == 2


def test_bad_rows_are_rejected_with_row_and_reason_and_good_rows_land(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "broken.csv"
    path.write_text(
        "ContactId,FirstName,LastName,Email,Phone,MailingStreet,MailingCity,MailingPostalCode,Birthdate\n"
        "C1,Ann,Lee,ann@acmemail.com,,,,,\n"
        ",No,Key,nokey@acmemail.com,,,,,\n"
        "C3,Too,Many,fields@acmemail.com,,,,,,extra\n"
        "C4,Bob,Ray,bob@acmemail.com,,,,,\n"
        "C1,Ann,Again,dup@acmemail.com,,,,,\n"
    )
    rejects = tmp_path / "rejects.csv"
    report = ingest_file(store, CONFIG, "crm", path, rejects_path=rejects)
    assert (report.rows, report.inserted, report.rejected) == (5, 2, 3)
    with rejects.open() as f:
        lines = list(csv.DictReader(f))
    assert [(r["row"], r["field"]) for r in lines] == [
        ("2", "ContactId"),
        ("3", ""),
        ("5", "ContactId"),
    ]
    assert lines[0]["reason"] == "source key is missing"
    assert lines[1]["reason"] == "has 10 fields, the header has 9"
    assert lines[2]["reason"] == "duplicate source key (first at row 1)"
    assert "acmemail.com" not in rejects.read_text()  # no personal data in the rejects file


def test_jsonl_wrong_types_and_broken_lines(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "shop.jsonl"
    path.write_text(
        '{"id": "c1", "email": "a@acmemail.com"}\n'
        '{"id": "c2", "email": {"nested": true}}\n'
        "{not json\n"
        "[1, 2]\n"
        '{"id": 3.0, "email": "c@acmemail.com"}\n'
    )
    report = ingest_file(store, CONFIG, "shop", path, rejects_path=tmp_path / "r.csv")
    assert (report.inserted, report.rejected) == (2, 3)
    reasons = (tmp_path / "r.csv").read_text()
    assert '2,c2,email,"expected a single value, got a dict"' in reasons
    assert "not valid JSON" in reasons and "expected a JSON object, got list" in reasons
    with store.read() as tx:
        assert set(tx.existing_records("shop", ["c1", "3"])) == {"c1", "3"}


def test_parquet_is_read(store: Store, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "crm.parquet"
    pq.write_table(pa.Table.from_pylist(_rows(10)), path)
    report = ingest_file(store, CONFIG, "crm", path)
    assert report.inserted == 10


KILL_SCRIPT = """
import sys
from pathlib import Path
from ucp.config import load_config
from ucp.services.ingest import ingest_file
from ucp.store.store import Store
store = Store.open(sys.argv[1])
ingest_file(store, load_config(Path(sys.argv[2])), "crm", Path(sys.argv[3]), chunk_size=200,
            progress=lambda done, total: print(done, flush=True))
"""


def test_killed_ingest_rerun_stores_every_row_exactly_once(db_url: str, tmp_path: Path) -> None:
    """SIGKILL the ingest mid-file, run it again: each row is stored once, none lost."""
    rows = _rows(3000)
    path = tmp_path / "big.csv"
    _write_csv(path, rows)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, db_url, str(SAMPLE / "ucp.yaml"), str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for _ in range(3):  # let a few chunks commit, then kill without warning
        proc.stdout.readline()
    proc.kill()
    proc.wait(timeout=30)
    store = Store.open(db_url)
    with store.read() as tx:
        partial = tx.counts()["records"]
    assert 0 < partial < len(rows)
    report = ingest_file(store, CONFIG, "crm", path)
    assert report.unchanged == partial and report.inserted == len(rows) - partial
    with store.read() as tx:
        counts = tx.counts()
    assert counts["records"] == counts["record_versions"] == len(rows)
    store.close()
