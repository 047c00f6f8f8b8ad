"""Training in the store, explain, "why is X here", and the review queue as constraints."""

from __future__ import annotations

from pathlib import Path

import pytest

from ucp.config import load_config
from ucp.errors import Conflict, InputError
from ucp.services import explain, review
from ucp.services.ingest import ingest_file
from ucp.services.resolution import build_resolver, resolve_all
from ucp.services.training import train_model
from ucp.store.store import Store
from ucp.synth import generate


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    generate(out, persons=200, seed=23)
    return out


@pytest.fixture
def trained(store: Store, data: Path) -> Store:
    config = load_config(data / "ucp.yaml")
    for source, name in (("crm", "crm.csv"), ("shop_customers", "shop_customers.jsonl"),
                         ("support_tickets", "support_tickets.csv")):
        ingest_file(store, config, source, data / name, resolve=False)
    result = train_model(store, config)
    assert result.records > 100
    resolve_all(store, build_resolver(config, store))
    return store


def test_training_stores_an_active_model_that_resolution_uses(trained: Store, data: Path) -> None:
    config = load_config(data / "ucp.yaml")
    with trained.read() as tx:
        model = tx.active_model()
        assert model is not None
        assert {r[0] for r in tx.conn.exec_driver_sql("SELECT model_version FROM links")} == {
            f"fs-{model['version']}"}
    assert build_resolver(config, trained).model_version == f"fs-{model['version']}"


def test_explain_waterfall_adds_up(trained: Store, data: Path) -> None:
    config = load_config(data / "ucp.yaml")
    with trained.read() as tx:
        (a, b) = [k for _, k in sorted(tx.record_keys(tx.all_record_ids()[:2]).items())]
    body = explain.explain_pair(trained, config, str(a), str(b))
    wf = body["waterfall"]
    total = wf["prior"] + sum(c["weight"] + c["tf_adjustment"] for c in wf["comparisons"])
    assert total == pytest.approx(body["weight"], abs=1e-3)
    assert 0.0 <= body["probability"] <= 1.0
    with pytest.raises(InputError):
        explain.explain_pair(trained, config, "crm", str(b))


def test_why_reaches_every_record_of_a_profile(trained: Store) -> None:
    with trained.read() as tx:
        big = max(tx.list_profiles(None, 1000), key=lambda p: p["record_count"])
        first = tx.profile_records(big["id"])[0]
    assert big["record_count"] >= 2
    why = explain.why_in_profile(trained, big["id"], f"{first['source']}:{first['source_key']}")
    assert why["reaches_all_records"]
    assert len(why["links"]) == big["record_count"] - 1
    assert all("kind" in link and link["model_version"] for link in why["links"])


def test_review_decisions_become_constraints(trained: Store, data: Path) -> None:
    config = load_config(data / "ucp.yaml")
    items = review.review_queue(trained, limit=50)
    if len(items) < 2:
        pytest.skip("this sample produced fewer than two review items")
    probabilities = [i["probability"] for i in items]
    assert probabilities == sorted(probabilities, reverse=True)
    accepted = review.decide(trained, config, items[0]["id"], "accept", "t")
    assert len(accepted["profile_ids"]) == 1
    rejected = review.decide(trained, config, items[1]["id"], "reject", "t")
    assert len(rejected["profile_ids"]) == 2
    with pytest.raises(Conflict):
        review.decide(trained, config, items[0]["id"], "reject", "t")
    # a full batch run keeps both decisions
    resolve_all(trained, build_resolver(config, trained))
    with trained.read() as tx:
        owner = {(s, k): p for s, k, p in tx.memberships()}
    a0, b0 = (tuple(items[0][x].split(":", 1)) for x in ("a", "b"))
    a1, b1 = (tuple(items[1][x].split(":", 1)) for x in ("a", "b"))
    assert owner[a0] == owner[b0]
    assert owner[a1] != owner[b1]


def test_a_pairs_file_refines_m_and_bad_rows_are_named(trained: Store, data: Path,
                                                        tmp_path: Path) -> None:
    from ucp.services.training import read_labels

    config = load_config(data / "ucp.yaml")
    with trained.read() as tx:
        keys = [rec.key for _, rec, _ in tx.iter_resolvable(with_attributes=False)][:4]
    good = tmp_path / "pairs.csv"
    good.write_text("a,b,match\n"
                    f"{keys[0].source}:{keys[0].source_key},{keys[1].source}:{keys[1].source_key},yes\n"
                    f"{keys[2].source}:{keys[2].source_key},{keys[3].source}:{keys[3].source_key},0\n")
    labels = read_labels(good)
    assert [same for _, _, same in labels] == [True, False]
    result = train_model(trained, config, extra_labels=labels)
    assert result.labels == 2 and result.model.meta["labels"] == 1  # positives refine m
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,match\ncrm:1,crm:2,true\ncrm:1,nokey,true\n")
    with pytest.raises(InputError) as exc:
        read_labels(bad)
    assert exc.value.context == {"row": 3, "field": "b"}
    bad.write_text("a,b,match\ncrm:1,crm:2,perhaps\n")
    with pytest.raises(InputError, match="row 2, column 'match'"):
        read_labels(bad)
    bad.write_text("a,match\n")
    with pytest.raises(InputError, match="missing: b"):
        read_labels(bad)


def test_a_stored_model_this_version_cannot_use_asks_for_training(tmp_path: Path) -> None:
    import orjson

    from ucp.config import parse_config
    from ucp.domain.resolution import Model, ResolutionSettings
    from ucp.errors import StoreError
    from ucp.services.resolution import build_resolver
    from ucp.store.store import Store, now

    body = orjson.loads(Model.untrained(ResolutionSettings()).to_json())
    body["parameters"][0]["levels"] = body["parameters"][0]["levels"][:-1] + ["other"]
    store = Store.open(f"sqlite:///{tmp_path}/old.db")
    with store.write() as tx:
        tx.save_model("0ld", "fellegi-sunter", body, {}, now())
    with pytest.raises(StoreError, match="active model 0ld cannot be used .* `ucp train`"):
        build_resolver(parse_config("version: 1\n"), store)
    store.close()
