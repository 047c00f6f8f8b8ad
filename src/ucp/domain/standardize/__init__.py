"""Standardization: raw attribute values -> display form, matching form, parts, quality flags.

Pure functions used by ingestion, resolution and search. Lookup tables load lazily; repeated
values are served from per-kind caches.

Example:
    >>> from ucp.domain.standardize import Context, standardize
    >>> standardize("name", "O'BRIEN, Robert J.").match
    'robert obrien'
    >>> standardize("phone", "020 7946 0958", Context(country="GB")).value
    '+442079460958'
"""

from ucp.domain.standardize.name import name_canonical_set
from ucp.domain.standardize.record import KINDS, standardize, standardize_record
from ucp.domain.standardize.result import Context, DateOrder, Standardized

__all__ = [
    "KINDS",
    "Context",
    "DateOrder",
    "Standardized",
    "name_canonical_set",
    "standardize",
    "standardize_record",
]
