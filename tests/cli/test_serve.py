"""`ucp serve` as a real process: a key made by the CLI answers a lookup over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import SAMPLE

UCP = [sys.executable, "-m", "ucp.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_served_api_answers_a_lookup_with_a_cli_key(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "UCP_DATABASE_URL": f"sqlite:///{tmp_path}/ucp.db",
        "UCP_CONFIG_PATH": str(SAMPLE / "ucp.yaml"),
    }
    subprocess.run(
        [*UCP, "ingest", str(SAMPLE / "crm.csv"), "--source", "crm"],
        env=env,
        check=True,
        capture_output=True,
    )
    key = subprocess.run(
        [*UCP, "keys", "create", "--role", "support"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = _free_port()
    server = subprocess.Popen(
        [*UCP, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/v1/profiles?identifier=phone:%2B14155550100"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    body = json.loads(response.read())
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert len(body["data"]) == 1 and body["data"][0]["record_count"] == 2
    finally:
        server.terminate()
        server.wait(timeout=15)
