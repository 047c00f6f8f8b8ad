"""Migrations that move data: 0008 folds the per-trait rows of `traits` into one
`profile_traits` row per profile (values and states) and its downgrade splits them again."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from alembic import command
from sqlalchemy import create_engine, text
from tests.conftest import PG_ENV, _pg_unavailable

from ucp.store import migrations
from ucp.store.engine import make_engine, normalize_url
from ucp.store.store import Store


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend (no schema yet)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        _pg_unavailable(f"{PG_ENV} is not set")
    assert base is not None
    admin = create_engine(normalize_url(base), isolation_level="AUTOCOMMIT")
    name = f"ucp_mig_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_0008_moves_trait_rows_into_one_row_per_profile_and_back(empty_url: str) -> None:
    engine = make_engine(empty_url)
    migrations.upgrade(engine, "0006")
    at = datetime(2026, 11, 30, 12, tzinfo=UTC)
    later = datetime(2026, 12, 1, 8, tzinfo=UTC)
    rows = [  # stateful aggregates, a derived value without a state, a bare legacy value
        ("p1", "order_count", {"v": 2, "s": {"h": "abc", "n": 2}}, at),
        ("p1", "average_order_value", {"v": 12.5}, later),
        ("p2", "favorite_category", {"v": "hats", "s": {"h": "def", "c": [["hats", 3]]}}, at),
        ("p3", "legacy", 7, at),
    ]
    with engine.begin() as conn:
        for pid, name, value, when in rows:
            conn.execute(
                text("INSERT INTO traits (profile_id, name, value, updated_at) "
                     "VALUES (:p, :n, :v, :u)"),
                {"p": pid, "n": name, "v": orjson.dumps(value).decode(), "u": when},
            )
    migrations.upgrade(engine)
    store = Store(engine)
    with store.read() as tx:
        assert tx.all_traits() == {
            "p1": {"order_count": 2, "average_order_value": 12.5},
            "p2": {"favorite_category": "hats"},
            "p3": {"legacy": 7},
        }
        values, states, updated = tx.traits_with_states("p1")
        assert states == {"order_count": {"h": "abc", "n": 2}}
        assert values == {"order_count": 2, "average_order_value": 12.5}
        assert updated is not None and updated.replace(tzinfo=updated.tzinfo or UTC) == later
        assert tx.trait_states(["p1", "p2", "p3", "nobody"]) == {
            "p1": {"order_count": {"h": "abc", "n": 2}},
            "p2": {"favorite_category": {"h": "def", "c": [["hats", 3]]}},
        }
    with engine.begin() as conn:
        command.downgrade(migrations.alembic_config(conn), "0006")
    with engine.connect() as conn:
        back = {
            (pid, name): orjson.loads(value) if isinstance(value, str) else value
            for pid, name, value in conn.execute(
                text("SELECT profile_id, name, value FROM traits"))
        }
    assert back == {
        ("p1", "order_count"): {"v": 2, "s": {"h": "abc", "n": 2}},
        ("p1", "average_order_value"): {"v": 12.5},
        ("p2", "favorite_category"): {"v": "hats", "s": {"h": "def", "c": [["hats", 3]]}},
        ("p3", "legacy"): {"v": 7},
    }
    engine.dispose()
