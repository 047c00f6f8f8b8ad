"""Loading truth and cluster files, and rendering a report."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rich.console import Console

from ucp.domain.evaluation import evaluate
from ucp.errors import InputError, UnsupportedFormat
from ucp.services.evaluate import load_clusters_file, load_truth, render_report


@pytest.fixture
def truth_file(tmp_path: Path) -> Path:
    path = tmp_path / "truth.csv"
    path.write_text("source,source_key,person_id\ncrm,001,P1\nshop,001,P1\nshop,7,P2\n"
                    "web,abc-1,P2\n")
    return path


def test_load_truth_keeps_keys_as_strings(truth_file: Path) -> None:
    assert load_truth(truth_file) == {("crm", "001"): "P1", ("shop", "001"): "P1",
                                      ("shop", "7"): "P2", ("web", "abc-1"): "P2"}


def test_clusters_with_a_source_column(truth_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("src,rid,cid\ncrm,001,9\nshop,001,9\nshop,7,10\n")
    clusters = load_clusters_file(path, "rid", "cid", source_col="src")
    assert clusters == {("crm", "001"): "9", ("shop", "001"): "9", ("shop", "7"): "10"}
    e = evaluate(load_truth(truth_file), clusters)
    assert e.pairwise_precision == 1.0 and e.missing_from_predicted == 1


def test_clusters_as_prefixed_or_bare_ids(truth_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("rid,cid\ncrm:001,a\nshop:001,a\n7,b\nabc-1,b\n001,z\nnope,q\n")
    truth = load_truth(truth_file)
    clusters = load_clusters_file(path, "rid", "cid", truth=truth)
    assert clusters[("crm", "001")] == "a" and clusters[("shop", "7")] == "b"
    assert clusters[("web", "abc-1")] == "b"
    assert clusters["001"] == "z"  # ambiguous bare key: left as is, so it counts as unknown
    e = evaluate(truth, clusters)
    assert e.pairwise_f1 == 1.0 and e.unknown_in_predicted == 2


def test_prefixed_ids_without_truth(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("rid,cid\ncrm:1:2,a\n")
    assert load_clusters_file(path, "rid", "cid") == {("crm", "1:2"): "a"}


def test_parquet_clusters(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"source": ["crm"], "key": [1], "cluster": [5]}), path)
    assert load_clusters_file(path, "key", "cluster", "source") == {("crm", "1"): "5"}


def test_bad_files_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_truth(tmp_path / "missing.csv")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(UnsupportedFormat):
        load_clusters_file(tmp_path / "x.json", "a", "b")
    (tmp_path / "t.csv").write_text("source,key\n")
    with pytest.raises(InputError, match="source_key"):
        load_truth(tmp_path / "t.csv")


def test_report_renders_scores_and_worst_errors() -> None:
    e = evaluate({"a": 1, "b": 1, "c": 2}, {"a": "x", "b": "y", "c": "x"})
    console = Console(record=True, width=120)
    console.print(render_report(e))
    text = console.export_text()
    for words in ("pairwise", "B-cubed", "Worst over-merges", "Worst splits", "records"):
        assert words in text


def test_blocking_report_counts_each_rules_pairs_and_the_true_pairs_it_finds(
        tmp_path: Path) -> None:
    from collections import Counter

    from ucp.config import load_config
    from ucp.services.evaluate import blocking_report, render_blocking
    from ucp.services.ingest import ingest_file
    from ucp.services.resolution import build_resolver
    from ucp.store.store import Store
    from ucp.synth import generate

    generate(tmp_path, persons=200, seed=3)
    config = load_config(tmp_path / "ucp.yaml")
    store = Store.open(f"sqlite:///{tmp_path}/ucp.db")
    for source, name in (("crm", "crm.csv"), ("newsletter", "newsletter.csv")):
        ingest_file(store, config, source, tmp_path / name, resolve=False)
    truth = load_truth(tmp_path / "truth.csv")
    resolver = build_resolver(config, store)
    report = blocking_report(store, resolver, truth)
    with store.read() as tx:
        people = Counter(truth[(s, k)] for s, k, _ in tx.memberships())
    store.close()
    assert [r.rule for r in report.rules] == [r.name for r in resolver.settings.all_blocking()]
    assert report.true_pairs_total == sum(n * (n - 1) // 2 for n in people.values()) > 20
    assert 0 < report.true_pairs_found <= report.true_pairs_total
    assert sum(r.new_pairs for r in report.rules) == report.total_pairs
    assert all((r.true_pairs or 0) <= r.pairs for r in report.rules)
    console = Console(record=True, width=160)
    console.print(render_blocking(report))
    assert "given_family_phonetic" in console.export_text()
