"""The rates that shape a synthetic population: who appears where, and how each source errs.

Every rate is a probability in [0, 1] applied per *opportunity* (a person for population rates,
a field of a record for corruption rates); `docs/data.md` lists each one and what it counts.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from ucp.errors import ConfigError

#: the sources written by the generator, in file order
SOURCES: tuple[str, ...] = (
    "crm", "shop_customers", "shop_orders", "support_tickets", "newsletter", "pos_receipts",
    "web_events",
)


@dataclass(frozen=True, slots=True)
class Rates:
    """Population, presence and corruption rates (all probabilities)."""

    # population: per person
    second_email: float = 0.35
    landline: float = 0.30
    mover: float = 0.15
    marriage: float = 0.06
    common_name: float = 0.01
    twins: float = 0.01
    household_shared_email: float = 0.15
    # presence: the chance that a person is a customer of each source
    in_crm: float = 0.55
    in_shop: float = 0.60
    in_support: float = 0.15
    in_newsletter: float = 0.35
    in_pos: float = 0.30
    in_web: float = 0.40
    # duplicates inside one source
    crm_duplicate: float = 0.06
    shop_duplicate: float = 0.03
    # corruption: per field of a record
    typo: float = 0.03
    email_typo: float = 0.02
    phone_typo: float = 0.01
    nickname: float = 0.08
    initial: float = 0.03
    name_swap: float = 0.01
    missing: float = 0.05
    transliteration: float = 0.20
    phone_format: float = 0.30
    email_format: float = 0.15
    address_format: float = 0.30
    stale_address: float = 0.05
    junk: float = 0.01
    other_email: float = 0.30

    def to_dict(self) -> dict[str, float]:
        """The rates as a plain mapping (the content of `rates.json`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rates:
        """Defaults overridden by `data`; unknown keys and values outside [0, 1] are errors."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"rates: unknown rate(s) {', '.join(unknown)}")
        for key, value in data.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"rates.{key}: expected a number")
            if not 0.0 <= float(value) <= 1.0:
                raise ConfigError(f"rates.{key}: expected a probability in [0, 1]")
        return replace(cls(), **{k: float(v) for k, v in data.items()})

    @classmethod
    def load(cls, path: Path) -> Rates:
        """Read a JSON file of rates (a partial file overrides only the rates it names)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such rates file") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON (line {exc.lineno})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a JSON object of rates")
        return cls.from_dict(data)

    def dumps(self) -> str:
        """Canonical JSON text (sorted keys) so the file is byte-identical per run."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
