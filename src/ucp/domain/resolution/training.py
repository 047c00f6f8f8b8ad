"""Unsupervised Fellegi–Sunter training: u by random sampling, m by EM, λ estimated.

Like Splink's `estimate_parameters_using_expectation_maximisation`, EM runs once per training
blocking rule; a session does not train the comparisons its rule blocks on (their agreement is
forced), and each comparison's m is the mean over the sessions that trained it. Pairs are
collapsed to distinct level patterns first, so EM costs nothing whatever the data size.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ucp.domain.model import RecordKey, ResolvableRecord
from ucp.domain.resolution.blocking import block
from ucp.domain.resolution.comparisons import Comparison, compare_all
from ucp.domain.resolution.fs_model import ComparisonParams, Model, TermFrequencies
from ucp.domain.resolution.scoring import cache_levels, compare_pairs
from ucp.domain.resolution.settings import BlockingRule, ResolutionSettings
from ucp.domain.resolution.table import RecordTable

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
_MIN_SESSION_PAIRS = 30
_MAX_SESSION_PAIRS = 2_000_000
_LABEL_STRENGTH = 50.0
_U_PRIOR_PAIRS = 200.0
#: blocked pairs sampled to estimate λ (a mean over pairs: a uniform sample is unbiased)
_LAMBDA_PAIRS = 150_000


@dataclass(slots=True)
class Session:
    """One EM run: its blocking rule, pairs, what it trained and how it converged."""

    rule: str
    pairs: int
    trained: list[str]
    iterations: list[tuple[int, float, float]] = field(default_factory=list)
    converged: bool = False
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "pairs": self.pairs, "trained": self.trained,
                "iterations": [{"iteration": i, "max_change": c, "lambda": lam}
                               for i, c, lam in self.iterations],
                "converged": self.converged, "skipped": self.skipped}


@dataclass(slots=True)
class TrainingReport:
    """What `ucp train` prints: m/u/weight per level, EM convergence per session, λ."""

    records: int
    u_pairs: int
    sessions: list[Session]
    lam: float
    expected_matches: float
    labels_used: int
    seconds: float
    model_version: str
    levels: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"records": self.records, "u_pairs": self.u_pairs,
                "sessions": [s.to_dict() for s in self.sessions], "lambda": self.lam,
                "expected_matches": self.expected_matches, "labels_used": self.labels_used,
                "seconds": self.seconds, "model_version": self.model_version,
                "levels": self.levels}

    def to_text(self) -> str:
        """A plain-text report: one line per comparison level, then the EM sessions."""
        lines = [f"model {self.model_version}: {self.records:,} records, λ = {self.lam:.3g} "
                 f"(~{self.expected_matches:,.0f} matching pairs), u from {self.u_pairs:,} "
                 f"random pairs, {self.labels_used} labels, {self.seconds:.1f}s",
                 f"{'comparison':<14} {'level':<28} {'m':>9} {'u':>9} {'weight':>7}"]
        for row in self.levels:
            lines.append(f"{row['comparison']:<14} {row['level']:<28} {row['m']:>9.4f} "
                         f"{row['u']:>9.5f} {row['weight']:>7.2f}")
        for s in self.sessions:
            state = s.skipped or (f"{len(s.iterations)} iterations, "
                                  f"{'converged' if s.converged else 'NOT converged'}")
            lines.append(f"EM {s.rule}: {s.pairs:,} pairs, trains {', '.join(s.trained)}: "
                         f"{state}")
        return "\n".join(lines)


def _uses(comparison: Comparison, feature: str) -> bool:
    """Whether a blocking feature is (part of) what a comparison compares."""
    base = comparison.feature
    related = {
        "given": {"family", "name_pair"}, "family": {"given", "name_pair"},
        "dob": {"birth_year", "birth_month", "dob_swap"},
        "address": {"house_number", "street", "address_line2"},
        "email": {"email_local"}, "phone": {"phone_last7"},
    }.get(base, set())
    root = feature.split("_")[0] if not feature.startswith("x:") else feature
    return feature == base or root == base or feature in related or (
        base in ("given", "family") and feature.startswith(("given", "family")))


def _level_counts(levels: npt.NDArray[np.int8], weights: Floats, size: int) -> Floats:
    counts = np.bincount(levels, weights=weights, minlength=size + 1)[: size + 1]
    return np.asarray(counts, dtype=np.float64)


def estimate_u(model: Model, table: RecordTable, pairs: int, rng: np.random.Generator,
               ) -> tuple[list[tuple[float, ...]], int]:
    """u per comparison level from random pairs (all pairs when there are few records)."""
    n = len(table)
    total = n * (n - 1) // 2
    if total <= pairs:
        ia, ib = np.triu_indices(n, 1)
        ia, ib = ia.astype(np.int64), ib.astype(np.int64)
    else:
        ia = rng.integers(0, n, size=int(pairs * 1.01) + 10, dtype=np.int64)
        ib = rng.integers(0, n, size=len(ia), dtype=np.int64)
        keep = ia != ib
        ia, ib = np.minimum(ia, ib)[keep][:pairs], np.maximum(ia, ib)[keep][:pairs]
    levels = compare_all(model.comparisons, table, ia, ib)
    out = []
    for j, params in enumerate(model.params):
        size = len(params.levels)
        counts = _level_counts(levels[:, j], np.ones(len(ia)), size)[1:]
        # the prior counts as _U_PRIOR_PAIRS pairs: nothing on big data, a sane u on tiny data
        smoothed = (counts + _U_PRIOR_PAIRS * np.array(params.u)) / (counts.sum() + _U_PRIOR_PAIRS)
        out.append(tuple(float(x) for x in smoothed))
    return out, len(ia)


def fit_em(
    patterns: npt.NDArray[np.int8], counts: Floats, m: list[Floats], u: list[Floats],
    lam: float, *, max_iterations: int = 40, tolerance: float = 1e-4,
    session: Session | None = None,
) -> tuple[list[Floats], float]:
    """EM over distinct level patterns (`patterns[k]` seen `counts[k]` times), u fixed.

    Args:
        patterns: level codes, one row per pattern, one column per comparison (0 = null).
        m, u: per comparison, the probabilities of levels 1..L (m is the starting point).
        lam: starting share of matches among the pairs.
    Returns:
        (m per comparison, share of matches).
    """
    session = session or Session("", 0, [])
    c = patterns.shape[1]
    log_u = [np.log(np.concatenate([[1.0], u[j]])) for j in range(c)]
    lu = sum(log_u[j][patterns[:, j]] for j in range(c))
    for iteration in range(1, max_iterations + 1):
        log_m = [np.log(np.concatenate([[1.0], np.maximum(m[j], 1e-9)])) for j in range(c)]
        lm = sum(log_m[j][patterns[:, j]] for j in range(c))
        odds = np.log(lam) - np.log1p(-lam) + lm - lu
        p = 1.0 / (1.0 + np.exp(-np.clip(odds, -500, 500)))
        weight = p * counts
        new_lam = float(np.clip(weight.sum() / counts.sum(), 1e-9, 1 - 1e-9))
        change = abs(new_lam - lam)
        new_m = []
        for j in range(c):
            size = len(m[j])
            agree = _level_counts(patterns[:, j], weight, size)[1:]
            total = agree.sum()
            # half a pair per level: tiny samples cannot drive a level to impossible
            fresh = (agree + 0.5) / (total + 0.5 * size) if total > 0 else m[j]
            change = max(change, float(np.abs(fresh - m[j]).max()))
            new_m.append(fresh)
        m = new_m
        lam = new_lam
        session.iterations.append((iteration, round(change, 8), round(lam, 8)))
        if change < tolerance:
            session.converged = True
            break
    return m, lam


def level_patterns(levels: npt.NDArray[np.int8]) -> tuple[npt.NDArray[np.int8], Ints]:
    """The distinct rows of a level matrix in lexicographic order, and each row's pattern:
    `np.unique(levels, axis=0)`, but rows packed into one integer first (4 bits per level,
    the first comparison highest, so the integer order is the row order) — many times faster.
    """
    c = levels.shape[1]
    if c > 15 or (levels.size and int(levels.max()) > 15):
        patterns, inverse = np.unique(levels, axis=0, return_inverse=True)
        return patterns, inverse.reshape(-1)
    packed = np.zeros(len(levels), dtype=np.int64)
    for j in range(c):
        packed = (packed << 4) | levels[:, j].astype(np.int64)
    distinct, inverse = np.unique(packed, return_inverse=True)
    shifts = np.arange(c - 1, -1, -1, dtype=np.int64) * 4
    patterns = ((distinct[:, None] >> shifts[None, :]) & 15).astype(np.int8)
    return patterns, inverse.reshape(-1)


def _session(
    model: Model, table: RecordTable, rule: BlockingRule, u: list[Floats],
    settings: ResolutionSettings, rng: np.random.Generator,
) -> tuple[Session, dict[int, Floats]]:
    ia, ib, _ = block(table, [rule], settings.max_block_size)
    if len(ia) > _MAX_SESSION_PAIRS:
        pick = np.sort(rng.choice(len(ia), _MAX_SESSION_PAIRS, replace=False))
        ia, ib = ia[pick], ib[pick]
    train = [j for j, c in enumerate(model.comparisons)
             if not any(_uses(c, f) for f in rule.features)]
    session = Session(rule.name, len(ia), [model.comparisons[j].name for j in train])
    if len(ia) < _MIN_SESSION_PAIRS:
        session.skipped = "too few pairs"
        return session, {}
    levels = compare_pairs(model.comparisons, table, ia, ib, columns=train)
    patterns, inverse = level_patterns(levels)
    counts = np.bincount(inverse, minlength=len(patterns)).astype(np.float64)
    m0 = [np.array(model.params[j].m, dtype=np.float64) for j in train]
    m, _ = fit_em(patterns, counts, m0, [u[j] for j in train], 0.3,
                  max_iterations=settings.em_max_iterations, tolerance=settings.em_tolerance,
                  session=session)
    found: dict[int, Floats] = {}
    for k, j in enumerate(train):
        if (levels[:, k] > 0).sum() >= _MIN_SESSION_PAIRS:
            found[j] = m[k]
    return session, found


def _term_frequencies(model: Model, table: RecordTable) -> dict[str, TermFrequencies]:
    out = {}
    for comparison in model.comparisons:
        for feature in comparison.tf_levels.values():
            codes, uniq = table.codes(feature)
            counts = np.bincount(codes, minlength=len(uniq))
            present = uniq != ""
            repeated = np.flatnonzero(present & (counts >= 2))
            out[feature] = TermFrequencies(
                int(counts[present].sum()),
                dict(zip(uniq[repeated].tolist(), counts[repeated].tolist(), strict=True)))
    return out


def _label_rows(table: RecordTable, labels: Iterable[tuple[RecordKey, RecordKey, bool]],
                ) -> tuple[Ints, Ints]:
    matches = [(a, b) for a, b, same in labels if same and a != b]
    row = {k: i for i, k in enumerate(table.keys)} if matches else {}
    pairs = [(row[a], row[b]) for a, b in matches if a in row and b in row]
    if not pairs:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    arr = np.array(sorted(set(pairs)), dtype=np.int64)
    return arr[:, 0], arr[:, 1]


def train_table(
    table: RecordTable,
    settings: ResolutionSettings,
    *,
    labels: Iterable[tuple[RecordKey, RecordKey, bool]] = (),
    seed: int = 0,
) -> tuple[Model, TrainingReport]:
    """Train on a table (see `train`)."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    prior = Model.untrained(settings)
    # u's random pairs are compared in a second thread while this one blocks, then both
    # compare half of the blocked pairs each, once (the EM sessions' pairs and λ's sample are
    # among them, and resolving this table next reuses them all): comparing runs mostly in
    # numpy and rapidfuzz, without the GIL, so the threads overlap on two cores. Only the u
    # thread draws from `rng`, before anything else does: the model is one thread's.
    with ThreadPoolExecutor(1, thread_name_prefix="ucp-train") as helper:
        u_job = helper.submit(estimate_u, prior, table, settings.u_sample_pairs, rng)
        ia, ib, _ = block(table, settings.all_blocking(), settings.max_block_size)
        cache_levels(prior.comparisons, table, ia, ib, helper)
        del ia, ib
        u_tuples, u_pairs = u_job.result()
    u = [np.array(x) for x in u_tuples]
    sessions = []
    estimates: dict[int, list[Floats]] = {}
    for rule in settings.training_blocks:
        session, found = _session(prior, table, rule, u, settings, rng)
        sessions.append(session)
        for j, m in found.items():
            estimates.setdefault(j, []).append(m)
    m_final = []
    for j, prior_params in enumerate(prior.params):
        runs = estimates.get(j)
        m_final.append(np.mean(runs, axis=0) if runs else np.array(prior_params.m))
    la, lb = _label_rows(table, labels)
    if len(la):
        levels = compare_pairs(prior.comparisons, table, la, lb)
        for j in range(len(m_final)):
            size = len(m_final[j])
            seen = _level_counts(levels[:, j], np.ones(len(la)), size)[1:]
            m_final[j] = (m_final[j] * _LABEL_STRENGTH + seen) / (_LABEL_STRENGTH + seen.sum())
    params = [ComparisonParams(p.name, p.levels, tuple(float(x) for x in m_final[j]),
                               tuple(float(x) for x in u[j]))
              for j, p in enumerate(prior.params)]
    tf = _term_frequencies(prior, table)
    draft = Model(prior.specs, params, 1e-4, tf)
    lam, expected = _estimate_lambda(draft, table, settings, rng)
    meta = {"trained": True, "records": len(table), "seed": seed, "labels": int(len(la))}
    model = Model(prior.specs, params, lam, tf, meta)
    levels_table = []
    for j, p in enumerate(model.params):
        w = model.level_weights(j)
        for k, level in enumerate(p.levels):
            levels_table.append({"comparison": p.name, "level": level, "m": p.m[k],
                                 "u": p.u[k], "weight": float(w[k + 1])})
    report = TrainingReport(len(table), u_pairs, sessions, model.lam, expected, int(len(la)),
                            round(time.perf_counter() - started, 3), model.version, levels_table)
    return model, report


