"""A trained Fellegi–Sunter model: m and u per comparison level, λ, term frequencies.

Versioned JSON: the version is a short hash of the content, so two models with the same
parameters have the same version and a partition can name the model that produced it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ucp.domain.resolution.comparisons import Comparison, build_comparison
from ucp.domain.resolution.settings import ComparisonSpec, ResolutionSettings
from ucp.domain.resolution.table import RecordTable, distinct_ints

FORMAT = 1
#: a term-frequency adjustment is kept within ± this many bits
TF_CLIP = 6.0
_FLOOR = 1e-6
#: (finer, coarser) location features: an exact finer agreement makes the coarser one redundant
NESTED: tuple[tuple[str, str], ...] = (("postcode", "locality"),)


def prob_to_weight(p: float) -> float:
    """Match probability -> match weight (log2 odds)."""
    p = min(max(p, 1e-15), 1 - 1e-15)
    return math.log2(p / (1 - p))


def weight_to_prob(w: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Match weight (log2 odds) -> probability, vectorized."""
    return np.asarray(1.0 / (1.0 + np.exp2(-np.clip(w, -200, 200))), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class ComparisonParams:
    """m and u for levels 1..L of one comparison (level 0, null, has weight 0)."""

    name: str
    levels: tuple[str, ...]
    m: tuple[float, ...]
    u: tuple[float, ...]

    def weights(self) -> npt.NDArray[np.float64]:
        """log2(m/u) per level, index 0 = null = 0."""
        m = np.maximum(np.array(self.m, dtype=np.float64), _FLOOR)
        u = np.maximum(np.array(self.u, dtype=np.float64), _FLOOR)
        return np.concatenate([[0.0], np.log2(m / u)])

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "levels": list(self.levels),
                "m": [round(x, 8) for x in self.m], "u": [round(x, 8) for x in self.u]}


@dataclass(frozen=True, slots=True)
class TermFrequencies:
    """How often each value of a feature occurred in training (values seen twice or more)."""

    total: int
    counts: Mapping[str, int] = field(default_factory=dict)

    def frequency(self, values: Sequence[str]) -> npt.NDArray[np.float64]:
        total = max(self.total, 1)
        get = self.counts.get
        return np.fromiter((get(v, 1) / total for v in values), dtype=np.float64,
                           count=len(values))


