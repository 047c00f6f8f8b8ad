"""PII masking for roles without PII access (pure).

`a***@example.com`, `+44 **** ***958`, a birth date becomes its year, a name its initials,
street lines `***`. `mask_profile` masks a profile view structurally (golden values, records'
attributes, identifiers) and then sweeps the whole document — events' properties, provenance,
source keys, anything else — replacing every occurrence of a value it masked, and any value
that looks like an email address or sits under a personal-data key (`email`, `phone`, `ip` …).
`mask_document(doc, known)` runs only the sweep, for other profile-shaped answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from ucp.domain.attributes import CANONICAL_ATTRIBUTES, PII_ATTRIBUTES

MASK: Final = "***"
_EMAIL = re.compile(r"[^\s@\"'<>(),;:]+@[^\s@\"'<>(),;:]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"^\+[\d\s().-]{8,}$")  # international form only: dates look alike
#: property / JSON keys whose values are personal data wherever they appear (normalized)
PII_KEYS: Final[dict[str, str]] = {
    "email": "email",
    "emailaddress": "email",
    "mail": "email",
    "phone": "phone",
    "phonenumber": "phone",
    "mobile": "phone",
    "tel": "phone",
    "name": "name",
    "fullname": "name",
    "firstname": "name",
    "givenname": "name",
    "lastname": "name",
    "familyname": "name",
    "surname": "name",
    "middlename": "name",
    "birthday": "date",
    "birthdate": "date",
    "dob": "date",
    "dateofbirth": "date",
    "address": "text",
    "street": "text",
    "streetaddress": "text",
    "line1": "text",
    "line2": "text",
    "housenumber": "text",
    "postcode": "postcode",
    "postalcode": "postcode",
    "zip": "postcode",
    "zipcode": "postcode",
    "ip": "text",
    "ipaddress": "text",
}
_SUBSTRING_MIN = 5


def mask_email(value: str) -> str:
    """`ann.lee@example.com` → `a***@example.com`."""
    local, sep, domain = value.strip().rpartition("@")
    if not sep or not local:
        return MASK
    return f"{local[0]}{MASK}@{domain}"


def mask_phone(value: str) -> str:
    """`+442079460958` → `+44 **** ***958` (country code and last three digits kept)."""
    digits = re.sub(r"\D", "", value)
    if len(digits) < 4:
        return MASK
    code = _country_code(value, digits)
    tail = digits[-3:]
    return f"+{code} **** ***{tail}" if code else f"**** ***{tail}"


def _country_code(value: str, digits: str) -> str | None:
    if not value.strip().startswith("+"):
        return None
    try:
        import phonenumbers

        return str(phonenumbers.parse(value, None).country_code)
    except Exception:  # noqa: BLE001 - unparsable: fall back to the first digit
        return digits[:1]


def mask_name(value: str) -> str:
    """`Mary-Ann O'Brien` → `M. O.` (initials of each word)."""
    words = [w for w in re.split(r"[\s]+", value.strip()) if w]
    initials = [f"{w[0].upper()}." for w in words if w[0].isalnum()]
    return " ".join(initials) or MASK


def mask_date(value: str) -> str:
    """A birth date → its year only."""
    match = re.search(r"\b(\d{4})\b", value)
    return match.group(1) if match else MASK


def mask_postcode(value: str) -> str:
    """`SW1A 1AA` → `SW1A ***`; `94107` → `941**`."""
    text = value.strip()
    if " " in text:
        return f"{text.split(' ')[0]} {MASK}"
    return text[:3] + "*" * max(len(text) - 3, 2) if len(text) > 3 else MASK


def mask_text(value: str) -> str:
    return MASK


def mask_token(value: str) -> str:
    """An opaque identifier (CRM id, device id): its first two characters only."""
    return f"{value[:2]}{MASK}" if len(value) > 4 else MASK


_BY_KIND = {
    "email": mask_email,
    "phone": mask_phone,
    "name": mask_name,
    "given_name": mask_name,
    "family_name": mask_name,
    "date": mask_date,
    "postcode": mask_postcode,
    "address": mask_text,
    "text": mask_text,
}


def mask_kind(kind: str, value: Any) -> Any:
    """Mask a value of a standardizer kind (`email`, `phone`, `name`, `date` …)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value if kind != "date" else mask_date(str(value))
    if not isinstance(value, str):
        return MASK
    return _BY_KIND.get(kind, mask_text)(value)


def mask_attribute(attribute: str, value: Any) -> Any:
    """A canonical attribute's value, masked when the attribute is personal data."""
    if attribute not in PII_ATTRIBUTES or value is None:
        return value
    return mask_kind(CANONICAL_ATTRIBUTES.get(attribute, "text"), value)


def mask_identifier(id_type: str, value: str) -> str:
    """An identifier value masked by its type (emails and phones keep a recognizable shape)."""
    if id_type == "email" or _EMAIL.fullmatch(value):
        return mask_email(value)
    if id_type == "phone":
        return mask_phone(value)
    return mask_token(value)


