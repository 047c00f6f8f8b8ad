"""The embedded worker as a child process of the server (`WorkerProcess`): it applies what the
collector logs, stops when asked, and never outlives a server killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.realtime_support import realtime_config

from ucp.services.collect import InboxLog
from ucp.services.worker import WorkerProcess
from ucp.store.store import Store


def _orders(n: int, prefix: str) -> list[dict[str, object]]:
    when = datetime(2026, 11, 30, 12, tzinfo=UTC).isoformat()
    return [{"type": "track", "userId": f"user-{i % 3}", "event": "Order Completed",
             "messageId": f"{prefix}-{i}", "receivedAt": when, "timestamp": when,
             "properties": {"revenue": 10}} for i in range(n)]


def _wait(check, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _gone(pid: int) -> bool:
    """Exited (a zombie waiting for its reaper counts as exited)."""
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in state


def test_child_process_applies_logged_messages_and_stops(store: Store) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    worker = WorkerProcess(url, realtime_config(), batch_size=50, poll_interval=0.05)
    worker.start()
    try:
        log = InboxLog(store, worker.notify)
        log.append("web", _orders(120, "a"))

        def applied() -> bool:
            with store.read() as tx:
                return tx.inbox_counts().get("applied", 0) == 120

        assert _wait(applied, 60)
        with store.read() as tx:
            counts = sorted(t["order_count"] for t in tx.all_traits().values())
        assert counts == [40, 40, 40]
    finally:
        worker.stop()
    assert not worker.alive()
    worker.notify()  # after stop: a no-op, not an error


def test_a_dead_child_is_started_again_and_nothing_logged_is_lost(store: Store) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    worker = WorkerProcess(url, realtime_config(), batch_size=50)
    worker.RESTART_EVERY = 0.0  # type: ignore[misc]
    worker.start()
    try:
        first = worker._proc.pid
        os.kill(first, signal.SIGKILL)
        assert _wait(lambda: not worker.alive(), 10)
        log = InboxLog(store, worker.notify)
        log.append("web", _orders(30, "b"))  # its notify finds the child dead: restart

        def applied() -> bool:
            with store.read() as tx:
                return tx.inbox_counts().get("applied", 0) == 30

        assert worker.restarts == 1 and worker._proc.pid != first
        assert _wait(applied, 60)
    finally:
        worker.stop()


def test_child_exits_when_the_server_process_is_killed(tmp_path: Path) -> None:
    """SIGKILL of the parent closes the pipe; the child notices and exits by itself."""
    db = tmp_path / "w.db"
    Store.open(f"sqlite:///{db}").close()
    script = textwrap.dedent(f"""
        import sys, time
        from tests.realtime_support import realtime_config
        from ucp.services.worker import WorkerProcess
        if __name__ == "__main__":
            w = WorkerProcess("sqlite:///{db}", realtime_config())
            w.start()
            print(w._proc.pid, flush=True)
            time.sleep(120)
    """)
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    try:
        assert server.stdout is not None
        child = int(server.stdout.readline())
        assert not _gone(child)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(10)
        assert _wait(lambda: _gone(child), 10), "the worker outlived its server"
    finally:
        if server.poll() is None:
            server.kill()
