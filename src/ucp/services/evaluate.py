"""Load a ground truth and a clustering from files, and render an evaluation for humans.

Record keys are `(source, source_key)` tuples of strings, as in `truth.csv` written by
`ucp generate`. A clusters file (CSV or Parquet) names its record ids in one of three ways:
- with a source column (`source_col`): the key is `(row[source_col], row[id_col])`;
- as `"source:source_key"` strings: split at the first colon when the part before it is a source
  of the truth (or any text before a colon when no truth is given);
- as bare source keys: matched to the truth's `source_key` when that key is unique across sources
  (ambiguous or unknown bare ids are kept as plain strings, so they count as unknown records).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from rich.console import Group
from rich.table import Table
from rich.text import Text

from ucp.domain.evaluation import Evaluation
from ucp.domain.resolution.blocking import BlockingReport, block
from ucp.domain.resolution.table import RecordTable
from ucp.errors import InputError, UnsupportedFormat
from ucp.services.resolution import StoreResolver
from ucp.store.store import Store

RecordKey = tuple[str, str]


def _read_table(path: Path, columns: list[str]) -> pa.Table:
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError(f"{path}: no such file", path=str(path))
    if suffix in (".parquet", ".pq"):
        table = pq.read_table(path)
    elif suffix in (".csv", ".txt"):
        table = pacsv.read_csv(
            path, convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in columns}, strings_can_be_null=False),
        )
    else:
        raise UnsupportedFormat(f"{path}: expected a .csv or .parquet file", path=str(path))
    absent = [c for c in columns if c not in table.column_names]
    if absent:
        raise InputError(f"{path}: missing column(s) {', '.join(absent)}", path=str(path),
                         field=absent[0])
    return table


def _strings(table: pa.Table, column: str) -> list[str]:
    return [str(v) for v in table.column(column).cast(pa.string()).to_pylist()]


def load_truth(path: Path) -> dict[RecordKey, str]:
    """`truth.csv` (source, source_key, person_id) as {(source, source_key): person_id}."""
    table = _read_table(Path(path), ["source", "source_key", "person_id"])
    keys = zip(_strings(table, "source"), _strings(table, "source_key"), strict=True)
    return dict(zip(keys, _strings(table, "person_id"), strict=True))


def load_clusters_file(
    path: Path,
    id_col: str,
    cluster_col: str,
    source_col: str | None = None,
    truth: Mapping[Hashable, Hashable] | None = None,
) -> dict[Hashable, str]:
    """A clustering file as {record key: cluster id}; see the module docstring for id forms.

    Pass the `truth` to resolve bare source keys and to recognise `source:` prefixes exactly.
    """
    columns = [id_col, cluster_col] + ([source_col] if source_col else [])
    table = _read_table(Path(path), columns)
    ids, clusters = _strings(table, id_col), _strings(table, cluster_col)
    if source_col:
        return dict(zip(zip(_strings(table, source_col), ids, strict=True), clusters,
                        strict=True))
    return dict(zip(match_ids(ids, truth), clusters, strict=True))


def match_ids(ids: list[str], truth: Mapping[Hashable, Hashable] | None) -> list[Hashable]:
    """Turn bare or `source:source_key` ids into truth keys where possible."""
    sources: set[str] = set()
    by_key: dict[str, RecordKey | None] = {}
    if truth is not None:
        for key in truth:
            if isinstance(key, tuple) and len(key) == 2:
                source, source_key = str(key[0]), str(key[1])
                sources.add(source)
                by_key[source_key] = None if source_key in by_key else (source, source_key)
    out: list[Hashable] = []
    for record_id in ids:
        head, colon, tail = record_id.partition(":")
        if colon and (truth is None or head in sources):
            out.append((head, tail))
        elif truth is not None and by_key.get(record_id) is not None:
            out.append(by_key[record_id])  # type: ignore[arg-type]
        else:
            out.append(record_id)
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _key_text(key: Hashable) -> str:
    return ":".join(map(str, key)) if isinstance(key, tuple) else str(key)


def render_report(evaluation: Evaluation) -> Group:
    """Scores, counts and the worst over-merges and splits as Rich tables."""
    scores = Table(title="Resolution quality", title_justify="left")
    scores.add_column("metric")
    scores.add_column("precision", justify="right")
    scores.add_column("recall", justify="right")
    scores.add_column("F1", justify="right")
    scores.add_row("pairwise", _pct(evaluation.pairwise_precision),
                   _pct(evaluation.pairwise_recall), _pct(evaluation.pairwise_f1))
    scores.add_row("B-cubed", _pct(evaluation.bcubed_precision),
                   _pct(evaluation.bcubed_recall), _pct(evaluation.bcubed_f1))
    counts = Table(title="Counts", title_justify="left", show_header=False)
    counts.add_column("what")
    counts.add_column("n", justify="right")
    for label, value in (
        ("records", evaluation.records),
        ("true entities", evaluation.true_clusters),
        ("predicted clusters", evaluation.predicted_clusters),
        ("true pairs / predicted pairs / correct pairs",
         f"{evaluation.true_pairs:,} / {evaluation.predicted_pairs:,} / "
         f"{evaluation.correct_pairs:,}"),
        ("over-merged clusters (>1 entity)", evaluation.over_merged_clusters),
        ("split entities (>1 cluster)", evaluation.split_entities),
        ("records missing from the prediction (singletons)", evaluation.missing_from_predicted),
        ("predicted records not in the truth (ignored)", evaluation.unknown_in_predicted),
    ):
        counts.add_row(label, f"{value:,}" if isinstance(value, int) else value)
    parts: list[Table | Text] = [scores, counts]
    for title, errors, part_word in (
        ("Worst over-merges", evaluation.worst_over_merges, "entities"),
        ("Worst splits", evaluation.worst_splits, "clusters"),
    ):
        if not errors:
            continue
        table = Table(title=title, title_justify="left")
        table.add_column("cluster" if part_word == "entities" else "entity")
        table.add_column("records", justify="right")
        table.add_column(part_word, justify="right")
        table.add_column("record keys (first few)", overflow="fold")
        for error in errors:
            keys = ", ".join(_key_text(k) for k in error.keys[:5])
            more = error.records - min(5, len(error.keys))
            table.add_row(_key_text(error.cluster), str(error.records), str(error.parts),
                          keys + (f" … +{more}" if more > 0 else ""))
        parts.append(table)
    return Group(*parts)


def store_clusters(store: Store) -> tuple[dict[tuple[str, str], str], set[str]]:
    """The store's partition for scoring: each record's profile and each owned event's profile
    (an unresolved record is its own cluster), and the names of the sources in the store."""
    with store.read() as tx:
        predicted = {
            (src, key): pid or f"unresolved:{src}:{key}"
            for rows in (tx.memberships(), tx.event_memberships())
            for src, key, pid in rows
        }
        sources = set(tx.source_ranks())
    return predicted, sources


def blocking_report(store: Store, resolver: StoreResolver,
                    truth: Mapping[RecordKey, str]) -> BlockingReport:
    """What the resolver's blocking rules do on the store's records: per rule the candidate
    pairs, those no earlier rule found, the blocks skipped as too big, and how many pairs of
    one true person each rule finds; in total, the share of true pairs blocking finds (no
    comparison can link a pair that no rule makes). Records absent from the truth count as
    people of their own."""
    with store.read() as tx:
        table = RecordTable.from_records([rec for _, rec, _ in tx.iter_resolvable(True)])
    entity = [truth.get((k.source, k.source_key), f"\x00{k}") for k in table.keys]
    settings = resolver.settings
    _, _, report = block(table, settings.all_blocking(), settings.max_block_size, entity)
    return report


def render_blocking(report: BlockingReport) -> Table:
    """The blocking report as a Rich table, one row per rule and a total."""
    table = Table(title="Blocking", title_justify="left")
    table.add_column("rule", overflow="fold")
    for name in ("pairs", "new pairs", "true pairs found", "skipped blocks (records)"):
        table.add_column(name, justify="right")
    for rule in report.rules:
        table.add_row(rule.rule, f"{rule.pairs:,}", f"{rule.new_pairs:,}",
                      f"{rule.true_pairs or 0:,}",
                      f"{rule.skipped_blocks:,} ({rule.skipped_records:,})")
    found, total = report.true_pairs_found or 0, report.true_pairs_total or 0
    table.add_row("all rules", f"{report.total_pairs:,}", "",
                  f"{found:,} of {total:,} ({_pct(found / total) if total else '–'})", "")
    return table
