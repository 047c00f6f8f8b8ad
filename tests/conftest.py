"""Shared fixtures: a `store` on SQLite and on PostgreSQL (when UCP_TEST_POSTGRES_URL is set).

In CI (`CI=true`) the PostgreSQL variant fails instead of skipping when the server is missing or
unreachable, so a green run always means both backends passed.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ucp.store.engine import normalize_url
from ucp.store.store import Store
from ucp.store.tables import metadata

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample"
PG_ENV = "UCP_TEST_POSTGRES_URL"


def _pg_unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session, migrated once."""
    base = os.environ.get(PG_ENV)
    if not base:
        _pg_unavailable(f"{PG_ENV} is not set; PostgreSQL tests skipped")
    admin = create_engine(normalize_url(base), isolation_level="AUTOCOMMIT")
    name = f"ucp_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means unreachable
        admin.dispose()
        _pg_unavailable(f"PostgreSQL at {PG_ENV} unreachable: {type(exc).__name__}")
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    Store.open(url).close()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated empty SQLite file that each test copies (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    Store.open(f"sqlite:///{path}").close()
    return path


def _truncate_all(url: str) -> None:
    engine = create_engine(normalize_url(url))
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A clean database URL on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "ucp.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    _truncate_all(url)
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


@pytest.fixture
def sample_config():
    from ucp.config import load_config

    return load_config(SAMPLE / "ucp.yaml")
