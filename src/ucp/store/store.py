"""`Store`: the storage port implemented with SQLAlchemy Core on SQLite or PostgreSQL."""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    and_,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from ucp.domain.model import Identifier, RecordKey, ResolvableRecord
from ucp.domain.resolution import Assignment, Cluster
from ucp.domain.resolution.resolver import Constraints
from ucp.errors import StoreError
from ucp.store import migrations, write_lock
from ucp.store import statements as sql
from ucp.store import tables as t
from ucp.store.engine import insert_ignore, make_engine

_CHUNK = 500


def now() -> datetime:
    return datetime.now(UTC)


def new_profile_id() -> str:
    """A profile id that sorts by creation time: `p_` + 12 hex of ms + 8 random hex."""
    return f"p_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(4)}"


def _after_prefix(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else "\U0010ffff"


@functools.cache
def _coholders_query() -> tuple[Any, Any]:
    """Holders of the linkable identifier values some records hold (built once: an aliased
    self-join is slow to construct)."""
    mine, other = t.identifiers.alias("mine"), t.identifiers.alias("other")
    query = (
        select(other.c.record_id)
        .select_from(
            mine.join(other, and_(other.c.type == mine.c.type, other.c.value == mine.c.value))
        )
        .where(mine.c.linkable.is_(True), other.c.linkable.is_(True))
    )
    return query, mine.c.record_id


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@lru_cache(maxsize=64)
def _compiled(stmt: Any, dialect: Any) -> tuple[str, dict[str, Any]]:
    """SQL text and default parameters of a prebuilt statement (compiled once per process)."""
    compiled = stmt.compile(dialect=dialect)
    return str(compiled), dict(compiled.params)


@lru_cache(maxsize=256)
def _bind_processors(table: Any, columns: tuple[str, ...], dialect: Any) -> list[Any]:
    """The driver-side converters of some columns (looked up once per table and columns)."""
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]


@dataclass(frozen=True, slots=True)
class StoredRecord:
    id: int
    version: int
    content_hash: str
    profile_id: str | None


