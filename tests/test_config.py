"""ucp.yaml validation: errors name the key path (and line) at fault."""

from __future__ import annotations

import pytest

from ucp.cli.starter import STARTER_CONFIG
from ucp.config import parse_config
from ucp.errors import ConfigError

BASE = """\
version: 1
sources:
  crm:
    source_key: ContactId
    mapping:
      emial: Email
"""


def test_unknown_canonical_attribute_names_the_key_path_and_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(BASE)
    assert info.value.errors == [
        "sources.crm.mapping.emial: unknown canonical attribute 'emial' (line 6)"
    ]


def test_unknown_key_is_reported_with_its_path() -> None:
    text = "version: 1\nsources:\n  crm:\n    source_key: id\n    trust: 3\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert info.value.errors == ["sources.crm.trust: unknown key 'trust' (line 5)"]


def test_identifier_type_without_a_rule_is_rejected() -> None:
    text = "sources:\n  crm:\n    source_key: id\n    identifiers: {loyalty: card}\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert info.value.errors[0].startswith(
        "sources.crm.identifiers.loyalty: identifier type 'loyalty' has no rule"
    )


def test_bad_country_and_yaml_syntax() -> None:
    with pytest.raises(ConfigError, match=r"sources.crm.default_country: .*alpha-2"):
        parse_config("sources:\n  crm: {source_key: id, default_country: Britain}\n")
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+"):
        parse_config("sources:\n  crm: [unclosed\n")


def test_events_source_needs_event_section() -> None:
    with pytest.raises(ConfigError, match="sources.crm: an events source needs"):
        parse_config("sources:\n  crm: {kind: events, source_key: id}\n")


def test_starter_config_is_valid() -> None:
    config = parse_config(STARTER_CONFIG)
    assert config.sources["crm"].identifiers["email"] == "Email"
    assert config.identifiers["email"].max_per_profile == 5


def test_unknown_source_lists_the_known_ones(sample_config) -> None:
    with pytest.raises(
        ConfigError, match=r"unknown source 'nope' \(configured: crm, orders, shop\)"
    ):
        sample_config.source("nope")


RESOLUTION = """\
version: 1
resolution:
  comparisons:
    - {name: given_name, kind: given_name, feature: given, tf: true}
    - {name: birth_date, kind: date, feature: dob, options: {years: 3}}
    - {name: email, kind: email, feature: email}
  blocking:
    - {name: names, features: [name_pair]}
    - {name: email, features: [email]}
  exact_columns: [custom.passport]
  text_columns: [company]
"""


def test_comparisons_and_blocking_rules_come_from_the_config() -> None:
    from ucp.services.resolution import resolution_settings

    settings = resolution_settings(parse_config(RESOLUTION))
    assert [c.name for c in settings.all_comparisons()] == [
        "given_name", "birth_date", "email", "custom.passport", "company"]
    assert settings.comparisons[1].options == {"years": 3.0}
    assert [r.name for r in settings.all_blocking()] == ["names", "email", "custom.passport"]
    assert settings.all_blocking()[2].features == ("x:custom.passport",)
    defaults = resolution_settings(parse_config("version: 1\n"))
    assert len(defaults.comparisons) == 10 and len(defaults.blocking) == 18


@pytest.mark.parametrize("change, error", [
    ("kind: date, feature: dob}", None),
    ("kind: fuzzy, feature: dob}", "resolution.comparisons.1.kind: "),
    ("kind: date, feature: birthday}", "resolution.comparisons.1.feature: unknown feature "
                                       "'birthday'"),
    ("kind: date, feature: dob}\n    - {name: email, kind: email, feature: email}",
     "resolution.comparisons.3.name: 'email' appears twice"),
])
def test_bad_comparisons_are_named_by_key_path(change: str, error: str | None) -> None:
    _check(RESOLUTION.replace("kind: date, feature: dob, options: {years: 3}}", change), error)


def _check(text: str, error: str | None) -> None:
    """`text` parses (no `error`), or fails with an error starting with `error`."""
    if error is None:
        parse_config(text)
        return
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert any(e.startswith(error) for e in info.value.errors), info.value.errors


@pytest.mark.parametrize("change, error", [
    ("exact_columns: [email]", "resolution.exact_columns.0: 'email' is compared by the "
                               "comparisons already"),
    ("exact_columns: [passport]", "resolution.exact_columns.0: unknown attribute 'passport'"),
    ("exact_columns: [custom.passport, names]", "resolution.exact_columns.1: unknown attribute"),
    ("blocking: []\n  exact_columns: [custom.a]", None),
    ("comparisons: []", "resolution.comparisons: give at least one comparison"),
])
def test_bad_extra_columns_are_named_by_key_path(change: str, error: str | None) -> None:
    _check(RESOLUTION.replace("exact_columns: [custom.passport]", change), error)


def test_comparison_kinds_in_the_config_are_the_engines() -> None:
    from typing import get_args

    from ucp.config import ComparisonKind
    from ucp.domain.resolution.comparisons import KINDS

    assert set(get_args(ComparisonKind)) == set(KINDS)
