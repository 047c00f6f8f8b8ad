"""Train the Fellegi–Sunter model on the store's records and make it the active model."""

from __future__ import annotations

import csv
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson

from ucp.config import UCPConfig
from ucp.domain.model import RecordKey
from ucp.domain.resolution.fs_model import Model
from ucp.domain.resolution.probabilistic import TrainingReport, train
from ucp.errors import InputError
from ucp.services import audit
from ucp.services.resolution import resolution_settings
from ucp.store.store import Store, now


@dataclass(frozen=True, slots=True)
class TrainingResult:
    model: Model
    report: TrainingReport
    records: int
    labels: int
    seconds: float


Label = tuple[RecordKey, RecordKey, bool]
_TRUE = {"1", "true", "yes", "y", "match", "same"}
_FALSE = {"0", "false", "no", "n", "non-match", "different"}


def read_labels(path: Path) -> list[Label]:
    """A pairs file: CSV with columns `a`, `b` (SOURCE:KEY) and `match` (true/false, 1/0, yes/no).

    Raises InputError naming the row and column of the first unusable line (never its value).
    """
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read labels file {path.name}: {exc.strerror}") from exc
    labels: list[Label] = []
    with handle:
        reader = csv.DictReader(handle)
        missing = {"a", "b", "match"} - {(c or "").strip() for c in reader.fieldnames or []}
        if missing:
            raise InputError(f"labels file needs columns a, b, match; missing: "
                             f"{', '.join(sorted(missing))}", field=",".join(sorted(missing)))
        for row_number, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            keys = []
            for column in ("a", "b"):
                source, sep, key = row[column].partition(":")
                if not sep or not source or not key:
                    raise InputError(f"labels row {row_number}, column {column!r}: a record "
                                     "must look like SOURCE:KEY", row=row_number, field=column)
                keys.append(RecordKey(source, key))
            flag = row["match"].lower()
            if flag not in _TRUE | _FALSE:
                raise InputError(f"labels row {row_number}, column 'match': expected true/false, "
                                 "1/0 or yes/no", row=row_number, field="match")
            labels.append((keys[0], keys[1], flag in _TRUE))
    return labels


def train_model(
    store: Store,
    config: UCPConfig,
    sample: int | None = None,
    seed: int = 0,
    actor: str = "cli",
    extra_labels: Iterable[Label] = (),
) -> TrainingResult:
    """Unsupervised training; steward decisions and `extra_labels` (e.g. `read_labels` of a
    pairs file) refine m. The new model becomes active."""
    if config.resolution.engine != "probabilistic":
        raise InputError("resolution.engine is 'deterministic': there is no model to train")
    started = time.perf_counter()
    with store.read() as tx:
        records = [rec for _, rec, _ in tx.iter_resolvable(with_attributes=True)]
        constraints = tx.all_constraints()
    if len(records) < 10:
        raise InputError(f"need at least 10 records to train, the store holds {len(records)}")
    if sample and len(records) > sample:
        records.sort(key=lambda r: r.key)
        records = random.Random(seed).sample(records, sample)
    labels = [(a, b, True) for a, b in constraints.must_link]
    labels += [(a, b, False) for a, b in constraints.cannot_link]
    labels += list(extra_labels)
    model, report = train(records, resolution_settings(config), labels=labels, seed=seed)
    with store.write() as tx:
        tx.save_model(
            model.version, "fellegi-sunter", orjson.loads(model.to_json()), report.to_dict(), now()
        )
        audit.record(
            tx,
            actor,
            "model.trained",
            model.version,
            details={"records": len(records), "labels": len(labels)},
        )
    return TrainingResult(
        model, report, len(records), len(labels), round(time.perf_counter() - started, 2)
    )