class Masker:
    """Masks values and remembers each one, so the final sweep can replace it everywhere."""

    def __init__(self, known: Mapping[str, str] | None = None) -> None:
        self.known: dict[str, str] = {}
        for original, masked in (known or {}).items():
            self._remember(original, masked)

    def _remember(self, original: Any, masked: Any) -> None:
        if isinstance(original, str) and original.strip() and original != masked:
            self.known[original.strip().casefold()] = str(masked)

    def attribute(self, name: str, value: Any) -> Any:
        masked = mask_attribute(name, value)
        self._remember(value, masked)
        return masked

    def identifier(self, id_type: str, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        masked = mask_identifier(id_type, value)
        self._remember(value, masked)
        return masked

    def remember_raw(self, attribute: str, raw: Any) -> None:
        """A raw (unstandardized) value of a personal attribute, for the sweep only."""
        if isinstance(raw, str):
            self._remember(raw, mask_attribute(attribute, raw))

    def sweep(self, doc: Any, key: str | None = None, keys: bool = True) -> Any:
        """Replace remembered values and email-looking strings; with `keys`, also mask every
        value under a personal-data key (`email`, `phone`, `ip` …) of free-form JSON."""
        if isinstance(doc, Mapping):
            return {k: self.sweep(v, str(k), keys) for k, v in doc.items()}
        if isinstance(doc, (list, tuple)):
            return [self.sweep(v, key, keys) for v in doc]
        kind = _key_kind(key) if keys else None
        if not isinstance(doc, str):
            if kind is not None and doc is not None and not isinstance(doc, bool):
                return mask_kind(kind, str(doc))
            return doc
        if kind is not None:
            return self.known.get(doc.strip().casefold()) or mask_kind(kind, doc)
        return self._sweep_text(doc)

    def _sweep_text(self, text: str) -> str:
        folded = text.strip().casefold()
        if folded in self.known:
            return self.known[folded]
        out = text
        for original, masked in self.known.items():
            if len(original) >= _SUBSTRING_MIN and original in out.casefold():
                out = _replace_folded(out, original, masked)
        out = _EMAIL.sub(lambda m: mask_email(m.group(0)), out)
        if _PHONE.match(out):
            out = mask_phone(out)
        return out


def _key_kind(key: str | None) -> str | None:
    if key is None:
        return None
    return PII_KEYS.get(re.sub(r"[^a-z0-9]", "", key.lower()))


def _replace_folded(text: str, needle: str, replacement: str) -> str:
    pattern = re.compile(re.escape(needle), re.IGNORECASE)
    return pattern.sub(lambda _m: replacement, text)


def mask_profile(profile: Mapping[str, Any]) -> dict[str, Any]:
    """A profile view (services.profiles.ProfileView.to_dict()) with personal data masked.

    Example: `mask_profile({"golden": {"email": {"value": "ann@x.org"}}})["golden"]["email"]`
    is `{"value": "a***@x.org"}`.
    """
    m = Masker()
    out: dict[str, Any] = dict(profile)
    golden: dict[str, Any] = {}
    for attr, g in (profile.get("golden") or {}).items():
        golden[attr] = _mask_golden(m, attr, g)
    if "golden" in profile:
        out["golden"] = golden
    if "identifiers" in profile:
        out["identifiers"] = [
            {**i, "value": m.identifier(i.get("type", ""), i.get("value"))}
            for i in profile.get("identifiers") or []
        ]
    if "records" in profile:
        out["records"] = [_mask_record(m, r) for r in profile.get("records") or []]
    if "events" in profile:
        out["events"] = [
            {**e, "properties": m.sweep(e.get("properties"))} if isinstance(e, Mapping) else e
            for e in profile.get("events") or []
        ]
    return {k: v if k == "events" else m.sweep(v, k, keys=False) for k, v in out.items()}


def _mask_golden(m: Masker, attr: str, g: Any) -> Any:
    if not isinstance(g, Mapping):
        return m.attribute(attr, g)
    body = dict(g)
    if "value" in body:
        body["value"] = m.attribute(attr, body["value"])
    for part in ("provenance",):
        if isinstance(body.get(part), Mapping):
            body[part] = {**body[part], "value": m.attribute(attr, body[part].get("value"))}
    for part in ("candidates", "values"):
        if isinstance(body.get(part), list):
            body[part] = [
                {**c, "value": m.attribute(attr, c.get("value"))} if isinstance(c, Mapping) else c
                for c in body[part]
            ]
    return body


def _mask_record(m: Masker, record: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(record)
    attrs = {}
    for name, a in (record.get("attributes") or {}).items():
        if isinstance(a, Mapping):
            masked = dict(a)
            if "raw" in masked:
                m.remember_raw(name, masked["raw"])
                masked["raw"] = mask_attribute(name, masked["raw"])
            if "value" in masked:
                masked["value"] = m.attribute(name, masked["value"])
            if "match" in masked:
                m.remember_raw(name, masked["match"])
                masked["match"] = mask_attribute(name, masked["match"])
            if "parts" in masked and name in PII_ATTRIBUTES:
                masked["parts"] = {}
            attrs[name] = masked
        else:
            attrs[name] = m.attribute(name, a)
    if "attributes" in record:
        out["attributes"] = attrs
    if "identifiers" in record:
        out["identifiers"] = [
            {**i, "value": m.identifier(i.get("type", ""), i.get("value"))}
            for i in record.get("identifiers") or []
        ]
    return out


def mask_document(doc: Any, known: Mapping[str, str] | None = None, keys: bool = False) -> Any:
    """Sweep any JSON-shaped answer: replace `known` originals by their masks and mask email-
    looking strings (with `keys`, also values under personal-data keys)."""
    return Masker(known).sweep(doc, keys=keys)