class Store:
    """Opens the database, migrates an empty one, and hands out read and write transactions.

    Example:
        store = Store.open("sqlite:///ucp.db")
        with store.write() as tx:
            tx.ensure_source("crm", "records", 1)
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._write_lock = write_lock.for_url(engine.url.database, engine.url.get_backend_name())
        self._lock_released = False

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> Store:
        engine = make_engine(url)
        store = cls(engine)
        try:
            if upgrade:
                store.upgrade_if_needed()
        except OperationalError as exc:
            engine.dispose()
            raise StoreError(f"cannot open the database: {exc.orig}") from None
        return store

    def upgrade_if_needed(self) -> None:
        current = migrations.current_revision(self.engine)
        if current != migrations.head_revision():
            if current is None and inspect(self.engine).get_table_names():
                raise StoreError("the database holds tables but no ucp schema version")
            migrations.upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()
        if self._write_lock is not None and not self._lock_released:
            self._lock_released = True
            self._write_lock.close()

    @contextmanager
    def read(self) -> Iterator[StoreTx]:
        try:
            with self.engine.connect() as conn, conn.begin():
                yield StoreTx(conn, self.dialect)
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {type(exc).__name__}") from exc

    @contextmanager
    def write(self) -> Iterator[StoreTx]:
        # SQLite: queue behind ucp's other writers (threads and processes) — store/write_lock.py
        held = self._write_lock.hold() if self._write_lock is not None else nullcontext()
        try:
            with held, self.engine.connect().execution_options(ucp_write=True) as conn, \
                    conn.begin():
                yield StoreTx(conn, self.dialect)
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {type(exc).__name__}") from exc


class StoreTx:
    """Queries and commands inside one transaction."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    def ping(self) -> None:
        self.conn.execute(select(1)).scalar_one()

    def refresh_statistics(self) -> None:
        """After a bulk load or a batch resolution, on PostgreSQL: ANALYZE the tables it
        filled, so the planner keeps using their indexes (without statistics it took a
        table just filled for a small one and scanned it, ~100 ms per incremental record,
        where autovacuum is off or has not caught up yet). SQLite: nothing."""
        if self.dialect == "postgresql":
            self.conn.exec_driver_sql(f"ANALYZE {', '.join(sql.ANALYZED_TABLES)}")

    def _sqlite_in(
        self, template: str, values: Sequence[Any], *extra: Any, lead: tuple[Any, ...] = ()
    ) -> list[Any]:
        """Rows of a statement on SQLite, each `{in}` in `template` standing for `(?, …)` of
        `values` (parameters: `lead`, the values once per `{in}`, then `extra`). The
        incremental path makes ~15 indexed lookups per record; through the driver they skip
        SQLAlchemy's statement building and cache-key work, which cost more than the lookups.
        Plain values only (JSON comes back as text, datetimes go in as the dialect stores
        them)."""
        raw = self.conn.connection.driver_connection
        sql_text = template.replace("{in}", f"({', '.join('?' * len(values))})")
        params = (*lead, *(*values,) * template.count("{in}"), *extra)
        return list(raw.execute(sql_text, params).fetchall())  # type: ignore[union-attr]

    # -- sources ---------------------------------------------------------------------------
    def ensure_source(self, name: str, kind: str, trust_rank: int) -> None:
        stmt = insert_ignore(self.dialect, t.sources)
        self.conn.execute(
            stmt, {"name": name, "kind": kind, "trust_rank": trust_rank, "created_at": now()}
        )
        self.conn.execute(
            update(t.sources)
            .where(t.sources.c.name == name)
            .values(kind=kind, trust_rank=trust_rank)
        )

    def source_ranks(self) -> dict[str, int]:
        return {name: rank for name, rank in self.conn.execute(sql.source_ranks())}

    # -- records ---------------------------------------------------------------------------
    def existing_records(self, source: str, keys: Sequence[str]) -> dict[str, StoredRecord]:
        out: dict[str, StoredRecord] = {}
        r = t.records.c
        for part in _chunks(list(keys)):
            rows: Any
            if self.dialect == "sqlite":
                rows = self._sqlite_in(
                    "SELECT source_key, id, version, content_hash, profile_id, deleted_at "
                    "FROM records WHERE source_key IN {in} AND source = ?",
                    part,
                    source,
                )
            else:
                rows = self.conn.execute(
                    select(
                        r.source_key, r.id, r.version, r.content_hash, r.profile_id, r.deleted_at
                    ).where(r.source == source, r.source_key.in_(part))
                )
            for key, rid, version, chash, pid, deleted in rows:
                # a retracted record that arrives again is a new version, even unchanged
                out[key] = StoredRecord(rid, version, "" if deleted else chash, pid)
        return out

    def existing_records_by_key(
        self, source: str, keys: Sequence[str]
    ) -> dict[str, StoredRecord]:
        """`existing_records` for big batches: on PostgreSQL one array parameter and one index
        probe per key (a list of 500 placeholders let a generic plan scan every record of the
        source while a bulk load filled the table faster than its statistics followed)."""
        if self.dialect != "postgresql":
            return self.existing_records(source, keys)
        rows = self._pg_rows(sql.EXISTING_RECORDS_PG, {"keys": list(keys), "source": source})
        return {key: StoredRecord(rid, ver, chash, pid) for key, rid, ver, chash, pid in rows}

    def insert_records(self, rows: Sequence[dict[str, Any]], at: datetime) -> list[int]:
        """Insert records at version 1; rows carry source, source_key, hash, raw, attributes."""
        if not rows:
            return []
        result = self.conn.execute(
            insert(t.records).returning(t.records.c.id, sort_by_parameter_order=True),
            [
                {
                    "source": row["source"],
                    "source_key": row["source_key"],
                    "version": 1,
                    "content_hash": row["hash"],
                    "attributes": row["attributes"],
                    "first_seen": at,
                    "last_seen": at,
                }
                for row in rows
            ],
        )
        ids = [rid for (rid,) in result]
        self.conn.execute(
            insert(t.record_versions),
            [
                {
                    "record_id": rid,
                    "version": 1,
                    "content_hash": row["hash"],
                    "raw": row["raw"],
                    "attributes": row["attributes"],
                    "valid_from": at,
                }
                for rid, row in zip(ids, rows, strict=True)
            ],
        )
        return ids

    def insert_new_records(self, rows: Sequence[dict[str, Any]], at: datetime) -> list[int]:
        """Bulk form of `insert_records` + identifiers + search terms + blocking keys.

        For records that do not exist yet (a bulk load): ids are reserved up front and every
        table is filled with one set-based write (COPY on PostgreSQL, one executemany on
        SQLite) instead of compiled statements. Rows carry what `insert_records` needs plus
        `identifiers` [(type, value, linkable)], `terms` [(kind, term)] and `blocking_keys`.
        """
        if not rows:
            return []
        if self.dialect == "postgresql":
            ids = list(
                self.conn.exec_driver_sql(
                    "SELECT nextval(pg_get_serial_sequence('records', 'id')) "
                    "FROM generate_series(1, %s)",
                    (len(rows),),
                ).scalars()
            )
        else:
            raw = self.conn.connection.driver_connection
            top = raw.execute("SELECT max(id) FROM records").fetchone()[0] or 0  # type: ignore[union-attr]
            ids = list(range(top + 1, top + 1 + len(rows)))
        pairs = list(zip(ids, rows, strict=True))
        self._bulk(
            t.records,
            ("id", "source", "source_key", "version", "content_hash", "attributes",
             "first_seen", "last_seen"),
            [(rid, r["source"], r["source_key"], 1, r["hash"], r["attributes"], at, at)
             for rid, r in pairs],
        )
        self._bulk(
            t.record_versions,
            ("record_id", "version", "content_hash", "raw", "attributes", "valid_from"),
            [(rid, 1, r["hash"], r["raw"], r["attributes"], at) for rid, r in pairs],
        )
        self._bulk(
            t.identifiers,
            ("record_id", "type", "value", "linkable"),
            [(rid, typ, val, bool(ok)) for rid, r in pairs for typ, val, ok in r["identifiers"]],
        )
        self._bulk(
            t.search_terms,
            ("record_id", "kind", "term"),
            [(rid, kind, term) for rid, r in pairs for kind, term in r["terms"]],
        )
        self._bulk(
            t.blocking_keys,
            ("record_id", "key"),
            [(rid, key) for rid, r in pairs for key in r.get("blocking_keys", ())],
        )
        return ids

    def _bulk(self, table: Any, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """Append plain rows to `table`: COPY on PostgreSQL, one executemany on SQLite."""
        if not rows:
            return
        dialect = self.conn.dialect
        types = [table.c[name].type for name in columns]
        if self.dialect == "postgresql":
            # COPY text needs JSON as text; psycopg adapts datetimes, ints and booleans itself
            dump = [
                (lambda v: orjson.dumps(v, default=str).decode())
                if isinstance(typ, JSON) else None
                for typ in types
            ]
            cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(
                f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(
                        [
                            v if f is None or v is None else f(v)
                            for f, v in zip(dump, row, strict=True)
                        ]
                    )
            return
        procs = _bind_processors(table, tuple(columns), dialect)
        if any(procs):
            rows = [
                tuple(
                    v if p is None or v is None else p(v)
                    for p, v in zip(procs, row, strict=True)
                )
                for row in rows
            ]
        raw = self.conn.connection.driver_connection
        raw.executemany(  # type: ignore[union-attr]
            f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})",
            rows,
        )

    def add_versions(self, rows: Sequence[dict[str, Any]], at: datetime) -> None:
        """New versions of existing records; each row has id, version, hash, raw, attributes."""
        if not rows:
            return
        rv = t.record_versions.c
        for row in rows:
            self.conn.execute(
                update(t.record_versions)
                .where(rv.record_id == row["id"], rv.valid_to.is_(None))
                .values(valid_to=at)
            )
        self.conn.execute(
            insert(t.record_versions),
            [
                {
                    "record_id": row["id"],
                    "version": row["version"],
                    "content_hash": row["hash"],
                    "raw": row["raw"],
                    "attributes": row["attributes"],
                    "valid_from": at,
                }
                for row in rows
            ],
        )
        for row in rows:
            self.conn.execute(
                update(t.records)
                .where(t.records.c.id == row["id"])
                .values(
                    version=row["version"],
                    content_hash=row["hash"],
                    attributes=row["attributes"],
                    last_seen=at,
                    deleted_at=None,
                )
            )

    def set_identifiers(
        self, entries: Sequence[tuple[int, Sequence[tuple[str, str, bool]]]]
    ) -> None:
        """Replace the identifiers of each record: `(record_id, [(type, value, linkable)])`."""
        ids = [rid for rid, _ in entries]
        for part in _chunks(ids):
            self.conn.execute(delete(t.identifiers).where(t.identifiers.c.record_id.in_(part)))
        rows = [
            {"record_id": rid, "type": typ, "value": value, "linkable": linkable}
            for rid, idents in entries
            for typ, value, linkable in idents
        ]
        if rows:
            self.conn.execute(insert(t.identifiers), rows)

    def set_search_terms(self, entries: Sequence[tuple[int, Iterable[tuple[str, str]]]]) -> None:
        """Replace the search terms of each record: `(record_id, [(kind, term)])`."""
        for part in _chunks([rid for rid, _ in entries]):
            self.conn.execute(delete(t.search_terms).where(t.search_terms.c.record_id.in_(part)))
        rows = [
            {"record_id": rid, "kind": kind, "term": term}
            for rid, terms in entries
            for kind, term in terms
        ]
        if rows:
            self.conn.execute(insert(t.search_terms), rows)

    def search_profiles(
        self, conditions: Sequence[tuple[str, str]], after: str | None, limit: int
    ) -> list[str]:
        """Profile ids (in id order) whose records match every `(kind, prefix)` condition."""
        s, r = t.search_terms.c, t.records.c
        matches = None
        for kind, prefix in conditions:
            stmt = (
                select(r.profile_id)
                .join(t.search_terms, s.record_id == r.id)
                .where(s.kind == kind, s.term >= prefix, s.term < _after_prefix(prefix))
            )
            matches = stmt if matches is None else matches.intersect(stmt)
        if matches is None:
            return []
        sub = matches.subquery()
        query = select(sub.c.profile_id).where(sub.c.profile_id.is_not(None))
        if after:
            query = query.where(sub.c.profile_id > after)
        query = query.distinct().order_by(sub.c.profile_id).limit(limit)
        return [pid for (pid,) in self.conn.execute(query)]

    def component(self, record_ids: Iterable[int]) -> set[int]:
        """Every record reachable from `record_ids` through shared linkable identifiers and
        steward must-links."""
        i = t.identifiers.c
        seen: set[int] = set(record_ids)
        frontier = list(seen)
        seen_values: set[tuple[str, str]] = set()
        while frontier:
            for rid in self._must_linked(frontier):
                if rid not in seen:
                    seen.add(rid)
                    frontier.append(rid)
            values: set[tuple[str, str]] = set()
            for part in _chunks(frontier):
                rows = self.conn.execute(
                    select(i.type, i.value).where(i.record_id.in_(part), i.linkable.is_(True))
                )
                values.update((typ, val) for typ, val in rows)
            values -= seen_values
            seen_values |= values
            frontier = []
            by_value = sorted(values)
            for part in _chunks(by_value):
                rows = self.conn.execute(
                    select(i.record_id, i.type, i.value).where(
                        i.value.in_([v for _, v in part]), i.linkable.is_(True)
                    )
                )
                wanted = set(part)
                for rid, typ, val in rows:
                    if (typ, val) in wanted and rid not in seen:
                        seen.add(rid)
                        frontier.append(rid)
        return seen

    def _must_linked(self, record_ids: Sequence[int]) -> set[int]:
        """Records joined to any of `record_ids` by an active must-link constraint."""
        keys = self.record_keys(record_ids)
        return self.must_linked_keys(keys.values()) if keys else set()

    def record_keys(self, record_ids: Iterable[int]) -> dict[int, RecordKey]:
        r = t.records.c
        out: dict[int, RecordKey] = {}
        for part in _chunks(sorted(set(record_ids))):
            for rid, source, key in self.conn.execute(
                select(r.id, r.source, r.source_key).where(r.id.in_(part))
            ):
                out[rid] = RecordKey(source, key)
        return out

    def record_ids(self, keys: Iterable[RecordKey]) -> dict[RecordKey, int]:
        """Ids of the live records among `keys` (retracted records are left out)."""
        r = t.records.c
        by_source: dict[str, list[str]] = {}
        for k in keys:
            by_source.setdefault(k.source, []).append(k.source_key)
        out: dict[RecordKey, int] = {}
        for source, source_keys in sorted(by_source.items()):
            for part in _chunks(sorted(source_keys)):
                for rid, key in self.conn.execute(
                    select(r.id, r.source_key).where(
                        r.source == source, r.source_key.in_(part), r.deleted_at.is_(None)
                    )
                ):
                    out[RecordKey(source, key)] = rid
        return out

    # -- resolution model, blocking keys, review -------------------------------------------
    def active_model(self) -> dict[str, Any] | None:
        m = t.models.c
        row = (
            self.conn.execute(
                select(t.models).where(m.active.is_(True)).order_by(m.created_at.desc()).limit(1)
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def save_model(self, version: str, kind: str, body: Any, report: Any, at: datetime) -> None:
        """Store a trained model and make it the active one."""
        m = t.models.c
        self.conn.execute(update(t.models).values(active=False))
        exists = self.conn.execute(select(m.version).where(m.version == version)).first()
        if exists:
            self.conn.execute(update(t.models).where(m.version == version).values(active=True))
            return
        self.conn.execute(
            insert(t.models),
            {
                "version": version,
                "kind": kind,
                "body": body,
                "report": report,
                "created_at": at,
                "active": True,
            },
        )

    def set_blocking_keys(self, entries: Sequence[tuple[int, Sequence[str]]]) -> None:
        """Replace the blocking keys of each record."""
        for part in _chunks([rid for rid, _ in entries]):
            self.conn.execute(delete(t.blocking_keys).where(t.blocking_keys.c.record_id.in_(part)))
        rows = [{"record_id": rid, "key": key} for rid, keys in entries for key in keys]
        if rows:
            self.conn.execute(insert(t.blocking_keys), rows)

    # -- incremental resolution state (issue 5) ---------------------------------------------
    def block_sizes(self, keys: Iterable[str]) -> dict[str, int]:
        """How many records hold each blocking key (store-wide)."""
        b = t.blocking_keys.c
        out: dict[str, int] = {}
        for part in _chunks(sorted(set(keys))):
            rows: Any
            if self.dialect == "sqlite":
                rows = self._sqlite_in(
                    'SELECT "key", count(*) FROM blocking_keys WHERE "key" IN {in} GROUP BY "key"',
                    part,
                )
            elif self.dialect == "postgresql":
                # one index probe per key (an IN list let a planner without fresh statistics
                # scan the whole table)
                rows = self._pg_rows(sql.BLOCK_SIZES_PG, {"keys": list(part)})
            else:
                query = select(b.key, func.count()).where(b.key.in_(part)).group_by(b.key)
                rows = self.conn.execute(query).all()
            out.update((key, n) for key, n in rows)
        return out

    def block_holders(self, keys: Iterable[str]) -> list[tuple[int, str]]:
        """`(record_id, key)` for every holder of these blocking keys."""
        b = t.blocking_keys.c
        out: list[tuple[int, str]] = []
        for part in _chunks(sorted(set(keys))):
            if self.dialect == "sqlite":
                out.extend(
                    self._sqlite_in(
                        'SELECT record_id, "key" FROM blocking_keys WHERE "key" IN {in}', part
                    )
                )
            elif self.dialect == "postgresql":
                out.extend(self._pg_rows(sql.BLOCK_HOLDERS_PG, {"keys": list(part)}))
            else:
                query = select(b.record_id, b.key).where(b.key.in_(part))
                out.extend(self.conn.execute(query).tuples())
        return out

    def blocking_keys_of(self, record_ids: Iterable[int]) -> dict[int, list[str]]:
        b = t.blocking_keys.c
        out: dict[int, list[str]] = {}
        for part in _chunks(sorted(set(record_ids))):
            rows: Any
            if self.dialect == "sqlite":
                rows = self._sqlite_in(
                    'SELECT record_id, "key" FROM blocking_keys WHERE record_id IN {in}', part
                )
            else:
                query = select(b.record_id, b.key).where(b.record_id.in_(part))
                rows = self.conn.execute(query).all()
            for rid, key in rows:
                out.setdefault(rid, []).append(key)
        return out

    def resolution_rows(self, record_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """Records with their stored resolution state (None where there is none): `key`,
        `profile_id`, `content_hash`, `features_key`, `features`, `component`, `model_version`."""
        return self._resolution_rows(t.records.c.id, record_ids)

    def unresolved_records(self, model_version: str | None, features_version: int = 0,
                           ) -> list[int]:
        """Live records that need resolving. With a `model_version` (the probabilistic
        engine): those whose stored resolution state is missing (never resolved: a deferred
        ingest), made under another model, or made from older content (`features_key` is not
        "<features_version>:<content hash>"). Without one: those in no profile yet."""
        r, s = t.records.c, t.resolution_state.c
        if model_version is None:
            query = select(r.id).where(r.deleted_at.is_(None), r.profile_id.is_(None))
        else:
            current = literal(f"{features_version}:") + r.content_hash
            query = (
                select(r.id)
                .select_from(t.records.outerjoin(t.resolution_state, s.record_id == r.id))
                .where(
                    r.deleted_at.is_(None),
                    or_(s.record_id.is_(None), s.model_version != model_version,
                        s.features_key != current),
                )
            )
        return [rid for (rid,) in self.conn.execute(query.order_by(r.id))]

    def group_rows(self, components: Iterable[int]) -> dict[int, dict[str, Any]]:
        """`resolution_rows` of every record whose stored resolution group is one of these."""
        return self._resolution_rows(t.resolution_state.c.component, components)

    def _resolution_rows(self, column: Any, values: Iterable[int]) -> dict[int, dict[str, Any]]:
        r, s = t.records.c, t.resolution_state.c
        out: dict[int, dict[str, Any]] = {}
        # by group: an inner join driven by the component index (an outer join from records
        # made SQLite scan every record); by record: the records that have no state too
        joined = (
            t.resolution_state.join(t.records, r.id == s.record_id)
            if column is s.component
            else t.records.outerjoin(t.resolution_state, s.record_id == r.id)
        )
        query = select(
            r.id, r.source, r.source_key, r.profile_id, r.content_hash, s.features_key,
            s.features, s.component, s.model_version,
        ).select_from(joined)
        by_group = column is s.component
        raw = (
            "SELECT r.id, r.source, r.source_key, r.profile_id, r.content_hash, s.features_key, "
            "s.features, s.component, s.model_version FROM "
            + (
                "resolution_state s JOIN records r ON r.id = s.record_id WHERE s.component IN {in}"
                if by_group
                else "records r LEFT JOIN resolution_state s ON s.record_id = r.id "
                "WHERE r.id IN {in}"
            )
        )
        for part in _chunks(sorted(set(values))):
            if self.dialect == "sqlite":
                rows: Any = [
                    (*row[:6], None if row[6] is None else orjson.loads(row[6]), *row[7:])
                    for row in self._sqlite_in(raw, part)
                ]
            else:
                rows = self.conn.execute(query.where(column.in_(part)))
            for rid, source, key, pid, chash, fkey, feats, comp, mver in rows:
                out[rid] = {
                    "key": RecordKey(source, key), "profile_id": pid, "content_hash": chash,
                    "features_key": fkey, "features": feats, "component": comp,
                    "model_version": mver,
                }
        return out

    def identifier_coholders(self, record_ids: Sequence[int]) -> set[int]:
        """Records holding a linkable identifier value one of `record_ids` holds (one join on
        the (type, value) index)."""
        query, mine = _coholders_query()
        out: set[int] = set()
        for part in _chunks(sorted(set(record_ids))):
            if self.dialect == "sqlite":
                out.update(
                    rid
                    for (rid,) in self._sqlite_in(
                        "SELECT other.record_id FROM identifiers AS mine JOIN identifiers AS "
                        "other ON other.type = mine.type AND other.value = mine.value "
                        "WHERE mine.record_id IN {in} AND mine.linkable = 1 "
                        "AND other.linkable = 1",
                        part,
                    )
                )
            else:
                out.update(self.conn.execute(query.where(mine.in_(part))).scalars())
        return out

    def must_linked_keys(self, keys: Iterable[RecordKey]) -> set[int]:
        """Records joined to any of `keys` by an active must-link (one query when none is)."""
        c = t.constraints.c
        wanted = set(keys)
        others: set[RecordKey] = set()
        if self.dialect == "sqlite":
            parts: Iterable[Any] = [
                [(kind, sa, ka, sb, kb) for kind, sa, ka, sb, kb in self._sqlite_constraints(
                    wanted, both_ends=False) if kind == "must_link"]
            ]
        else:
            parts = (
                self.conn.execute(
                    select(c.kind, c.source_a, c.key_a, c.source_b, c.key_b).where(
                        c.kind == "must_link",
                        c.revoked_at.is_(None),
                        or_(c.key_a.in_(part), c.key_b.in_(part)),
                    )
                )
                for part in _chunks(sorted({k.source_key for k in wanted}))
            )
        for rows in parts:
            for _, sa, ka, sb, kb in rows:
                a, b = RecordKey(sa, ka), RecordKey(sb, kb)
                if a in wanted:
                    others.add(b)
                if b in wanted:
                    others.add(a)
        others -= wanted
        return set(self.record_ids(others).values()) if others else set()

    def linkable_identifiers(self, record_ids: Iterable[int]) -> dict[int, list[Identifier]]:
        i = t.identifiers.c
        out: dict[int, list[Identifier]] = {}
        for part in _chunks(sorted(set(record_ids))):
            rows: Any
            if self.dialect == "sqlite":
                rows = self._sqlite_in(
                    "SELECT record_id, type, value FROM identifiers "
                    "WHERE record_id IN {in} AND linkable = 1",
                    part,
                )
            else:
                rows = self.conn.execute(
                    select(i.record_id, i.type, i.value).where(
                        i.record_id.in_(part), i.linkable.is_(True)
                    )
                ).all()
            for rid, typ, val in rows:
                out.setdefault(rid, []).append(Identifier(typ, val))
        return out

    def content_hashes(self) -> dict[int, str]:
        """Every record's content hash (what stored resolution features are checked against)."""
        r = t.records.c
        return {rid: chash for rid, chash in self.conn.execute(select(r.id, r.content_hash))}

    def set_resolution_state(self, rows: Sequence[dict[str, Any]]) -> None:
        """Replace the resolution state of these records (`record_id`, `features_key`,
        `features`, `component`, `model_version`)."""
        s = t.resolution_state.c
        for part in _chunks([row["record_id"] for row in rows]):
            if self.dialect == "sqlite":
                self._sqlite_in("DELETE FROM resolution_state WHERE record_id IN {in}", part)
            else:
                self.conn.execute(delete(t.resolution_state).where(s.record_id.in_(part)))
        self._insert(t.resolution_state, rows)

    def _insert(self, table: Any, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows that all name the same columns: on SQLite one driver-level executemany
        (`_bulk`: no statement compiled per call), on PostgreSQL a Core insert."""
        if not rows:
            return
        if self.dialect == "sqlite":
            columns = tuple(rows[0])
            self._bulk(table, columns, [tuple(row[c] for c in columns) for row in rows])
        else:
            self.conn.execute(insert(table), list(rows))

    def must_linked(self, record_ids: Sequence[int]) -> set[int]:
        return self._must_linked(record_ids)

    def replace_review_items(
        self,
        record_ids: Sequence[int],
        items: Sequence[dict[str, Any]],
        at: datetime,
        seeds: Iterable[int] | None = None,
        model_version: str | None = None,
    ) -> None:
        """Replace the open review items of these records with the current candidates.

        Decided items stay (and a decided pair is not queued again under the same model).
        With `seeds` (the records that changed; `items` holds every candidate between a seed
        and any record, and between two of `record_ids`): an open item of `model_version`
        between one of `record_ids` that is no seed and a record outside them is left alone:
        neither end changed, so it is still a candidate (the incremental path re-resolves
        whole groups, and such a pair joins two groups)."""
        rc = t.review_items.c
        inside = set(record_ids)
        changed = None if seeds is None else set(seeds)
        # an open item whose pair, model and weight are still queued stays as it is (same id
        # and created_at); only what changed is deleted and inserted
        wanted = {
            (item["record_a"], item["record_b"], item["model_version"], item["weight"]): item
            for item in items
        }
        stale: set[int] = set()
        kept: set[int] = set()
        for part in _chunks(sorted(set(record_ids))):
            # found by either end's index first: a `status` filter in the same statement lets
            # SQLite pick the status index and scan every open item
            if self.dialect == "sqlite":
                found: Any = self._sqlite_in(
                    "SELECT id, status, record_a, record_b, model_version, weight "
                    "FROM review_items WHERE record_a IN {in} OR record_b IN {in}",
                    part,
                )
            else:
                found = self.conn.execute(
                    select(
                        rc.id, rc.status, rc.record_a, rc.record_b, rc.model_version, rc.weight
                    ).where(or_(rc.record_a.in_(part), rc.record_b.in_(part)))
                )
            for item, status, ra, rb, version, weight in found:
                if status != "open" or item in kept or item in stale:
                    continue  # (an item between two chunks is found twice)
                if (
                    changed is not None
                    and version == model_version
                    and not ((ra in inside and rb in inside) or ra in changed or rb in changed)
                ):
                    continue
                if wanted.pop((ra, rb, version, weight), None) is None:
                    stale.add(item)
                else:
                    kept.add(item)
        for ids in _chunks(sorted(stale)):
            self.conn.execute(delete(t.review_items).where(rc.id.in_(ids)))
        if wanted:
            self.conn.execute(
                insert_ignore(self.dialect, t.review_items),
                [{**item, "status": "open", "created_at": at} for item in wanted.values()],
            )

    def review_page(self, after: int | None, limit: int) -> list[dict[str, Any]]:
        """Open review items, most probable first (keyset on probability, id)."""
        rc = t.review_items.c
        stmt = select(t.review_items).where(rc.status == "open")
        rows = self.conn.execute(
            stmt.order_by(rc.probability.desc(), rc.id).limit(limit + (after or 0))
        ).mappings()
        return [dict(r) for r in rows][after or 0 :]

    def review_item(self, item_id: int) -> dict[str, Any] | None:
        row = (
            self.conn.execute(select(t.review_items).where(t.review_items.c.id == item_id))
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def decide_review_item(self, item_id: int, status: str, actor: str, at: datetime) -> None:
        self.conn.execute(
            update(t.review_items)
            .where(t.review_items.c.id == item_id)
            .values(status=status, decided_at=at, decided_by=actor)
        )

    def current_links(self, record_ids: Sequence[int]) -> list[dict[str, Any]]:
        """Links in force touching any of the records."""
        lc = t.links.c
        out: list[dict[str, Any]] = []
        for part in _chunks(sorted(set(record_ids))):
            out.extend(
                dict(r)
                for r in self.conn.execute(
                    select(t.links).where(
                        lc.valid_to.is_(None), or_(lc.record_a.in_(part), lc.record_b.in_(part))
                    )
                ).mappings()
            )
        return out

    # -- constraints -----------------------------------------------------------------------
    def add_constraint(
        self,
        kind: str,
        a: RecordKey,
        b: RecordKey,
        actor: str,
        reason: str | None,
        at: datetime,
    ) -> int:
        a, b = sorted((a, b))
        result = self.conn.execute(
            insert(t.constraints).returning(t.constraints.c.id),
            {
                "kind": kind,
                "source_a": a.source,
                "key_a": a.source_key,
                "source_b": b.source,
                "key_b": b.source_key,
                "actor": actor,
                "reason": reason,
                "created_at": at,
            },
        )
        return int(result.scalar_one())

    def revoke_constraints_between(
        self, kind: str, a: RecordKey, b: RecordKey, actor: str, at: datetime
    ) -> None:
        a, b = sorted((a, b))
        c = t.constraints.c
        self.conn.execute(
            update(t.constraints)
            .where(
                c.kind == kind,
                c.source_a == a.source,
                c.key_a == a.source_key,
                c.source_b == b.source,
                c.key_b == b.source_key,
                c.revoked_at.is_(None),
            )
            .values(revoked_at=at, revoked_by=actor)
        )

    def revoke_constraint(
        self, constraint_id: int, actor: str, at: datetime
    ) -> dict[str, Any] | None:
        c = t.constraints.c
        row = (
            self.conn.execute(
                select(t.constraints).where(c.id == constraint_id, c.revoked_at.is_(None))
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        self.conn.execute(
            update(t.constraints)
            .where(c.id == constraint_id)
            .values(revoked_at=at, revoked_by=actor)
        )
        return dict(row)

    def constraints_for(self, keys: Iterable[RecordKey]) -> Constraints:
        """Active constraints with both ends among `keys`."""
        wanted = set(keys)
        c = t.constraints.c
        must: set[tuple[RecordKey, RecordKey]] = set()
        cannot: set[tuple[RecordKey, RecordKey]] = set()
        if self.dialect == "sqlite":
            parts: Iterable[Any] = [self._sqlite_constraints(wanted, both_ends=True)]
        else:
            parts = (
                self.conn.execute(
                    select(c.kind, c.source_a, c.key_a, c.source_b, c.key_b).where(
                        c.revoked_at.is_(None), c.key_a.in_(part)
                    )
                )
                for part in _chunks(sorted({k.source_key for k in wanted}))
            )
        for rows in parts:
            for kind, sa, ka, sb, kb in rows:
                a, b = RecordKey(sa, ka), RecordKey(sb, kb)
                if a in wanted and b in wanted:
                    (must if kind == "must_link" else cannot).add(Constraints.pair(a, b))
        return Constraints(frozenset(must), frozenset(cannot))

    def _sqlite_constraints(self, keys: set[RecordKey], both_ends: bool) -> list[Any]:
        """Active constraints `(kind, source_a, key_a, source_b, key_b)` with end a among
        `keys` (`both_ends`: for callers that want both ends among them, which they check) or
        with either end among them; found by the (source, key) index of each end."""
        by_source: dict[str, list[str]] = {}
        for k in keys:
            by_source.setdefault(k.source, []).append(k.source_key)
        out: list[Any] = []
        ends = ("a",) if both_ends else ("a", "b")
        for source, source_keys in sorted(by_source.items()):
            for part in _chunks(sorted(source_keys), _CHUNK // 2):
                where = " OR ".join(
                    f"(source_{end} = ? AND key_{end} IN {{in}})" for end in ends
                )
                template = (
                    "SELECT kind, source_a, key_a, source_b, key_b FROM constraints "
                    f"WHERE revoked_at IS NULL AND ({where})"
                )
                # one `{in}` list per end, each after its source parameter
                marks = f"({', '.join('?' * len(part))})"
                params = [v for _ in ends for v in (source, *part)]
                raw = self.conn.connection.driver_connection
                out.extend(
                    raw.execute(template.replace("{in}", marks), params)  # type: ignore[union-attr]
                )
        return out

    def list_constraints(self, active_only: bool, limit: int) -> list[dict[str, Any]]:
        c = t.constraints.c
        stmt = select(t.constraints).order_by(c.id.desc()).limit(limit)
        if active_only:
            stmt = stmt.where(c.revoked_at.is_(None))
        return [dict(row) for row in self.conn.execute(stmt).mappings()]

    def resolvable(
        self, record_ids: Iterable[int]
    ) -> dict[int, tuple[ResolvableRecord, str | None]]:
        """Records as resolution sees them, with their current profile."""
        r, i = t.records.c, t.identifiers.c
        ids = sorted(record_ids)
        heads: dict[int, tuple[RecordKey, dict[str, Any], str | None]] = {}
        idents: dict[int, list[Identifier]] = {rid: [] for rid in ids}
        for part in _chunks(ids):
            if self.dialect == "sqlite":
                head_rows: Any = [
                    (rid, source, key, None if attrs is None else orjson.loads(attrs), pid)
                    for rid, source, key, attrs, pid in self._sqlite_in(
                        "SELECT id, source, source_key, attributes, profile_id FROM records "
                        "WHERE id IN {in}",
                        part,
                    )
                ]
                ident_rows: Any = self._sqlite_in(
                    "SELECT record_id, type, value FROM identifiers "
                    "WHERE record_id IN {in} AND linkable = 1",
                    part,
                )
            else:
                head_rows = self.conn.execute(
                    select(r.id, r.source, r.source_key, r.attributes, r.profile_id).where(
                        r.id.in_(part)
                    )
                )
                ident_rows = self.conn.execute(
                    select(i.record_id, i.type, i.value).where(
                        i.record_id.in_(part), i.linkable.is_(True)
                    )
                )
            for rid, source, key, attrs, pid in head_rows:
                heads[rid] = (RecordKey(source, key), attrs, pid)
            for rid, typ, val in ident_rows:
                idents[rid].append(Identifier(typ, val))
        return {
            rid: (ResolvableRecord(key, tuple(sorted(idents[rid])), attrs), pid)
            for rid, (key, attrs, pid) in heads.items()
        }

    def iter_resolvable(
        self, with_attributes: bool = True, batch: int = 20_000
    ) -> Iterator[tuple[int, ResolvableRecord, str | None]]:
        """Every record as resolution sees it, streamed in id order."""
        r, i = t.records.c, t.identifiers.c
        last = 0
        cols = [r.id, r.source, r.source_key, r.profile_id]
        if with_attributes:
            cols.append(r.attributes)
        while True:
            heads = self.conn.execute(
                select(*cols)
                .where(r.id > last, r.deleted_at.is_(None))
                .order_by(r.id)
                .limit(batch)
            ).all()
            if not heads:
                return
            lo, hi = heads[0][0], heads[-1][0]
            idents: dict[int, list[Identifier]] = {}
            for rid, typ, val in self.conn.execute(
                select(i.record_id, i.type, i.value).where(
                    i.record_id >= lo, i.record_id <= hi, i.linkable.is_(True)
                )
            ):
                idents.setdefault(rid, []).append(Identifier(typ, val))
            for row in heads:
                rid = row[0]
                attrs = row[4] if with_attributes else {}
                record = ResolvableRecord(
                    RecordKey(row[1], row[2]), tuple(sorted(idents.get(rid, ()))), attrs
                )
                yield rid, record, row[3]
            last = hi

    def all_constraints(self) -> Constraints:
        """Every active steward constraint."""
        c = t.constraints.c
        must: set[tuple[RecordKey, RecordKey]] = set()
        cannot: set[tuple[RecordKey, RecordKey]] = set()
        for kind, sa, ka, sb, kb in self.conn.execute(
            select(c.kind, c.source_a, c.key_a, c.source_b, c.key_b).where(c.revoked_at.is_(None))
        ):
            pair = Constraints.pair(RecordKey(sa, ka), RecordKey(sb, kb))
            (must if kind == "must_link" else cannot).add(pair)
        return Constraints(frozenset(must), frozenset(cannot))

    def all_record_ids(self) -> list[int]:
        """Every live (not retracted) record, in id order."""
        r = t.records.c
        return [
            rid
            for (rid,) in self.conn.execute(
                select(r.id).where(r.deleted_at.is_(None)).order_by(r.id)
            )
        ]

    def retract_records(self, record_ids: Sequence[int], at: datetime) -> dict[int, str | None]:
        """Mark records deleted by their source: their current version and membership end at
        `at` (history stays for `as_of`), their identifiers stop linking (kept so a data
        subject's erasure still finds the record), their search terms, blocking keys, links and
        review items go, and they leave their profile. Returns each record's old profile."""
        r, rv, m = t.records.c, t.record_versions.c, t.memberships.c
        owners: dict[int, str | None] = {}
        for part in _chunks(sorted(set(record_ids))):
            ids = list(part)
            owners.update(
                {rid: pid for rid, pid in self.conn.execute(
                    select(r.id, r.profile_id).where(r.id.in_(ids)))}
            )
            self.conn.execute(
                update(t.record_versions)
                .where(rv.record_id.in_(ids), rv.valid_to.is_(None))
                .values(valid_to=at)
            )
            self.conn.execute(
                update(t.memberships)
                .where(m.record_id.in_(ids), m.valid_to.is_(None))
                .values(valid_to=at)
            )
            # identifiers stay, not linkable: an erasure request still finds the record
            self.conn.execute(
                update(t.identifiers)
                .where(t.identifiers.c.record_id.in_(ids))
                .values(linkable=False)
            )
            for table in (t.search_terms, t.blocking_keys, t.resolution_state):
                self.conn.execute(delete(table).where(table.c.record_id.in_(ids)))
            lc, rc = t.links.c, t.review_items.c
            self.conn.execute(
                update(t.links)
                .where(or_(lc.record_a.in_(ids), lc.record_b.in_(ids)), lc.valid_to.is_(None))
                .values(valid_to=at)
            )
            self.conn.execute(
                delete(t.review_items).where(or_(rc.record_a.in_(ids), rc.record_b.in_(ids)))
            )
            self.conn.execute(
                update(t.records)
                .where(r.id.in_(ids))
                .values(deleted_at=at, profile_id=None, last_seen=at)
            )
        return owners

    # -- profiles --------------------------------------------------------------------------
    def profile_ages(self, profile_ids: Iterable[str]) -> dict[str, str]:
        p = t.profiles.c
        out: dict[str, str] = {}
        for part in _chunks(sorted(set(profile_ids))):
            if self.dialect == "sqlite":
                dialect = self.conn.dialect
                parse = p.created_at.type.dialect_impl(dialect).result_processor(dialect, None)
                rows: Any = [
                    (pid, parse(created) if parse and created is not None else created)
                    for pid, created in self._sqlite_in(
                        "SELECT id, created_at FROM profiles WHERE id IN {in}", part
                    )
                ]
            else:
                rows = self.conn.execute(select(p.id, p.created_at).where(p.id.in_(part)))
            for pid, created in rows:
                out[pid] = f"{created.isoformat() if created else ''}|{pid}"
        return out

    def apply_assignment(
        self,
        ids: dict[RecordKey, int],
        previous: dict[RecordKey, str | None],
        assignment: Assignment,
        clusters: Sequence[Cluster],
        model_version: str,
        at: datetime,
        known: Iterable[str] | None = None,
    ) -> None:
        """Write a re-clustered component: memberships, profiles, aliases, links, changes.

        `previous` is each record's profile before; only what differs is written. `known`:
        the profiles among `previous` that exist, when the caller has read them already.
        """
        p, a = t.profiles.c, t.profile_aliases.c
        sizes: dict[str, int] = {}
        for pid in assignment.membership.values():
            sizes[pid] = sizes.get(pid, 0) + 1
        if known is None:
            existing = set(self.profile_ages(sizes))
        else:
            # a profile of the new membership is one of `previous` or a new id
            existing = set(known) & set(sizes)
        new_profiles = sorted(pid for pid in sizes if pid not in existing)
        self._insert(
            t.profiles,
            [
                {"id": pid, "created_at": at, "updated_at": at, "record_count": sizes[pid]}
                for pid in new_profiles
            ],
        )
        moved = [
            {"rid": ids[key], "pid": pid}
            for key, pid in assignment.membership.items()
            if previous.get(key) != pid
        ]
        sqlite = self.dialect == "sqlite"
        if moved and sqlite:
            # driver-level on SQLite (see `_sqlite_in`); the same statements as below
            raw = self.conn.connection.driver_connection
            raw.executemany(  # type: ignore[union-attr]
                "UPDATE records SET profile_id = ? WHERE id = ?",
                [(row["pid"], row["rid"]) for row in moved],
            )
            (stamp,) = _bind_processors(t.memberships, ("valid_to",), self.conn.dialect)
            for part in _chunks([row["rid"] for row in moved]):
                self._sqlite_in(
                    "UPDATE memberships SET valid_to = ? "
                    "WHERE record_id IN {in} AND valid_to IS NULL",
                    part,
                    lead=(stamp(at) if stamp else at,),
                )
        elif moved:
            self.conn.execute(
                update(t.records)
                .where(t.records.c.id == bindparam("rid"))
                .values(profile_id=bindparam("pid")),
                moved,
            )
            m = t.memberships.c
            for part in _chunks([row["rid"] for row in moved]):
                self.conn.execute(
                    update(t.memberships)
                    .where(m.record_id.in_(part), m.valid_to.is_(None))
                    .values(valid_to=at)
                )
        if moved:
            self._insert(
                t.memberships,
                [
                    {"record_id": row["rid"], "profile_id": row["pid"], "valid_from": at}
                    for row in moved
                ],
            )
        touched = {c.profile_id for c in assignment.changes} | {m["pid"] for m in moved}
        stale = [
            {"pid": pid, "n": sizes[pid]} for pid in sorted(touched & existing) if pid in sizes
        ]
        if stale and sqlite:
            (stamp,) = _bind_processors(t.profiles, ("updated_at",), self.conn.dialect)
            when = stamp(at) if stamp else at
            self.conn.connection.driver_connection.executemany(  # type: ignore[union-attr]
                "UPDATE profiles SET record_count = ?, updated_at = ? WHERE id = ?",
                [(row["n"], when, row["pid"]) for row in stale],
            )
        elif stale:
            self.conn.execute(
                update(t.profiles)
                .where(p.id == bindparam("pid"))
                .values(record_count=bindparam("n"), updated_at=at),
                stale,
            )
        for gone, survivor in sorted(assignment.aliases.items()):
            self.conn.execute(
                update(t.profile_aliases).where(a.profile_id == gone).values(profile_id=survivor)
            )
            self.conn.execute(
                insert(t.profile_aliases),
                {"alias": gone, "profile_id": survivor, "created_at": at},
            )
        retired = sorted(set(assignment.aliases) | set(assignment.removed))
        for part in _chunks(retired):
            self.conn.execute(delete(t.profiles).where(p.id.in_(part)))
        self._replace_links(ids, clusters, model_version, at)
        self._insert(
            t.changes,
            [
                {"occurred_at": at, "type": c.type, "profile_id": c.profile_id, "data": c.data}
                for c in assignment.changes
            ],
        )

    def _replace_links(
        self,
        ids: dict[RecordKey, int],
        clusters: Sequence[Cluster],
        model_version: str,
        at: datetime,
    ) -> None:
        lc = t.links.c
        record_ids = sorted(ids.values())
        current: dict[tuple[int, int, str], int] = {}
        for part in _chunks(record_ids):
            if self.dialect == "sqlite":
                rows: Any = [
                    (lid, ra, rb, kind, None if ev is None else orjson.loads(ev))
                    for lid, ra, rb, kind, ev in self._sqlite_in(
                        "SELECT id, record_a, record_b, kind, evidence FROM links "
                        "WHERE record_a IN {in} AND valid_to IS NULL",
                        part,
                    )
                ]
            else:
                rows = self.conn.execute(
                    select(lc.id, lc.record_a, lc.record_b, lc.kind, lc.evidence).where(
                        lc.record_a.in_(part), lc.valid_to.is_(None)
                    )
                )
            for lid, ra, rb, kind, evidence in rows:
                current[(ra, rb, f"{kind}|{sorted((evidence or {}).items())}")] = lid
        wanted: dict[tuple[int, int, str], dict[str, Any]] = {}
        for cluster in clusters:
            for link in cluster.links:
                ra, rb = ids[link.a], ids[link.b]
                sig = (ra, rb, f"{link.kind}|{sorted(link.evidence.items())}")
                wanted[sig] = {
                    "record_a": ra,
                    "record_b": rb,
                    "kind": link.kind,
                    "weight": link.weight,
                    "evidence": link.evidence,
                    "model_version": model_version,
                    "created_at": at,
                }
        stale = [lid for sig, lid in current.items() if sig not in wanted]
        for part in _chunks(stale):
            self.conn.execute(update(t.links).where(lc.id.in_(part)).values(valid_to=at))
        self._insert(t.links, [row for sig, row in wanted.items() if sig not in current])

    def resolve_profile_id(self, profile_id: str) -> tuple[str, bool] | None:
        """The live profile for an id or alias: `(id, redirected)`, or None if unknown."""
        located = self.locate_profile(profile_id)
        return (located[0]["id"], located[1]) if located else None

    def locate_profile(self, profile_id: str) -> tuple[dict[str, Any], bool] | None:
        """The live profile row for an id or alias, and whether it was redirected."""
        row = self.conn.execute(sql.profile_by_id(), {"pid": profile_id}).mappings().first()
        if row:
            return dict(row), False
        survivor = self.conn.execute(sql.alias_target(), {"pid": profile_id}).scalar_one_or_none()
        if survivor is None:
            return None
        row = self.conn.execute(sql.profile_by_id(), {"pid": survivor}).mappings().first()
        return (dict(row), True) if row else None

    def profile_row(self, profile_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(sql.profile_by_id(), {"pid": profile_id}).mappings().first()
        return dict(row) if row else None

    def profile_records(self, profile_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(sql.profile_records(), {"pid": profile_id}).mappings()
        return [dict(row) for row in rows]

    def profile_identifiers(self, profile_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(sql.profile_identifiers(), {"pid": profile_id}).mappings()
        return [dict(row) for row in rows]

    def current_profile_events(self, profile_id: str, limit: int) -> list[dict[str, Any]]:
        """Events carrying an identifier of the profile's records, newest first."""
        params = {"pid": profile_id, "limit": limit}
        return [dict(row) for row in self.conn.execute(sql.profile_events(), params).mappings()]

    def profile_pins(self, profile_id: str) -> list[dict[str, Any]]:
        """Active pins on the profile or on ids merged into it, newest first."""
        rows = self.conn.execute(sql.profile_pins(), {"pid": profile_id}).mappings()
        return [dict(row) for row in rows]

    def profile_bundle(self, profile_id: str, event_limit: int) -> dict[str, Any] | None:
        """What a current profile view reads, for a live profile id (None for anything else):
        `row`, `records`, `identifiers`, `events`, `pins`, `traits` (values, updated_at) and
        `ranks`. On PostgreSQL the seven queries go out in one psycopg pipeline (one network
        round trip instead of seven); on SQLite they run one after the other."""
        params = {"pid": profile_id}
        queries = {
            "row": (sql.profile_by_id(), params),
            "records": (sql.profile_records(), params),
            "identifiers": (sql.profile_identifiers(), params),
            "events": (sql.profile_events(), {"pid": profile_id, "limit": event_limit}),
            "pins": (sql.profile_pins(), params),
            "traits": (sql.profile_traits(), params),
            "ranks": (sql.source_ranks(), {}),
        }
        if self.dialect == "postgresql":
            out = self._pipelined(queries)
        else:
            out = {
                name: [dict(row) for row in self.conn.execute(stmt, args).mappings()]
                for name, (stmt, args) in queries.items()
            }
        if not out["row"]:
            return None
        traits = out["traits"][0] if out["traits"] else {}
        values: dict[str, Any] = dict(traits.get("trait_values") or {})
        updated: datetime | None = traits.get("updated_at")
        return {
            **out,
            "row": out["row"][0],
            "traits": (values, updated),
            "ranks": {row["name"]: row["trust_rank"] for row in out["ranks"]},
        }

    def _pipelined(self, queries: dict[str, tuple[Any, dict[str, Any]]]) -> dict[str, Any]:
        """Run read statements in one psycopg pipeline; rows as dicts (PostgreSQL only)."""
        from psycopg.rows import dict_row

        raw = self.conn.connection.driver_connection
        cursors = {}
        with raw.pipeline():  # type: ignore[union-attr]
            for name, (stmt, args) in queries.items():
                text_, defaults = _compiled(stmt, self.conn.dialect)
                cursor = raw.cursor(row_factory=dict_row)  # type: ignore[union-attr]
                cursor.execute(text_, {**defaults, **args})
                cursors[name] = cursor
        return {name: cursor.fetchall() for name, cursor in cursors.items()}

    def records_as_of(self, profile_id: str, at: datetime) -> list[dict[str, Any]]:
        """The profile's records, each at the version the store held at `at`."""
        m, r, v = t.memberships.c, t.records.c, t.record_versions.c
        rows = self.conn.execute(
            select(
                r.id,
                r.source,
                r.source_key,
                v.version,
                v.attributes,
                r.first_seen,
                v.valid_from.label("last_seen"),
            )
            .select_from(t.memberships)
            .join(t.records, r.id == m.record_id)
            .join(t.record_versions, v.record_id == r.id)
            .where(
                m.profile_id == profile_id,
                m.valid_from <= at,
                or_(m.valid_to.is_(None), m.valid_to > at),
                v.valid_from <= at,
                or_(v.valid_to.is_(None), v.valid_to > at),
            )
            .order_by(r.source, r.source_key)
        ).mappings()
        return [dict(row) for row in rows]

    def aliases_of(self, profile_id: str) -> list[str]:
        a = t.profile_aliases.c
        rows = self.conn.execute(
            select(a.alias).where(a.profile_id == profile_id).order_by(a.alias)
        )
        return [alias for (alias,) in rows]

    def pins(self, profile_ids: Sequence[str], at: datetime | None = None) -> list[dict[str, Any]]:
        """Pins on any of the ids (newest first), those in force at `at` when given."""
        pc = t.pins.c
        stmt = select(t.pins).where(pc.profile_id.in_(list(profile_ids)))
        if at is None:
            stmt = stmt.where(pc.revoked_at.is_(None))
        else:
            stmt = stmt.where(pc.created_at <= at, or_(pc.revoked_at.is_(None), pc.revoked_at > at))
        return [dict(row) for row in self.conn.execute(stmt.order_by(pc.id.desc())).mappings()]

    def add_pin(self, profile_id: str, attribute: str, value: str, actor: str, at: datetime) -> int:
        self.unpin(profile_id, attribute, at)
        result = self.conn.execute(
            insert(t.pins).returning(t.pins.c.id),
            {
                "profile_id": profile_id,
                "attribute": attribute,
                "value": value,
                "actor": actor,
                "created_at": at,
            },
        )
        return int(result.scalar_one())

    def unpin(self, profile_id: str, attribute: str, at: datetime) -> bool:
        pc = t.pins.c
        result = self.conn.execute(
            update(t.pins)
            .where(pc.profile_id == profile_id, pc.attribute == attribute, pc.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)

    def profile_changes(self, profile_ids: Sequence[str], limit: int) -> list[dict[str, Any]]:
        c = t.changes.c
        rows = self.conn.execute(
            select(t.changes)
            .where(c.profile_id.in_(list(profile_ids)))
            .order_by(c.seq)
            .limit(limit)
        ).mappings()
        return [dict(row) for row in rows]

    def record_identifiers(self, record_ids: Sequence[int]) -> list[dict[str, Any]]:
        i = t.identifiers.c
        out: list[dict[str, Any]] = []
        for part in _chunks(list(record_ids)):
            out.extend(
                dict(row)
                for row in self.conn.execute(
                    select(i.record_id, i.type, i.value, i.linkable).where(i.record_id.in_(part))
                ).mappings()
            )
        return out

    def profiles_by_identifier(self, id_type: str, value: str) -> list[str]:
        rows = self.conn.execute(sql.profiles_by_identifier(), {"type": id_type, "value": value})
        return [pid for (pid,) in rows]

    def profile_rows_by_identifier(self, id_type: str, value: str) -> list[dict[str, Any]]:
        """Rows (as `profile_row`) of the profiles holding an identifier, in id order."""
        rows = self.conn.execute(
            sql.profile_rows_by_identifier(), {"type": id_type, "value": value}
        ).mappings()
        return [dict(row) for row in rows]

    def list_profiles(self, after: str | None, limit: int) -> list[dict[str, Any]]:
        p = t.profiles.c
        stmt = select(t.profiles).order_by(p.id).limit(limit)
        if after:
            stmt = stmt.where(p.id > after)
        return [dict(row) for row in self.conn.execute(stmt).mappings()]

    def counts(self) -> dict[str, int]:
        def count(table: Any, *where: Any) -> int:
            stmt = select(func.count()).select_from(table)
            if where:
                stmt = stmt.where(and_(*where))
            return int(self.conn.execute(stmt).scalar_one())

        return {
            "records": count(t.records, t.records.c.deleted_at.is_(None)),
            "record_versions": count(t.record_versions),
            "profiles": count(t.profiles),
            "links": count(t.links, t.links.c.valid_to.is_(None)),
            "events": count(t.events),
        }

    def memberships(self) -> Iterator[tuple[str, str, str | None]]:
        """`(source, source_key, profile_id)` for every record (evaluation, exports)."""
        r = t.records.c
        yield from self.conn.execute(
            select(r.source, r.source_key, r.profile_id)
            .where(r.deleted_at.is_(None))
            .order_by(r.id)
        ).tuples()

    def event_memberships(self) -> Iterator[tuple[str, str, str | None]]:
        """`(source, event_key, profile_id)` for every event some profile owns."""
        e, ei, i, r = t.events.c, t.event_identifiers.c, t.identifiers.c, t.records.c
        yield from self.conn.execute(
            select(e.source, e.event_key, func.min(r.profile_id))
            .select_from(t.events)
            .join(t.event_identifiers, ei.event_id == e.id)
            .join(t.identifiers, and_(i.type == ei.type, i.value == ei.value))
            .join(t.records, r.id == i.record_id)
            .group_by(e.id, e.source, e.event_key)
            .order_by(e.id)
        ).tuples()

    # -- events ----------------------------------------------------------------------------
    def existing_event_keys(self, source: str, keys: Sequence[str]) -> set[str]:
        e = t.events.c
        out: set[str] = set()
        for part in _chunks(list(keys)):
            out.update(
                k
                for (k,) in self.conn.execute(
                    select(e.event_key).where(e.source == source, e.event_key.in_(part))
                )
            )
        return out

    def insert_events(
        self, rows: Sequence[dict[str, Any]], idents: Sequence[Sequence[tuple[str, str]]]
    ) -> None:
        """Insert new events (the caller filtered known keys) and their identifiers."""
        if not rows:
            return
        result = self.conn.execute(
            insert(t.events).returning(t.events.c.id, sort_by_parameter_order=True), list(rows)
        )
        ids = [eid for (eid,) in result]
        pairs = [
            {"event_id": eid, "type": typ, "value": val}
            for eid, ev_idents in zip(ids, idents, strict=True)
            for typ, val in ev_idents
        ]
        if pairs:
            self.conn.execute(insert(t.event_identifiers), pairs)

    def profile_events(
        self, record_ids: Sequence[int], limit: int, received_before: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Events whose identifiers match any identifier of the given records, newest first."""
        i, ei, e = t.identifiers.c, t.event_identifiers.c, t.events.c
        if not record_ids:
            return []
        matched = (
            select(ei.event_id)
            .join(t.identifiers, and_(i.type == ei.type, i.value == ei.value))
            .where(i.record_id.in_(list(record_ids)))
        )
        stmt = select(
            e.id, e.source, e.event_key, e.name, e.occurred_at, e.received_at, e.properties
        ).where(e.id.in_(matched))
        if received_before is not None:
            stmt = stmt.where(e.received_at <= received_before)
        rows = self.conn.execute(
            stmt.order_by(e.occurred_at.desc().nulls_last(), e.id.desc()).limit(limit)
        ).mappings()
        return [dict(row) for row in rows]

    # -- change feed -----------------------------------------------------------------------
    def add_change(self, type_: str, profile_id: str, data: dict[str, Any], at: datetime) -> None:
        self.conn.execute(
            insert(t.changes),
            {"occurred_at": at, "type": type_, "profile_id": profile_id, "data": data},
        )

    def changes_after(self, after: int, limit: int) -> list[dict[str, Any]]:
        c = t.changes.c
        rows = self.conn.execute(
            select(t.changes).where(c.seq > after).order_by(c.seq).limit(limit)
        ).mappings()
        return [dict(row) for row in rows]

    # -- API keys --------------------------------------------------------------------------
    def insert_api_key(self, row: dict[str, Any]) -> None:
        self.conn.execute(insert(t.api_keys), row)

    def api_key_by_hash(self, key_hash: str) -> dict[str, Any] | None:
        row = self.conn.execute(sql.api_key_by_hash(), {"h": key_hash}).mappings().first()
        return dict(row) if row else None

    def list_api_keys(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(select(t.api_keys).order_by(t.api_keys.c.created_at)).mappings()
        return [dict(row) for row in rows]

    def revoke_api_key(self, key_id: str, at: datetime) -> bool:
        result = self.conn.execute(
            update(t.api_keys)
            .where(t.api_keys.c.id == key_id, t.api_keys.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)

    # -- audit -----------------------------------------------------------------------------
    def last_audit_hash(self) -> str:
        a = t.audit_log.c
        value = self.conn.execute(
            select(a.hash).order_by(a.id.desc()).limit(1)
        ).scalar_one_or_none()
        return value or "0" * 64

    def insert_audit(self, row: dict[str, Any]) -> None:
        self.conn.execute(insert(t.audit_log), row)

    def audit_entries(self) -> Iterator[dict[str, Any]]:
        for row in self.conn.execute(select(t.audit_log).order_by(t.audit_log.c.id)).mappings():
            yield dict(row)

    # -- real time ---------------------------------------------------------------------------
    # Issue 7: the collector's inbox log, identifier locks, traits and group memberships.
    def _pg_rows(self, statement: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run a psycopg statement of `statements` (array parameters in binary) in this
        transaction; its rows."""
        with self.conn.connection.driver_connection.cursor() as cur:  # type: ignore[union-attr]
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []

    def _any(self, column: Any, values: Sequence[Any]) -> Any:
        """`column IN values`; on PostgreSQL `column = ANY(array)`: one parameter, so psycopg
        need not parse a long statement with hundreds of placeholders at every call."""
        if self.dialect == "postgresql":
            from sqlalchemy import any_
            from sqlalchemy.dialects.postgresql import ARRAY

            return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        return column.in_(list(values))

    def inbox_insert(self, rows: Sequence[dict[str, Any]]) -> set[str]:
        """Log messages as pending; a known `(source, message_id)` is skipped.

        Each row has source, message_id, type, payload, received_at. Returns the message ids
        that were new (the others were already logged: a retry).
        """
        if not rows:
            return set()
        if self.dialect == "postgresql":  # one statement with array parameters
            dumps = orjson.dumps
            result = self._pg_rows(sql.INBOX_INSERT_PG, {
                "source": [r["source"] for r in rows],
                "message_id": [r["message_id"] for r in rows],
                "type": [r["type"] for r in rows],
                "payload": [dumps(r["payload"], default=str).decode() for r in rows],
                "received_at": [r["received_at"] for r in rows],
                "status": [r.get("status", "pending") for r in rows],
                "applied_at": [r.get("applied_at") for r in rows],
                "error": [r.get("error") for r in rows],
            })
            return {mid for (mid,) in result}
        stmt = insert_ignore(self.dialect, t.inbox).returning(t.inbox.c.message_id)
        result = self.conn.execute(
            stmt, [{**row, "status": row.get("status", "pending"), "attempts": 0} for row in rows]
        )
        return {mid for (mid,) in result}

    def inbox_claim(self, limit: int) -> list[dict[str, Any]]:
        """The oldest pending messages, locked for this transaction (others skip them)."""
        c = t.inbox.c
        stmt = (
            select(c.id, c.source, c.message_id, c.type, c.payload, c.received_at)
            .where(c.status == "pending")
            .order_by(c.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
            return [dict(row) for row in self.conn.execute(stmt).mappings()]
        # SQLite: through the driver, payloads decoded here (the worker's claim, every batch)
        rows = self.conn.connection.driver_connection.execute(  # type: ignore[union-attr]
            "SELECT id, source, message_id, type, payload, received_at FROM inbox "
            "WHERE status = 'pending' ORDER BY id LIMIT ?", (limit,),
        ).fetchall()
        return [
            {"id": iid, "source": source, "message_id": mid, "type": typ,
             "payload": orjson.loads(payload) if isinstance(payload, (str, bytes)) else payload,
             "received_at": datetime.fromisoformat(received)
             if isinstance(received, str) else received}
            for iid, source, mid, typ, payload, received in rows
        ]

    def inbox_finish(self, applied: Sequence[int], failed: dict[int, str], at: datetime) -> None:
        """Mark inbox rows applied, or failed with a reason (never a data value)."""
        c = t.inbox.c
        for part in _chunks(list(applied), 5000):
            self.conn.execute(
                update(t.inbox)
                .where(self._any(c.id, part))
                .values(status="applied", applied_at=at, attempts=c.attempts + 1)
            )
        for iid, reason in failed.items():
            self.conn.execute(
                update(t.inbox)
                .where(c.id == iid)
                .values(status="failed", applied_at=at, error=reason[:500], attempts=c.attempts + 1)
            )

    def inbox_counts(self) -> dict[str, int]:
        c = t.inbox.c
        rows = self.conn.execute(select(c.status, func.count()).group_by(c.status))
        return {status: int(n) for status, n in rows}

    def inbox_rows(self, source: str, message_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        c = t.inbox.c
        out: dict[str, dict[str, Any]] = {}
        for part in _chunks(list(message_ids)):
            for row in self.conn.execute(
                select(c.message_id, c.status, c.error, c.attempts, c.received_at).where(
                    c.source == source, c.message_id.in_(part)
                )
            ).mappings():
                out[row["message_id"]] = dict(row)
        return out

    def advisory_lock(self, keys: Iterable[int]) -> None:
        """Transaction-scoped PostgreSQL advisory locks, taken in sorted order (no-op on SQLite,
        whose writers are serialized by BEGIN IMMEDIATE)."""
        ordered = sorted(set(keys))
        if self.dialect != "postgresql" or not ordered:
            return
        from sqlalchemy import text

        self.conn.execute(
            text(
                "SELECT count(pg_advisory_xact_lock(k)) FROM "
                "(SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) AS s"
            ),
            {"keys": ordered},
        )

    def records_holding(self, pairs: Iterable[tuple[str, str]]) -> set[int]:
        """Records whose current version holds one of the linkable `(type, value)` pairs."""
        i = t.identifiers.c
        wanted = set(pairs)
        out: set[int] = set()
        for part in _chunks(sorted({v for _, v in wanted})):
            for rid, typ, val in self.conn.execute(
                select(i.record_id, i.type, i.value).where(i.value.in_(part), i.linkable.is_(True))
            ):
                if (typ, val) in wanted:
                    out.add(rid)
        return out

    def linkable_values(self, record_ids: Iterable[int]) -> set[tuple[str, str]]:
        i = t.identifiers.c
        out: set[tuple[str, str]] = set()
        for part in _chunks(sorted(set(record_ids))):
            out.update(
                (typ, val)
                for typ, val in self.conn.execute(
                    select(i.type, i.value).where(i.record_id.in_(part), i.linkable.is_(True))
                )
            )
        return out

    def profiles_holding(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
        """For each `(type, value)`, the profiles whose records carry it (any identifier)."""
        i, r = t.identifiers.c, t.records.c
        wanted = sorted(set(pairs))
        out: dict[tuple[str, str], set[str]] = {}
        if self.dialect == "postgresql":
            for part in _chunks(wanted, 5000):
                for typ, val, pid in self._pg_rows(sql.PROFILES_HOLDING_PG, {
                    "types": [p[0] for p in part], "values": [p[1] for p in part]
                }):
                    out.setdefault((typ, val), set()).add(pid)
            return out
        by_type: dict[str, list[str]] = {}
        for typ, val in wanted:
            by_type.setdefault(typ, []).append(val)
        for typ, values in by_type.items():  # (type, value) is the index
            for part in _chunks(values):
                for val, pid in self.conn.execute(
                    select(i.value, r.profile_id)
                    .join(t.records, r.id == i.record_id)
                    .where(i.type == typ, i.value.in_(part), r.profile_id.is_not(None))
                ):
                    out.setdefault((typ, val), set()).add(pid)
        return out

    def profile_event_rows(self, profile_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Every event of each profile (matched through the identifiers of its records, like
        `profile_events`), unordered."""
        i, r, ei, e = t.identifiers.c, t.records.c, t.event_identifiers.c, t.events.c
        pids = sorted(set(profile_ids))
        pairs: set[tuple[str, int]] = set()
        for part in _chunks(pids):
            pairs.update(
                (pid, eid)
                for pid, eid in self.conn.execute(
                    select(r.profile_id, ei.event_id)
                    .select_from(t.records)
                    .join(t.identifiers, i.record_id == r.id)
                    .join(t.event_identifiers, and_(ei.type == i.type, ei.value == i.value))
                    .where(r.profile_id.in_(part))
                    .distinct()
                )
            )
        rows: dict[int, dict[str, Any]] = {}
        for part in _chunks(sorted({eid for _, eid in pairs})):
            for row in self.conn.execute(
                select(
                    e.id, e.source, e.event_key, e.name, e.occurred_at, e.received_at, e.properties
                ).where(e.id.in_(part))
            ).mappings():
                rows[row["id"]] = dict(row)
        out: dict[str, list[dict[str, Any]]] = {pid: [] for pid in pids}
        for pid, eid in sorted(pairs):
            out[pid].append(rows[eid])
        return out

    def live_profiles(self, profile_ids: Iterable[str]) -> set[str]:
        p = t.profiles.c
        out: set[str] = set()
        for part in _chunks(sorted(set(profile_ids))):
            out.update(
                pid for (pid,) in self.conn.execute(select(p.id).where(self._any(p.id, part)))
            )
        return out

    def replace_traits(
        self,
        values: dict[str, dict[str, Any]],
        at: datetime,
        states: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """Set the traits of each profile to exactly `values[profile_id]`; with `states`, the
        row also keeps each aggregate's incremental state (`states[profile_id]`). One row per
        profile, replaced whole: this is the worker's hottest write."""
        if not values:
            return
        kept = states or {}
        dumps = orjson.dumps
        pids = sorted(values)
        texts = [dumps(values[pid], default=str).decode() for pid in pids]
        state_texts = [
            dumps(st, default=str).decode() if (st := kept.get(pid)) else None for pid in pids
        ]
        if self.dialect == "postgresql":
            self._pg_rows(sql.REPLACE_TRAITS_PG, {
                "pids": pids, "vals": texts, "states": state_texts, "at": at,
            })
            return
        stamp = t.profile_traits.c.updated_at.type.dialect_impl(
            self.conn.dialect).bind_processor(self.conn.dialect)
        when = stamp(at) if stamp else at
        self.conn.connection.driver_connection.executemany(  # type: ignore[union-attr]
            "INSERT OR REPLACE INTO profile_traits (profile_id, trait_values, trait_states, "
            "updated_at) VALUES (?, ?, ?, ?)",
            [(pid, v, st, when) for pid, v, st in zip(pids, texts, state_texts, strict=True)],
        )

    def trait_states(self, profile_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored incremental states `{profile_id: {trait: state}}` (profiles without
        one are left out)."""
        out: dict[str, dict[str, Any]] = {}
        pids = sorted(set(profile_ids))
        if self.dialect == "postgresql":
            rows: Iterable[tuple[Any, Any]] = self._pg_rows(sql.TRAIT_STATES_PG, {"pids": pids})
        else:
            rows = [
                row
                for part in _chunks(pids)
                for row in self._sqlite_in(
                    "SELECT profile_id, trait_states FROM profile_traits WHERE profile_id IN {in}",
                    part,
                )
            ]
        for pid, value in rows:
            if isinstance(value, (str, bytes)):
                value = orjson.loads(value)
            if isinstance(value, dict):
                out[pid] = value
        return out

    def traits_with_states(
        self, profile_id: str
    ) -> tuple[dict[str, Any], dict[str, Any], datetime | None]:
        """One profile's stored values, incremental states and last update, in one query."""
        pt = t.profile_traits.c
        row = self.conn.execute(
            select(pt.trait_values, pt.trait_states, pt.updated_at)
            .where(pt.profile_id == profile_id)
        ).first()
        if row is None:
            return {}, {}, None
        return dict(row[0] or {}), dict(row[1] or {}), row[2]

    def delete_traits(self, profile_ids: Iterable[str]) -> None:
        pt = t.profile_traits.c
        for part in _chunks(sorted(set(profile_ids))):
            self.conn.execute(delete(t.profile_traits).where(self._any(pt.profile_id, part)))

    def traits_of(self, profile_id: str) -> tuple[dict[str, Any], datetime | None]:
        """A profile's stored trait values and when they were last computed."""
        values, _states, updated = self.traits_with_states(profile_id)
        return values, updated

    def all_traits(self) -> dict[str, dict[str, Any]]:
        pt = t.profile_traits.c
        return {
            pid: dict(values or {})
            for pid, values in self.conn.execute(select(pt.profile_id, pt.trait_values))
        }

    def last_change_seq(self) -> int:
        return int(self.conn.execute(select(func.max(t.changes.c.seq))).scalar_one() or 0)

    def changes_since(self, seq: int) -> list[tuple[str, str | None, dict[str, Any]]]:
        """`(type, profile_id, data)` of change-feed entries after `seq` (this tx's included)."""
        c = t.changes.c
        return [
            (typ, pid, data)
            for typ, pid, data in self.conn.execute(
                select(c.type, c.profile_id, c.data).where(c.seq > seq).order_by(c.seq)
            )
        ]

    def upsert_group_memberships(self, rows: Sequence[dict[str, Any]]) -> None:
        """Person ↔ account links; each row has source, group_id, identifier_type,
        identifier_value, traits, updated_at. The newest traits of a membership win."""
        g = t.group_memberships.c
        for row in rows:
            found = self.conn.execute(
                update(t.group_memberships)
                .where(
                    g.source == row["source"],
                    g.group_id == row["group_id"],
                    g.identifier_type == row["identifier_type"],
                    g.identifier_value == row["identifier_value"],
                )
                .values(traits=row["traits"], updated_at=row["updated_at"])
            )
            if not found.rowcount:
                self.conn.execute(insert_ignore(self.dialect, t.group_memberships), row)

    def group_memberships_of(self, pairs: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        g = t.group_memberships.c
        wanted = set(pairs)
        out: list[dict[str, Any]] = []
        for part in _chunks(sorted({v for _, v in wanted})):
            for row in self.conn.execute(
                select(t.group_memberships).where(g.identifier_value.in_(part))
            ).mappings():
                if (row["identifier_type"], row["identifier_value"]) in wanted:
                    out.append(dict(row))
        return sorted(out, key=lambda r: (r["source"], r["group_id"]))

    def current_raw(self, source: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The raw payload of the current version of each record (identify merges traits)."""
        r, rv = t.records.c, t.record_versions.c
        out: dict[str, dict[str, Any]] = {}
        for part in _chunks(list(keys)):
            for key, raw in self.conn.execute(
                select(r.source_key, rv.raw)
                .join(t.record_versions, and_(rv.record_id == r.id, rv.version == r.version))
                .where(r.source == source, r.source_key.in_(part))
            ):
                out[key] = raw
        return out

    def known_event_keys(self, source: str, keys: Sequence[str]) -> set[str]:
        """The keys among `keys` already stored as events of `source`."""
        e = t.events.c
        out: set[str] = set()
        for part in _chunks(list(keys), 5000):
            if self.dialect == "postgresql":
                rows = self._pg_rows(sql.KNOWN_EVENT_KEYS_PG, {"source": source,
                                                               "keys": list(part)})
            else:
                rows = self.conn.execute(
                    select(e.event_key).where(e.source == source, e.event_key.in_(part))
                ).all()
            out.update(k for (k,) in rows)
        return out

    def append_events(
        self, rows: Sequence[dict[str, Any]], idents: Sequence[Sequence[tuple[str, str]]]
    ) -> None:
        """`insert_events` for the real-time path: ids reserved up front, then plain bulk
        appends (COPY on PostgreSQL) instead of an INSERT … RETURNING per row."""
        if not rows:
            return
        if self.dialect == "postgresql":
            from sqlalchemy import text

            ids = list(self.conn.execute(
                text("SELECT nextval(pg_get_serial_sequence('events', 'id')) "
                     "FROM generate_series(1, :n)"), {"n": len(rows)}
            ).scalars())
        else:  # the writer holds the database lock (BEGIN IMMEDIATE): max(id) is stable
            top = self.conn.execute(select(func.max(t.events.c.id))).scalar_one() or 0
            ids = list(range(top + 1, top + 1 + len(rows)))
        columns = ("id", "source", "event_key", "name", "occurred_at", "received_at",
                   "identifiers", "properties")
        self._bulk(t.events, columns, [
            (eid, *(row[c] for c in columns[1:])) for eid, row in zip(ids, rows, strict=True)
        ])
        self._bulk(t.event_identifiers, ("event_id", "type", "value"),
                   [(eid, typ, val) for eid, pairs in zip(ids, idents, strict=True)
                    for typ, val in pairs])

    def inbox_has_pending(self) -> bool:
        c = t.inbox.c
        return (
            self.conn.execute(select(c.id).where(c.status == "pending").limit(1)).first()
            is not None
        )

    def inbox_fail_messages(self, failed: Sequence[tuple[str, str, str]], at: datetime) -> None:
        """Mark logged messages `(source, message_id, reason)` failed."""
        c = t.inbox.c
        for source, message_id, reason in failed:
            self.conn.execute(
                update(t.inbox)
                .where(c.source == source, c.message_id == message_id)
                .values(status="failed", error=reason[:500], applied_at=at)
            )
