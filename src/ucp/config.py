"""`ucp.yaml`: what the sources are, how they map, and the rules identity resolution obeys.

The file is parsed with PyYAML and validated by pydantic; every problem is reported as
`key.path: message (line N)` so a user can find the line at fault.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ucp.domain.attributes import CANONICAL_ATTRIBUTES
from ucp.errors import ConfigError

DateOrder = Literal["DMY", "MDY", "YMD"]
FileFormat = Literal["csv", "jsonl", "parquet"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventMapping(_Strict):
    """How a row of an event source becomes an event."""

    name: str | None = Field(None, description="constant event name, e.g. 'Order Completed'")
    name_path: str | None = Field(None, description="path of the event name, e.g. 'event'")
    timestamp: str = Field(..., description="path of the event time")
    properties: list[str] | Literal["*"] = Field(
        "*", description="paths kept as properties; '*' keeps the whole row"
    )

    @model_validator(mode="after")
    def _one_name(self) -> EventMapping:
        if (self.name is None) == (self.name_path is None):
            raise ValueError("give exactly one of 'name' or 'name_path'")
        return self


class SourceConsent(_Strict):
    """How the rows of a source carry consent (a newsletter list, a preference centre export).

    Example: `{purpose: email_marketing, channel: email, status: status, time: consent_at,
    subject: email, status_values: {subscribed: granted, unsubscribed: withdrawn}}`.
    """

    purpose: str = Field(..., description="the purpose (under consent.purposes) the rows decide")
    channel: str | None = Field(None, description="constant channel, e.g. 'email'")
    status: str = Field(..., description="column or dotted JSON path of the status")
    status_values: dict[str, Literal["granted", "denied", "withdrawn"]] = Field(
        default_factory=dict, description="source value -> status (common words are known)"
    )
    time: str | None = Field(None, description="column or path of when it was given")
    subject: str = Field(..., description="identifier type (of this source) the consent is on")
    evidence: list[str] = Field(default_factory=list, description="paths kept as evidence")


class SourceConfig(_Strict):
    """One system that sends data (design.md §2: source)."""

    kind: Literal["records", "events", "segment"] = Field(
        "records",
        description="records: one row per person view; events: one row per event; "
        "segment: Segment-spec messages (identify -> record, track/page/screen -> event)",
    )
    trust_rank: int = Field(100, ge=1, description="1 is the most trusted source")
    default_country: str | None = Field(None, description="ISO 3166 alpha-2, e.g. 'GB'")
    date_order: DateOrder = "YMD"
    format: FileFormat | None = None
    source_key: str = Field(
        "messageId", description="column or dotted JSON path of the record (or event) key"
    )
    mapping: dict[str, str] = Field(default_factory=dict)
    identifiers: dict[str, str] = Field(default_factory=dict)
    unique_per_person: bool = Field(
        False, description="two different keys of this source are never the same person"
    )
    event: EventMapping | None = None
    write_key: str | None = Field(None, description="collector write key that selects this source")
    consent: SourceConsent | None = Field(None, description="consent the rows carry (issue 8)")

    @field_validator("default_country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if len(v) != 2 or not v.isalpha():
            raise ValueError(f"expected an ISO 3166 alpha-2 code such as 'GB', got {v!r}")
        return v.upper()

    @field_validator("mapping")
    @classmethod
    def _canonical(cls, v: dict[str, str]) -> dict[str, str]:
        for attribute in v:
            if attribute not in CANONICAL_ATTRIBUTES and not attribute.startswith("custom."):
                raise _KeyedError(attribute, f"unknown canonical attribute {attribute!r}")
        return v

    @model_validator(mode="after")
    def _events_need_mapping(self) -> SourceConfig:
        if self.kind == "events" and self.event is None:
            raise ValueError("an events source needs an 'event' section")
        return self

    @model_validator(mode="after")
    def _consent_subject(self) -> SourceConfig:
        if self.consent is not None and self.consent.subject not in self.identifiers:
            raise _KeyedError(
                "consent.subject",
                f"{self.consent.subject!r} is not one of this source's identifiers",
            )
        return self


class IdentifierRule(_Strict):
    """Rules for one identifier type (design.md §3, deterministic layer)."""

    max_per_profile: int | None = Field(None, ge=1)
    priority: int = Field(100, ge=1, description="lower wins when a limit forces a choice")
    blocked: list[str] = Field(default_factory=list)
    links: bool = Field(True, description="whether a shared value links records")


class ConsentPurpose(_Strict):
    default: Literal["granted", "denied"] = "denied"
    legal_basis: Literal[
        "consent",
        "contract",
        "legal_obligation",
        "vital_interests",
        "public_task",
        "legitimate_interests",
    ] = "consent"
    channels: list[str] = Field(default_factory=list)


class ConsentConfig(_Strict):
    purposes: dict[str, ConsentPurpose] = Field(default_factory=dict)


class RetentionConfig(_Strict):
    """How long data is kept: per source (its records and events) and per event name."""

    sources: dict[str, str] = Field(default_factory=dict, description="source -> '90d', '2y' …")
    events: dict[str, str] = Field(
        default_factory=dict, description="event name -> period (overrides its source's)"
    )

    @field_validator("sources", "events")
    @classmethod
    def _periods(cls, v: dict[str, str]) -> dict[str, str]:
        from ucp.domain.retention import PeriodError, parse_period

        for name, period in v.items():
            try:
                parse_period(period)
            except PeriodError as exc:
                raise _KeyedError(name, str(exc)) from None
        return v


def _default_identifier_rules() -> dict[str, IdentifierRule]:
    return {
        "email": IdentifierRule(
            max_per_profile=5,
            priority=10,
            blocked=["test@test.com", "noemail@example.com", "none@none.com", "n/a"],
        ),
        "phone": IdentifierRule(
            max_per_profile=5,
            priority=20,
            blocked=["0000000000", "1234567890", "9999999999", "n/a"],
        ),
    }


SurvivorshipRule = Literal[
    "valid_only", "source_priority", "most_recent", "most_frequent", "most_complete"
]


class SurvivorshipConfig(_Strict):
    """Ordered survivorship rules per canonical attribute (`*` for the rest)."""

    rules: dict[str, list[SurvivorshipRule]] = Field(default_factory=dict)

    @field_validator("rules")
    @classmethod
    def _attributes(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for attribute, rules in v.items():
            if attribute != "*" and attribute not in CANONICAL_ATTRIBUTES:
                raise _KeyedError(attribute, f"unknown canonical attribute {attribute!r}")
            if not rules:
                raise _KeyedError(attribute, "give at least one rule")
        return v


class TraitConfig(_Strict):
    """One computed trait: an aggregate over events, or a value derived from other traits."""

    aggregate: Literal[
        "count", "sum", "avg", "min", "max", "first", "last", "most_frequent", "exists"
    ] | None = Field(None, description="how the matching events are summarised")
    of: str | None = Field(
        None, description="event field: event, source, timestamp, received_at or a properties path"
    )
    where: dict[str, Any] = Field(default_factory=dict, description="field: value filters")
    window: str | None = Field(None, description="only events of the last '30d', '12h', '15m'")
    derive: str | None = Field(None, description="expression over traits declared above")

    @model_validator(mode="after")
    def _shape(self) -> TraitConfig:
        from ucp.domain import traits as dt

        if (self.aggregate is None) == (self.derive is None):
            raise ValueError("give exactly one of 'aggregate' or 'derive'")
        if self.derive is not None:
            if self.of or self.where or self.window:
                raise ValueError("a derived trait takes no 'of', 'where' or 'window'")
            try:
                dt.parse_expression("derive", self.derive)
            except dt.TraitDefinitionError as exc:
                raise _KeyedError("derive", str(exc)) from None
            return self
        if self.aggregate in dt.NEEDS_FIELD and not self.of:
            raise _KeyedError("of", f"{self.aggregate!r} needs the event field it summarises")
        try:
            dt.parse_where(self.where)
        except dt.TraitDefinitionError as exc:
            raise _KeyedError("where", str(exc)) from None
        if self.window is not None:
            try:
                dt.parse_window(self.window)
            except dt.TraitDefinitionError as exc:
                raise _KeyedError("window", str(exc)) from None
        return self


class CollectorConfig(_Strict):
    """The real-time collector and its workers (docs/realtime.md)."""

    bus: str | None = Field(
        None, description="nats://HOST:PORT to log messages in NATS JetStream; none = inbox table"
    )
    stream: str = Field("UCP_MESSAGES", pattern=r"^[A-Za-z0-9_-]+$")
    subject_prefix: str = Field("ucp.messages", pattern=r"^[A-Za-z0-9_.-]+$")
    embedded_worker: bool = Field(True, description="`ucp serve` drains the inbox itself")
    worker_process: bool = Field(
        True, description="the embedded worker runs in a child process of each server process "
        "(an interpreter and a core of its own); false: a thread of the server process. An "
        "in-memory SQLite store always uses a thread")
    batch_size: int = Field(500, ge=1, le=5000)
    poll_interval: float = Field(0.05, gt=0, le=10)


#: comparison kinds (`ucp.domain.resolution.comparisons.KINDS`)
ComparisonKind = Literal["given_name", "family_name", "date", "email", "phone", "address",
                         "postcode", "text", "exact"]
#: attributes whose table features have names of their own (`features.attribute_features`):
#: the others are `x:<attribute>`, which extra exact or text columns compare
_OWN_FEATURES = frozenset({
    "full_name", "given_name", "middle_name", "family_name", "title", "birth_date", "email",
    "phone", "address", "house_number", "street", "unit", "locality", "region", "postcode",
    "country", "gender", "created_at", "updated_at"})


def _known_feature(feature: str) -> bool:
    from ucp.domain.resolution.table import BASE_FEATURES, DERIVED_FEATURES

    return feature in BASE_FEATURES or feature in DERIVED_FEATURES or (
        feature.startswith("x:") and len(feature) > 2)


class ComparisonConfig(_Strict):
    """One Fellegi–Sunter comparison (docs/resolution.md, "Comparisons and levels")."""

    name: str = Field(min_length=1, description="unique; names the comparison in models and "
                      "explanations")
    kind: ComparisonKind
    feature: str = Field(description="a record-table feature: given, family, dob, email, "
                         "phone, address, postcode, locality, region, gender … or "
                         "x:<attribute> for any other attribute")
    tf: bool = Field(False, description="term-frequency adjustment on the exact level")
    options: dict[str, float] = Field(default_factory=dict,
                                      description="date: years (5); exact: typo (0 or 1)")

    @model_validator(mode="after")
    def _feature(self) -> ComparisonConfig:
        if not _known_feature(self.feature):
            raise _KeyedError("feature", f"unknown feature {self.feature!r}")
        return self


class BlockingRuleConfig(_Strict):
    """Records sharing every one of `features` (all present) become candidate pairs."""

    name: str = Field(min_length=1)
    features: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _features(self) -> BlockingRuleConfig:
        for k, feature in enumerate(self.features):
            if not _known_feature(feature):
                raise _KeyedError(f"features.{k}", f"unknown feature {feature!r}")
        return self


class ResolutionConfig(_Strict):
    """How records become persons (design.md §3)."""

    engine: Literal["probabilistic", "deterministic"] = Field(
        "probabilistic",
        description="probabilistic: Fellegi–Sunter plus identifier links; deterministic: "
        "shared identifiers only",
    )
    auto: float = Field(0.6, gt=0, lt=1, description="link at and above this probability")
    review: float = Field(0.3, gt=0, lt=1, description="review queue from this probability")
    household_safe: bool = Field(
        False,
        description="a different given name plus a different birth date or email keeps two "
        "records apart (households sharing an address, phone or surname)",
    )
    max_block_size: int = Field(500, ge=2, description="skip blocks with more records")
    comparisons: list[ComparisonConfig] | None = Field(
        None, description="the comparisons (replace the defaults: given and family name, "
        "birth date, email, phone, address, locality, postcode, region, gender)")
    blocking: list[BlockingRuleConfig] | None = Field(
        None, description="the blocking rules (replace the 18 defaults)")
    exact_columns: list[str] = Field(
        default_factory=list, description="other attributes (custom.* …) compared exactly, "
        "with a one-typo level, and blocked on; an agreement counts as one person's evidence")
    text_columns: list[str] = Field(
        default_factory=list, description="other attributes compared as free text")

    @model_validator(mode="after")
    def _thresholds(self) -> ResolutionConfig:
        if self.review > self.auto:
            raise ValueError("review must not exceed auto")
        return self

    @model_validator(mode="after")
    def _names_and_columns(self) -> ResolutionConfig:
        for field_name, items in (("comparisons", self.comparisons or []),
                                  ("blocking", self.blocking or [])):
            seen: set[str] = set()
            for k, item in enumerate(items):
                if item.name in seen:
                    raise _KeyedError(f"{field_name}.{k}.name", f"{item.name!r} appears twice")
                seen.add(item.name)
        if self.comparisons == []:
            raise _KeyedError("comparisons", "give at least one comparison (or leave it out "
                              "for the defaults)")
        for field_name, columns in (("exact_columns", self.exact_columns),
                                    ("text_columns", self.text_columns)):
            for k, column in enumerate(columns):
                if column in _OWN_FEATURES:
                    raise _KeyedError(f"{field_name}.{k}", f"{column!r} is compared by the "
                                      "comparisons already; list other attributes here")
                if column not in CANONICAL_ATTRIBUTES and not column.startswith("custom."):
                    raise _KeyedError(f"{field_name}.{k}",
                                      f"unknown attribute {column!r} (canonical or custom.*)")
                # an extra column's comparison (and an exact one's blocking rule) is named so
                taken = {c.name for c in self.comparisons or []}
                taken |= {b.name for b in self.blocking or []} if field_name == "exact_columns" \
                    else set()
                if column in taken:
                    raise _KeyedError(f"{field_name}.{k}", f"{column!r} is also the name of a "
                                      "comparison or blocking rule")
        return self


class UCPConfig(_Strict):
    """The whole of `ucp.yaml`."""

    version: Literal[1] = 1
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    identifiers: dict[str, IdentifierRule] = Field(default_factory=_default_identifier_rules)
    consent: ConsentConfig = Field(default_factory=ConsentConfig)
    survivorship: SurvivorshipConfig = Field(default_factory=SurvivorshipConfig)
    resolution: ResolutionConfig = Field(default_factory=ResolutionConfig)
    traits: dict[str, TraitConfig] = Field(default_factory=dict)
    collector: CollectorConfig = Field(default_factory=CollectorConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)

    @model_validator(mode="after")
    def _identifier_types_declared(self) -> UCPConfig:
        for name, source in self.sources.items():
            for id_type in source.identifiers:
                if id_type not in self.identifiers:
                    raise _KeyedError(
                        f"sources.{name}.identifiers.{id_type}",
                        f"identifier type {id_type!r} has no rule under 'identifiers'",
                        absolute=True,
                    )
        return self

    @model_validator(mode="after")
    def _privacy_references(self) -> UCPConfig:
        for name, source in self.sources.items():
            if source.consent is not None and source.consent.purpose not in self.consent.purposes:
                raise _KeyedError(
                    f"sources.{name}.consent.purpose",
                    f"purpose {source.consent.purpose!r} is not under consent.purposes",
                    absolute=True,
                )
        for name in self.retention.sources:
            if name not in self.sources:
                raise _KeyedError(
                    f"retention.sources.{name}", f"unknown source {name!r}", absolute=True
                )
        return self

    @model_validator(mode="after")
    def _trait_references(self) -> UCPConfig:
        from ucp.domain import traits as dt

        seen: set[str] = set()
        for name, trait in self.traits.items():
            if trait.derive is not None:
                refs = dt.parse_expression(name, trait.derive).refs
                unknown = sorted(refs - seen)
                if unknown:
                    raise _KeyedError(
                        f"traits.{name}.derive",
                        f"refers to {', '.join(unknown)}, not a trait declared above it",
                        absolute=True,
                    )
            seen.add(name)
        return self

    def source(self, name: str) -> SourceConfig:
        try:
            return self.sources[name]
        except KeyError:
            known = ", ".join(sorted(self.sources)) or "none"
            raise ConfigError(f"unknown source {name!r} (configured: {known})") from None


class _KeyedError(ValueError):
    """A validation error that knows the key below the field it was raised in."""

    def __init__(self, key: str, message: str, absolute: bool = False) -> None:
        super().__init__(message)
        self.key = key
        self.message = message
        self.absolute = absolute


def _line_index(text: str) -> dict[tuple[str, ...], int]:
    """Map each key path in a YAML document to its 1-based line number."""
    index: dict[tuple[str, ...], int] = {}
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return index

    def walk(node: yaml.Node | None, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = (*path, str(key.value))
                index[sub] = key.start_mark.line + 1
                walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                sub = (*path, str(i))
                index[sub] = item.start_mark.line + 1
                walk(item, sub)

    walk(root, ())
    return index


def _format_errors(exc: ValidationError, lines: dict[tuple[str, ...], int]) -> list[str]:
    out: list[str] = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        message = err["msg"]
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _KeyedError):
            loc = tuple(ctx_error.key.split(".")) if ctx_error.absolute else (*loc, ctx_error.key)
            message = ctx_error.message
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        elif err["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        line = None
        for n in range(len(loc), 0, -1):
            if loc[:n] in lines:
                line = lines[loc[:n]]
                break
        where = ".".join(loc) or "(top level)"
        out.append(f"{where}: {message}" + (f" (line {line})" if line else ""))
    return out


def parse_config(text: str, origin: str = "ucp.yaml") -> UCPConfig:
    """Parse and validate the text of a `ucp.yaml`; raise ConfigError naming each key at fault."""
    try:
        data: Any = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{origin}: not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: the top level must be a mapping")
    try:
        return UCPConfig.model_validate(data)
    except ValidationError as exc:
        errors = _format_errors(exc, _line_index(text))
        raise ConfigError(f"{origin}: " + "; ".join(errors), errors=errors) from None


def load_config(path: Path) -> UCPConfig:
    """Read and validate a `ucp.yaml` file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (create one with `ucp init`)") from None
    return parse_config(text, origin=str(path))
