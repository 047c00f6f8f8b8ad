"""One writer at a time on a SQLite file, handed over promptly between threads and processes.

SQLite lets one transaction write at a time and makes the others *poll* for the lock (its busy
handler sleeps 1, 2, 5 … 100 ms between tries). When one process writes in a tight loop — the
embedded worker draining the inbox — a writer of another process polling on that schedule
rarely finds the lock free and waits far longer than any transaction lasts. ucp therefore
queues its own write transactions on a SQLite file behind a lock the operating system hands
over at once: a thread lock within a process, and `flock` on a sidecar file (`<db>.ucp-lock`)
across processes. A blocked writer sleeps in the kernel and is woken when the holder commits.

Writers outside ucp (the sqlite3 shell) still meet SQLite's own busy timeout. Where `fcntl` is
missing (Windows), only the threads of one process are queued.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]


class WriteLock:
    """Re-entrant within a thread, and one per database file per process (`for_url`): a
    thread that writes through two `Store`s of one file while holding the first meets
    SQLite's own busy timeout and an error, never a wait on itself."""

    def __init__(self, database_path: str) -> None:
        self.database = database_path
        self.path = f"{database_path}.ucp-lock"
        self._threads = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._pid = os.getpid()
        self._users = 0

    def _file(self) -> int | None:
        if fcntl is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # a forked child opens its own
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._threads:
            self._depth += 1
            fd = self._file() if self._depth == 1 else None
            try:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    if fd is not None:
                        fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                self._depth -= 1

    def close(self) -> None:
        """One user fewer; the last one closes the file (a later write opens it again)."""
        with _SHARED_GUARD:
            self._users -= 1
            if self._users > 0:
                return
            if _SHARED.get(self.database) is self:
                del _SHARED[self.database]
        with self._threads:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None


_SHARED: dict[str, WriteLock] = {}
_SHARED_GUARD = threading.Lock()


def for_url(database: str | None, backend: str) -> WriteLock | None:
    """The lock of a SQLite file database, shared by this process's stores of that file (call
    `close` once per call); None for PostgreSQL and in-memory SQLite."""
    if backend != "sqlite" or database in (None, "", ":memory:"):
        return None
    assert database is not None
    path = os.path.abspath(database)
    with _SHARED_GUARD:
        lock = _SHARED.get(path)
        if lock is None or lock._pid != os.getpid():
            lock = _SHARED[path] = WriteLock(path)
        lock._users += 1
        return lock
