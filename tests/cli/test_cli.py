"""The `ucp` command: each command's behaviour, exit codes and help."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import orjson
import pytest
from tests.conftest import ROOT, SAMPLE
from typer.main import get_command
from typer.testing import CliRunner

from ucp.cli.main import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    for name in ("ucp.yaml", "crm.csv", "shop.jsonl", "orders.jsonl"):
        shutil.copy(SAMPLE / name, tmp_path / name)
    return tmp_path


def common(workdir: Path, db_url: str) -> list[str]:
    return ["--db", db_url, "--config", str(workdir / "ucp.yaml")]


def test_init_writes_a_valid_starter_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "ucp.yaml"
    code, out, _ = run("init", str(target))
    assert code == 0 and target.exists()
    code, _, err = run("init", str(target))
    assert code == 2 and "exists" in err
    code, out, _ = run("--config", str(target), "--db", f"sqlite:///{tmp_path}/x.db", "stats")
    assert code == 0 and '"records": 0' in out


def test_ingest_prints_a_summary_and_profile_show_finds_ann(workdir: Path, db_url: str) -> None:
    opts = common(workdir, db_url)
    code, out, _ = run(*opts, "ingest", str(workdir / "crm.csv"), "--source", "crm", "--json")
    assert code == 0 and '"inserted": 5' in out
    run(*opts, "ingest", str(workdir / "shop.jsonl"), "--source", "shop")
    code, out, _ = run(*opts, "profile", "show", "email:ann.lee@acmemail.com")
    assert code == 0
    assert out.count('"source_key"') == 3


def test_ingest_with_rejects_exits_1_and_names_the_file(workdir: Path, db_url: str) -> None:
    bad = workdir / "bad.csv"
    bad.write_text("ContactId,Email\nC1,a@acmemail.com\n,b@acmemail.com\n")
    code, _, err = run(*common(workdir, db_url), "ingest", str(bad), "--source", "crm")
    assert code == 1
    assert "1 rows rejected" in err and "bad.csv.rejects.csv" in err.replace("\n", "")
    assert (workdir / "bad.csv.rejects.csv").exists()


def test_unknown_source_and_bad_config_exit_2(workdir: Path, db_url: str) -> None:
    code, _, err = run(
        *common(workdir, db_url), "ingest", str(workdir / "crm.csv"), "--source", "nope"
    )
    assert code == 2 and "unknown source 'nope'" in err
    (workdir / "ucp.yaml").write_text(
        "sources:\n  crm:\n    source_key: id\n    mapping: {emial: e}\n"
    )
    code, _, err = run(
        *common(workdir, db_url), "ingest", str(workdir / "crm.csv"), "--source", "crm"
    )
    assert code == 2 and "sources.crm.mapping.emial: unknown canonical attribute" in err


def test_keys_create_list_revoke(workdir: Path, db_url: str) -> None:
    opts = common(workdir, db_url)
    code, out, err = run(*opts, "keys", "create", "--role", "analyst", "--name", "t")
    assert code == 0 and out.strip().startswith("ucp_")
    key_id = re.search(r"created key (k_\w+)", err).group(1)  # type: ignore[union-attr]
    code, out, _ = run(*opts, "keys", "list")
    assert key_id in out and "ucp_" not in out
    assert run(*opts, "keys", "revoke", key_id)[0] == 0
    assert run(*opts, "keys", "revoke", key_id)[0] == 1
    code, _, err = run(*opts, "keys", "create", "--role", "root")
    assert code == 2 and "unknown role 'root'" in err


def test_resolve_and_audit_verify(workdir: Path, db_url: str) -> None:
    opts = common(workdir, db_url)
    run(*opts, "ingest", str(workdir / "crm.csv"), "--source", "crm")
    run(*opts, "keys", "create", "--role", "admin")
    code, out, _ = run(*opts, "resolve")  # ingest resolved them (too few to train on)
    assert code == 0 and "nothing to resolve" in out
    code, out, _ = run(*opts, "resolve", "--full")
    assert code == 0 and "resolved 5 records (one batch over the store) into 4 profiles" in out
    code, out, _ = run(*opts, "audit", "verify")
    assert code == 0 and "intact: 2 entries" in out  # the ingest and the key


def _commands(group, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for name, cmd in getattr(group, "commands", {}).items():
        found.append((f"{prefix}{name}", cmd))
        found.extend(_commands(cmd, f"{prefix}{name} "))
    return found


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, cmd in _commands(get_command(app)):
        assert (cmd.help or "").strip(), f"`ucp {name}` has no help text"
        top = name.split()[0]
        assert f"`{top}" in readme or f"ucp {top}" in readme, f"`ucp {top}` missing from README"


def test_evaluate_reports_blocking_per_rule(workdir: Path, db_url: str) -> None:
    opts = common(workdir, db_url)
    run(*opts, "ingest", str(workdir / "crm.csv"), "--source", "crm")
    truth = workdir / "truth.csv"
    truth.write_text("source,source_key,person_id\n" + "".join(
        f"crm,{key},{person}\n" for key, person in
        (("003A1", "P1"), ("003A5", "P1"), ("003A2", "P2"), ("003A3", "P3"),
         ("003A4", "P4"))))
    code, out, _ = run(*opts, "evaluate", "--truth", str(truth), "--blocking", "--json")
    assert code == 0
    blocking = orjson.loads(out)["blocking"]
    # Ann Lee twice: one true pair, which the email rule (one mailbox) finds
    assert blocking["true_pairs_total"] == blocking["true_pairs_found"] == 1
    assert {r["rule"]: r["true_pairs"] for r in blocking["rules"]}["email"] == 1
    code, _, err = run(*opts, "evaluate", "--truth", str(truth), "--blocking",
                       "--clusters", str(truth))
    assert code == 2 and "--blocking reports on the store's records" in err


def test_profile_why_prints_the_links_that_hold_a_record(workdir: Path, db_url: str) -> None:
    opts = common(workdir, db_url)
    run(*opts, "ingest", str(workdir / "crm.csv"), "--source", "crm")
    code, out, _ = run(*opts, "profile", "why", "email:ann.lee@acmemail.com", "crm:003A1",
                       "--json")
    assert code == 0
    why = orjson.loads(out)
    assert why["record"] == "crm:003A1" and why["reaches_all_records"]
    assert [(link["from"], link["to"]) for link in why["links"]] == [("crm:003A1", "crm:003A5")]
    code, out, _ = run(*opts, "profile", "why", "email:ann.lee@acmemail.com", "crm:003A1")
    assert code == 0 and "crm:003A5" in out
    code, _, err = run(*opts, "profile", "why", "email:ann.lee@acmemail.com", "crm:003A2")
    assert code != 0 and "is not in profile" in err
