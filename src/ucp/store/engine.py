"""Engines for SQLite and PostgreSQL; every dialect difference of ucp lives in this module."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from ucp.errors import ConfigError


def normalize_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` and use the psycopg 3 driver for them."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"database URL is not a valid SQLAlchemy URL: {url.split('@')[-1]!r}"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://"
        )
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # writers take the write lock up front so two writers never deadlock upgrading read locks
    mode = "IMMEDIATE" if conn.get_execution_options().get("ucp_write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def _json_loads(value: Any) -> Any:
    # SQLite hands back a bare JSON number as a number, not text
    return orjson.loads(value) if isinstance(value, (str, bytes, bytearray)) else value


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def make_engine(url: str) -> Engine:
    """An engine with WAL and sane pragmas on SQLite, psycopg 3 on PostgreSQL."""
    url = normalize_url(url)
    json_options: dict[str, Any] = {
        "json_serializer": _json_dumps,
        "json_deserializer": _json_loads,
    }
    if url.startswith("sqlite"):
        # pooled: a new SQLite connection costs a file open and four pragmas
        pooling = {} if url in ("sqlite://", "sqlite:///:memory:") else {
            "pool_size": 8, "max_overflow": 16}
        engine = create_engine(url, **pooling, **json_options)
        event.listen(engine, "connect", _sqlite_pragmas)
        # let SQLAlchemy, not pysqlite, decide when transactions begin (so BEGIN is explicit)
        event.listen(engine, "connect", lambda c, _r: setattr(c, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True, **json_options)


def insert_ignore(engine_or_dialect: str, table: Table) -> Any:
    """An INSERT that skips rows conflicting with a unique constraint, on either backend."""
    if engine_or_dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()
