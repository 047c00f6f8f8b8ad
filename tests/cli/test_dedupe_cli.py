"""`ucp dedupe`: batch and record by record (`--incremental`) write the same clusters."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from ucp.cli.main import app

runner = CliRunner()
PEOPLE = [
    ("1", "Robert", "Smith", "1980-01-02", "rs@mail.com", "Leeds"),
    ("2", "Bob", "Smith", "1980-01-02", "rs@mail.com", "Leeds"),
    ("3", "Alice", "Jones", "1975-05-05", "aj@mail.com", "York"),
    ("4", "Alice", "Jones", "1975-05-05", "", "York"),
    ("5", "Robert", "Smith", "1950-03-03", "", "Hull"),
    ("6", "Zoe", "Quinn", "1990-09-09", "zq@mail.com", "Leeds"),
]


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "fname", "surname", "date_of_birth", "email", "suburb"])
        for copy in range(40):  # enough rows to train on
            for row in PEOPLE:
                writer.writerow([f"{copy}-{row[0]}", *row[1:]])
    return path


def test_incremental_writes_the_batch_clusters(tmp_path: Path) -> None:
    people = _file(tmp_path)
    batch, incremental = tmp_path / "batch.csv", tmp_path / "incremental.csv"
    done = runner.invoke(app, ["dedupe", str(people), "--id-col", "id", "--out", str(batch)])
    assert done.exit_code == 0, done.stderr
    done = runner.invoke(app, ["dedupe", str(people), "--id-col", "id", "--out",
                               str(incremental), "--incremental", "--order-seed", "5"])
    assert done.exit_code == 0, done.stderr
    assert "the same clusters as the batch dedupe" in done.stderr
    assert "per record: median" in done.stderr
    assert incremental.read_text() == batch.read_text()


def test_bad_options_exit_2(tmp_path: Path) -> None:
    people = _file(tmp_path)
    done = runner.invoke(app, ["dedupe", str(people), "--id-col", "nope", "--incremental"])
    assert done.exit_code == 2 and "no id column 'nope'" in done.stderr
    done = runner.invoke(app, ["dedupe", str(people), "--id-col", "id", "--date-order", "XYZ"])
    assert done.exit_code == 2 and "--date-order" in done.stderr
