"""ucp's writers on one SQLite file take turns: a process writing in a tight loop (the embedded
worker) does not starve a writer of another process (the collector), as SQLite's polling busy
handler lets it."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from sqlalchemy import text

from ucp.store.store import Store
from ucp.store.write_lock import WriteLock, for_url


def _hog(url: str, seconds: float, started: object, stop: object) -> None:
    """Write transactions back to back, each holding the lock a few milliseconds, until
    `stop` is set or `seconds` pass."""
    store = Store.open(url, upgrade=False)
    deadline = time.monotonic() + seconds
    first = True
    while time.monotonic() < deadline and not stop.is_set():  # type: ignore[attr-defined]
        with store.write() as tx:
            tx.conn.execute(text("INSERT INTO hog (at) VALUES (:t)"), {"t": time.time()})
            time.sleep(0.005)
        if first:
            started.set()  # type: ignore[attr-defined]
            first = False
    store.close()


def test_a_writer_of_another_process_gets_its_turn_quickly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lock.db'}"
    store = Store.open(url)
    with store.write() as tx:
        tx.conn.execute(text("CREATE TABLE hog (at REAL)"))
    ctx = multiprocessing.get_context("spawn")
    started, stop = ctx.Event(), ctx.Event()
    hog = ctx.Process(target=_hog, args=(url, 6.0, started, stop))
    hog.start()
    try:
        assert started.wait(30)
        waits = []
        for _ in range(40):
            t0 = time.monotonic()
            with store.write() as tx:
                waits.append(time.monotonic() - t0)
                tx.conn.execute(text("INSERT INTO hog (at) VALUES (-1)"))
            time.sleep(0.01)
        assert hog.is_alive(), "the other writer stopped before the measurement ended"
    finally:
        stop.set()
        hog.join(30)
        store.close()
    waits.sort()
    # each turn comes after at most a few of the other's 5 ms transactions (generous bounds:
    # the machine may be busy); SQLite's busy handler alone gives waits of seconds here
    assert waits[len(waits) // 2] < 0.1, waits
    assert waits[-1] < 1.0, waits


def test_lock_is_reentrant_within_a_thread_and_only_for_sqlite_files(tmp_path: Path) -> None:
    lock = for_url(str(tmp_path / "x.db"), "sqlite")
    assert isinstance(lock, WriteLock)
    with lock.hold(), lock.hold():
        pass
    lock.close()
    assert Path(f"{tmp_path / 'x.db'}.ucp-lock").exists()
    assert for_url(None, "sqlite") is None and for_url(":memory:", "sqlite") is None
    assert for_url("ucp", "postgresql") is None


def test_two_stores_of_one_file_share_the_lock(tmp_path: Path) -> None:
    """So a thread writing through both at once meets SQLite's busy timeout, not a wait on
    its own flock; the file is closed with the last store."""
    url = f"sqlite:///{tmp_path / 'two.db'}"
    a, b = Store.open(url), Store.open(url)
    try:
        assert a._write_lock is b._write_lock is not None
        with a._write_lock.hold(), b._write_lock.hold():
            pass
    finally:
        a.close()
        a.close()  # twice: still counted once
        assert b._write_lock is not None and b._write_lock._fd is not None
        b.close()
        assert b._write_lock._fd is None
    c = Store.open(url)  # a new lock for a new user
    assert c._write_lock is not a._write_lock
    with c.write() as tx:
        tx.ping()
    c.close()