def _estimate_lambda(model: Model, table: RecordTable, settings: ResolutionSettings,
                     rng: np.random.Generator) -> tuple[float, float]:
    """λ = expected matching pairs among all blocked pairs / all pairs (blocking ≈ complete)."""
    n = len(table)
    total_pairs = max(n * (n - 1) / 2, 1.0)
    ia, ib, _ = block(table, settings.all_blocking(), settings.max_block_size)
    if not len(ia):
        return 1.0 / max(n, 2), 0.0
    scale = 1.0
    if len(ia) > _LAMBDA_PAIRS:
        pick = np.sort(rng.choice(len(ia), _LAMBDA_PAIRS, replace=False))
        scale = len(ia) / _LAMBDA_PAIRS
        ia, ib = ia[pick], ib[pick]
    levels = compare_pairs(model.comparisons, table, ia, ib)
    evidence, _, _ = model.scores(levels, table, ia)
    evidence = evidence - model.prior_weight
    # the prior of a blocked pair is λ itself: the evidence already holds the agreement on the
    # blocking key (iterating on the share of matches among blocked pairs instead counts that
    # agreement twice: on generated data it expected 4.3× the true matching pairs at 100k
    # records and 34× at a million; this estimate, 1.6× at 100k)
    blocked = len(ia) * scale
    lam = float(np.clip(n / total_pairs, 1e-12, 0.5))
    for _ in range(200):
        odds = np.log2(lam / (1 - lam)) + evidence
        p = 1.0 / (1.0 + np.exp2(-np.clip(odds, -500, 500)))
        new = float(np.clip(p.mean() * blocked / total_pairs, 1e-12, 0.5))
        if abs(new - lam) <= 1e-6 * lam:
            lam = new
            break
        lam = new
    return lam, lam * total_pairs


def train(
    records: Sequence[ResolvableRecord],
    settings: ResolutionSettings,
    *,
    labels: Iterable[tuple[RecordKey, RecordKey, bool]] = (),
    seed: int = 0,
) -> tuple[Model, TrainingReport]:
    """Train a model on records without labels (labels, when given, refine m).

    Args:
        records: the records to learn from (order does not matter).
        settings: comparisons, blocking rules and training blocks.
        labels: (key, key, same person?) pairs, e.g. steward decisions.
        seed: seeds the random pairs for u; same records + seed = same model version.
    """
    return train_table(RecordTable.from_records(records), settings, labels=labels, seed=seed)
