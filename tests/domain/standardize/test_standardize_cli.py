"""The `ucp standardize` command."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from ucp.cli.standardize import register


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command()
    def other() -> None:  # a second command keeps `standardize` a named sub-command
        """Unrelated."""

    return app


def test_prints_one_json_object() -> None:
    """The command prints kind, input, value, match, parts and flags as JSON."""
    result = CliRunner().invoke(
        _app(), ["standardize", "phone", "020 7946 0958", "--country", "GB"]
    )
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert list(payload) == ["kind", "input", "value", "match", "parts", "flags"]
    assert (payload["match"], payload["flags"]) == ("+442079460958", [])


def test_day_first_and_month_first() -> None:
    """--day-first and --month-first decide an ambiguous date."""
    runner, app = CliRunner(), _app()
    day = json.loads(
        runner.invoke(app, ["standardize", "date", "07/03/1985", "--day-first"]).stdout
    )
    month = json.loads(
        runner.invoke(app, ["standardize", "date", "07/03/1985", "--month-first"]).stdout
    )
    assert (day["value"], month["value"]) == ("1985-03-07", "1985-07-03")


def test_unknown_kind_exits_2_listing_kinds() -> None:
    """An unknown kind is a usage error that lists the valid kinds."""
    result = CliRunner().invoke(_app(), ["standardize", "shoe", "42"])
    assert result.exit_code == 2
    assert "Kinds are: address" in result.output


def test_help_documents_the_command() -> None:
    """--help explains the kinds and the options."""
    result = CliRunner().invoke(_app(), ["standardize", "--help"])
    assert result.exit_code == 0
    assert all(word in result.output for word in ("KIND", "--country", "--day-first"))
