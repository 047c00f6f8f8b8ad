"""The canonical attributes a source mapping may target, and the standardizer kind of each."""

from __future__ import annotations

from typing import Final

#: canonical attribute -> standardizer kind (see `ucp.domain.standardize`)
CANONICAL_ATTRIBUTES: Final[dict[str, str]] = {
    "full_name": "name",
    "title": "text",
    "given_name": "given_name",
    "middle_name": "given_name",
    "family_name": "family_name",
    "email": "email",
    "phone": "phone",
    "birth_date": "date",
    "gender": "gender",
    "address": "address",
    "house_number": "text",
    "street": "address",
    "unit": "text",
    "locality": "text",
    "region": "text",
    "postcode": "postcode",
    "country": "country",
    "company": "text",
    "loyalty_id": "text",
    "created_at": "timestamp",
    "updated_at": "timestamp",
}

#: attributes whose values are personal data (masked for roles without PII access)
PII_ATTRIBUTES: Final[frozenset[str]] = frozenset(
    {
        "full_name",
        "given_name",
        "middle_name",
        "family_name",
        "email",
        "phone",
        "birth_date",
        "address",
        "house_number",
        "street",
        "unit",
        "postcode",
    }
)
