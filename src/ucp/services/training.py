"""Train the Fellegi–Sunter model on the store's records and make it the active model."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import orjson

from ucp.config import UCPConfig
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


def train_model(
    store: Store,
    config: UCPConfig,
    sample: int | None = None,
    seed: int = 0,
    actor: str = "cli",
) -> TrainingResult:
    """Unsupervised training (steward decisions refine m); the new model becomes active."""
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
