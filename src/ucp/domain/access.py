"""Roles and what each may do (design.md §5, access)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    steward = "steward"
    analyst = "analyst"
    support = "support"
    ingest = "ingest"


class Permission(StrEnum):
    read_profiles = "read_profiles"
    list_profiles = "list_profiles"
    read_pii = "read_pii"
    ingest = "ingest"
    steward = "steward"
    manage_consent = "manage_consent"
    privacy = "privacy"
    admin = "admin"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(Permission),
    Role.steward: frozenset(
        {
            Permission.read_profiles,
            Permission.list_profiles,
            Permission.read_pii,
            Permission.steward,
        }
    ),
    Role.analyst: frozenset({Permission.read_profiles, Permission.list_profiles}),
    Role.support: frozenset(
        {Permission.read_profiles, Permission.read_pii, Permission.manage_consent}
    ),
    Role.ingest: frozenset({Permission.ingest}),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in GRANTS[role]
