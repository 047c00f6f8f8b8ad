"""Standardizing distinct values in worker processes: same features, light workers."""

from __future__ import annotations

import subprocess
import sys

from ucp.domain.standardize import Context
from ucp.services.standardizing import standardize_distinct


def test_standardizing_in_worker_processes_gives_the_same_features() -> None:
    """Enough distinct values to use worker processes: the features must not change."""
    names = [f"Anna{chr(97 + i % 26)}{i}" for i in range(2500)]
    phones = [f"+44 20 7946 {i:04d}" for i in range(2500)]
    jobs = [("given_name", names + ["", names[0]]), ("phone", phones)]
    one = standardize_distinct(jobs, Context(country="GB"), workers=1)
    two = standardize_distinct(jobs, Context(country="GB"), workers=2)
    assert one == two
    assert len(one["given_name"]) == 2500 and len(one["phone"]) == 2500
    assert one["phone"][phones[0]]["phone"].startswith("+44")


def test_the_workers_module_loads_no_numpy_and_no_resolution_engine() -> None:
    """The forkserver imports it before forking workers: kept light, they start sooner."""
    code = ("import sys, ucp.services.standardizing; "
            "print(sorted(m for m in ('numpy', 'ucp.domain.resolution') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
