"""Generated files: determinism, truth coverage, the written ucp.yaml and rates.json."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from ucp.config import parse_config
from ucp.synth import Rates, generate
from ucp.synth.writer import FILES, TRUTH_FILE

OUTPUTS = (*FILES, TRUTH_FILE, "ucp.yaml", "rates.json")


def _rows(path: Path, name: str) -> list[dict[str, Any]]:
    if name.endswith(".csv"):
        with (path / name).open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    return [orjson.loads(line) for line in (path / name).read_bytes().splitlines()]


def _get(row: dict[str, Any], dotted: str) -> Any:
    value: Any = row
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def test_same_seed_gives_byte_identical_files_whatever_the_workers(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, 300, seed=5, chunk_size=100)
    generate(b, 300, seed=5, chunk_size=100)
    generate(c, 300, seed=5, chunk_size=100, workers=2)
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
        assert (a / name).read_bytes() == (c / name).read_bytes(), name


def test_another_seed_gives_other_people(tmp_path: Path) -> None:
    generate(tmp_path / "a", 50, seed=1)
    generate(tmp_path / "b", 50, seed=2)
    assert (tmp_path / "a" / "crm.csv").read_bytes() != (tmp_path / "b" / "crm.csv").read_bytes()


def test_every_record_and_event_is_in_the_truth_exactly_once(dataset) -> None:
    config = parse_config((dataset.path / "ucp.yaml").read_text())
    truth = _rows(dataset.path, TRUTH_FILE)
    truth_keys = Counter((r["source"], r["source_key"]) for r in truth)
    assert max(truth_keys.values()) == 1
    seen: set[tuple[str, str]] = set()
    for name, (source, _) in FILES.items():
        key_path = config.sources[source].source_key
        rows = _rows(dataset.path, name)
        assert rows, name
        for row in rows:
            key = (source, str(_get(row, key_path)))
            assert key in truth_keys, key
            seen.add(key)
        assert len(rows) == dataset.summary.rows[source]
    assert seen == set(truth_keys)
    assert all(r["person_id"].startswith("P") for r in truth)
    assert len({r["person_id"] for r in truth}) == dataset.persons


def test_written_config_validates_and_maps_real_columns(dataset) -> None:
    config = parse_config((dataset.path / "ucp.yaml").read_text(), origin="ucp.yaml")
    assert set(config.sources) == {source for source, _ in FILES.values()}
    for name, (source, _) in FILES.items():
        rows = _rows(dataset.path, name)
        spec = config.sources[source]
        paths = [*spec.mapping.values(), *spec.identifiers.values(), spec.source_key]
        if spec.event is not None:
            paths.append(spec.event.timestamp)
            if isinstance(spec.event.properties, list):
                paths += spec.event.properties
        for dotted in paths:
            assert any(_get(row, dotted) not in (None, "") for row in rows), (source, dotted)


def test_rates_json_holds_the_rates_used(tmp_path: Path) -> None:
    rates = Rates.from_dict({"typo": 0.2})
    generate(tmp_path, 20, seed=3, rates=rates)
    written = json.loads((tmp_path / "rates.json").read_text())
    assert written == rates.to_dict()
    assert written["typo"] == 0.2
    assert Rates.load(tmp_path / "rates.json") == rates


def test_source_keys_are_unique_per_source(dataset) -> None:
    truth = _rows(dataset.path, TRUTH_FILE)
    per_source = Counter(r["source"] for r in truth)
    for source, n in per_source.items():
        assert len({r["source_key"] for r in truth if r["source"] == source}) == n
