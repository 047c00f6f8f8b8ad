"""`ucp generate` on a local Typer app, and rates files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ucp.cli.generate import register
from ucp.errors import ConfigError
from ucp.synth import Rates


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """ucp"""

    return app


def test_generate_command_writes_the_data_set(tmp_path: Path) -> None:
    rates = tmp_path / "rates.json"
    rates.write_text(json.dumps({"typo": 0.5}))
    out = tmp_path / "out"
    result = CliRunner().invoke(_app(), ["generate", "--persons", "40", "--seed", "9", "--out",
                                         str(out), "--rates", str(rates), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "crm" in result.output
    for name in ("crm.csv", "truth.csv", "ucp.yaml", "rates.json", "web_events.jsonl"):
        assert (out / name).exists()
    assert json.loads((out / "rates.json").read_text())["typo"] == 0.5


def test_generate_command_is_documented() -> None:
    result = CliRunner().invoke(_app(), ["generate", "--help"])
    assert result.exit_code == 0
    for option in ("--persons", "--seed", "--out", "--locales", "--rates"):
        assert option in result.output


def test_unknown_locale_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["generate", "-n", "5", "--out", str(tmp_path),
                                         "--locales", "en_US,xx_XX"])
    assert result.exit_code == 2
    assert "xx_XX" in result.output


def test_rates_reject_unknown_names_and_bad_values(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="typoo"):
        Rates.from_dict({"typoo": 0.1})
    with pytest.raises(ConfigError, match="rates.typo"):
        Rates.from_dict({"typo": 1.5})
    bad = tmp_path / "r.json"
    bad.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        Rates.load(bad)
    assert Rates.from_dict({}) == Rates()
