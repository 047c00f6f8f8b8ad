"""Training: EM recovers known parameters, TF rewards rare values, models are versioned JSON."""

from __future__ import annotations

import random

import numpy as np

from ucp.domain.resolution import Model, ResolutionSettings, train
from ucp.domain.resolution.probabilistic import ProbabilisticResolver
from ucp.domain.resolution.training import fit_em

from .people import person, population


def test_em_recovers_m_and_lambda_of_synthetic_pairs_with_known_parameters() -> None:
    rng = np.random.default_rng(7)
    m_true = [np.array([0.8, 0.15, 0.05]), np.array([0.7, 0.2, 0.1]),
              np.array([0.9, 0.05, 0.05])]
    u_true = [np.array([0.01, 0.04, 0.95]), np.array([0.02, 0.08, 0.90]),
              np.array([0.005, 0.02, 0.975])]
    n, lam = 40_000, 0.2
    is_match = rng.random(n) < lam
    levels = np.zeros((n, 3), dtype=np.int8)
    for j in range(3):
        levels[is_match, j] = 1 + rng.choice(3, is_match.sum(), p=m_true[j])
        levels[~is_match, j] = 1 + rng.choice(3, (~is_match).sum(), p=u_true[j])
    patterns, inverse = np.unique(levels, axis=0, return_inverse=True)
    counts = np.bincount(inverse.ravel()).astype(np.float64)
    start = [np.array([0.5, 0.3, 0.2]) for _ in range(3)]
    m, found_lam = fit_em(patterns, counts, start, u_true, 0.5)
    assert abs(found_lam - lam) < 0.01
    for j in range(3):
        assert np.abs(m[j] - m_true[j]).max() < 0.03


def test_a_match_on_a_rare_name_weighs_more_than_on_a_common_one() -> None:
    records = population()
    records += [person(f"smith{i}", given_name="Anna", family_name="Smith") for i in range(30)]
    settings = ResolutionSettings()
    model, _ = train(records, settings, seed=1)
    resolver = ProbabilisticResolver(model, settings, {})
    common = resolver.score(person("a", family_name="Smith", birth_date="1970-01-01"),
                            person("b", family_name="Smith", birth_date="1970-01-01"))
    rare = resolver.score(person("a", family_name="Nakamura", birth_date="1970-01-01"),
                          person("b", family_name="Nakamura", birth_date="1970-01-01"))
    family = [c for c in common.evidence["comparisons"] if c["name"] == "family_name"][0]
    assert rare.weight > common.weight
    assert family["tf_adjustment"] < 0


def test_training_does_not_depend_on_record_order_and_round_trips_as_json() -> None:
    records = population()
    settings = ResolutionSettings()
    model, report = train(records, settings, seed=3)
    shuffled = records[:]
    random.Random(5).shuffle(shuffled)
    again, _ = train(shuffled, settings, seed=3)
    assert again.version == model.version
    copy = Model.from_json(model.to_json())
    assert copy.version == model.version
    assert report.model_version == model.version
    assert "EM train_dob" in report.to_text()
    assert any(s.converged for s in report.sessions)
    assert 0 < model.lam < 0.5


def test_labels_refine_m() -> None:
    records = population()
    settings = ResolutionSettings()
    plain, _ = train(records, settings)
    keys = [r.key for r in records]
    labelled, report = train(records, settings, labels=[(keys[0], keys[1], True)])
    assert report.labels_used == 1
    assert labelled.version != plain.version


def test_lambda_is_the_share_of_matching_pairs() -> None:
    """λ: expected matches / all pairs, each blocked pair weighed with λ as its prior. Taking
    the share of matches *among blocked pairs* as that prior counts the blocking key twice:
    300 strangers blocked together (same given name and postcode) doubled λ that way."""
    records = population()
    true_pairs = 0
    for p in range(150):  # a person's crm record, typo'd shop copy, initial-only ticket
        k = 1 + (p % 3 != 2) + (p % 4 == 0)
        true_pairs += k * (k - 1) // 2
    for i in range(300):  # strangers sharing given name, locality and postcode
        records.append(person(
            f"x{i:03d}", "newsletter", given_name=("Anna", "John", "Mary")[i % 3],
            family_name=f"Fam{i}q{i * 7 % 13}",
            birth_date=f"{1950 + i % 50}-0{1 + i % 9}-1{i % 10}",
            locality="Leeds", postcode="LS1 1AB", email=f"x{i}@mail.com"))
    n = len(records)
    true_lam = true_pairs / (n * (n - 1) / 2)
    model, _ = train(records, ResolutionSettings(), seed=0)
    assert true_lam / 1.5 < model.lam < true_lam * 1.5


def test_a_model_trained_with_other_levels_is_refused() -> None:
    """A stored model whose comparison has other levels than this version's (an upgrade
    changed them) would weigh each level with another's parameters: it is refused."""
    import json

    import pytest

    from ucp.domain.resolution import Model, ResolutionSettings

    body = json.loads(Model.untrained(ResolutionSettings()).to_json())
    dates = next(p for p in body["parameters"] if p["name"] == "birth_date")
    dates["levels"] = [level for level in dates["levels"] if level != "same_year"]
    dates["m"], dates["u"] = dates["m"][1:], dates["u"][1:]
    body.pop("version")
    with pytest.raises(ValueError, match="'birth_date' has the levels exact, .*same_year"):
        Model.from_json(json.dumps(body))
