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