class Model:
    """Parameters of the Fellegi–Sunter model and the comparisons they belong to.

    Example:
        >>> model = Model.untrained(ResolutionSettings())
        >>> Model.from_json(model.to_json()).version == model.version
        True
    """

    def __init__(
        self,
        specs: Sequence[ComparisonSpec],
        params: Sequence[ComparisonParams],
        lam: float,
        tf: Mapping[str, TermFrequencies] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        self.specs = tuple(specs)
        # rounded as stored, so a model read back from JSON scores exactly the same
        self.params = tuple(
            ComparisonParams(p.name, tuple(p.levels), tuple(round(x, 8) for x in p.m),
                             tuple(round(x, 8) for x in p.u)) for p in params)
        self.lam = float(f"{float(lam):.10g}")
        self.tf = dict(tf or {})
        self.meta = dict(meta or {})
        self.comparisons: list[Comparison] = [build_comparison(s) for s in self.specs]
        for comparison, p in zip(self.comparisons, self.params, strict=True):
            # a model made by another version of a comparison (other levels) would weigh
            # every level with another level's parameters
            if tuple(comparison.levels) != tuple(p.levels):
                raise ValueError(
                    f"comparison {p.name!r} has the levels {', '.join(comparison.levels)}, the "
                    f"model was trained with {', '.join(p.levels)}")
        self._weights = [p.weights() for p in self.params]

    @functools.cached_property
    def version(self) -> str:
        """A short hash of everything but meta (hashed on first use: a draft model never is)."""
        return hashlib.sha256(self._content().encode()).hexdigest()[:12]

    @classmethod
    def untrained(cls, settings: ResolutionSettings) -> Model:
        """Hand-set priors (what EM starts from); usable before any training."""
        specs = settings.all_comparisons()
        params = []
        for spec in specs:
            comparison = build_comparison(spec)
            m, u = comparison.prior()
            params.append(ComparisonParams(spec.name, comparison.levels, tuple(m), tuple(u)))
        return cls(specs, params, 1e-4, meta={"trained": False})

    default = untrained

    @property
    def prior_weight(self) -> float:
        """log2(λ / (1-λ)): the weight before any evidence."""
        return prob_to_weight(self.lam)

    def level_weights(self, j: int) -> npt.NDArray[np.float64]:
        return self._weights[j]

    def tf_adjustment(self, j: int, level: int, table: RecordTable,
                      rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """log2(u / frequency of the value) for agreements at a TF level.

        u is the chance that two random records agree on the feature at all: the u of this
        level and of every stronger one (an email's same-local-part level excludes equal
        emails, yet a local part's frequency counts them).
        """
        feature = self.comparisons[j].tf_levels.get(level)
        tf = self.tf.get(feature) if feature else None
        if feature is None or tf is None or not len(rows):
            return np.zeros(len(rows), dtype=np.float64)
        # looked up once per distinct value (a big batch repeats names thousands of times)
        codes, uniq = table.codes(feature)
        distinct, inverse = distinct_ints(codes[rows])
        freq = tf.frequency(list(uniq[distinct]))[inverse]
        u_level = max(sum(self.params[j].u[:level]), _FLOOR)
        return np.asarray(np.clip(np.log2(u_level / freq), -TF_CLIP, TF_CLIP), dtype=np.float64)

    def scores(self, levels: npt.NDArray[np.int8], table: RecordTable,
               ia: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.float64],
                                                    npt.NDArray[np.float64],
                                                    npt.NDArray[np.float64]]:
        """(total weight, per-comparison weights, per-comparison TF adjustments) per pair."""
        n, c = levels.shape
        per = np.zeros((n, c), dtype=np.float64)
        tf = np.zeros((n, c), dtype=np.float64)
        for j in range(c):
            per[:, j] = self._weights[j][levels[:, j]]
            for level in self.comparisons[j].tf_levels:
                hit = np.flatnonzero(levels[:, j] == level)
                tf[hit, j] = self.tf_adjustment(j, level, table, ia[hit])
        self._nest(levels, per, tf)
        total = self.prior_weight + per.sum(axis=1) + tf.sum(axis=1)
        return total, per, tf

    def _nest(self, levels: npt.NDArray[np.int8], per: npt.NDArray[np.float64],
              tf: npt.NDArray[np.float64]) -> None:
        """A finer location that agrees exactly implies the coarser one: count it once.

        Two records with the same postcode are in the same locality (almost always), so the
        locality agreement adds no evidence then; without this the model counts one fact twice
        and links strangers who merely live in the same postcode.
        """
        features = [c.feature for c in self.comparisons]
        for fine, coarse in NESTED:
            if fine in features and coarse in features:
                f, c = features.index(fine), features.index(coarse)
                hit = (levels[:, f] == 1) & (per[:, c] > 0)
                per[hit, c] = 0.0
                tf[hit, c] = 0.0

    # -- JSON --------------------------------------------------------------------------------
    def _body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "lambda": self.lam,
            "comparisons": [s.to_dict() for s in self.specs],
            "parameters": [p.to_dict() for p in self.params],
            "term_frequencies": {
                name: {"total": t.total, "counts": dict(sorted(t.counts.items()))}
                for name, t in sorted(self.tf.items())
            },
            "meta": self.meta,
        }

    def _content(self) -> str:
        body = self._body()
        body.pop("meta")
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    def to_json(self) -> str:
        """Versioned JSON of the whole model (the version is a hash of everything but meta)."""
        return json.dumps({"version": self.version, **self._body()}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Model:
        """Read a model written by `to_json`; refuses a version that does not match."""
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"unsupported model format {data.get('format')!r}")
        model = cls(
            [ComparisonSpec.from_dict(c) for c in data["comparisons"]],
            [ComparisonParams(p["name"], tuple(p["levels"]), tuple(p["m"]), tuple(p["u"]))
             for p in data["parameters"]],
            data["lambda"],
            {name: TermFrequencies(int(t["total"]), dict(t["counts"]))
             for name, t in data.get("term_frequencies", {}).items()},
            data.get("meta", {}),
        )
        if data.get("version") not in (None, model.version):
            raise ValueError("model content does not match its version")
        return model
