"""Profiles: get by id (aliases redirect), look up by identifier, list with a cursor."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from ucp.api.auth import require
from ucp.domain.access import Permission, allows
from ucp.errors import Forbidden
from ucp.services import profiles as svc
from ucp.services.keys import ApiKey

router = APIRouter(tags=["profiles"])

ReadKey = Annotated[ApiKey, Depends(require(Permission.read_profiles))]


class ProfileSummary(BaseModel):
    id: str
    created_at: Any
    updated_at: Any
    record_count: int


class ProfilePage(BaseModel):
    data: list[ProfileSummary]
    next_cursor: str | None = None


@router.get("/profiles/{profile_id}", summary="A profile with its identifiers, records, events")
def get_profile(profile_id: str, request: Request, key: ReadKey) -> dict[str, Any]:
    return svc.get_profile(request.app.state.store, profile_id, request.app.state.config).to_dict()


@router.get("/profiles", response_model=ProfilePage, summary="Look up by identifier, or list")
def find_profiles(
    request: Request,
    key: ReadKey,
    identifier: Annotated[
        str | None, Query(description="TYPE:VALUE, e.g. email:ann@example.com")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> ProfilePage:
    store = request.app.state.store
    if identifier is not None:
        ids = svc.find_by_identifier(store, request.app.state.config, identifier)
        with store.read() as tx:
            rows = [row for pid in ids if (row := tx.profile_row(pid))]
        return ProfilePage(data=[ProfileSummary(**r) for r in rows[:limit]])
    if not allows(key.role, Permission.list_profiles):
        raise Forbidden(f"role {key.role.value!r} may look up profiles but not list them")
    rows, nxt = svc.list_profiles(store, cursor, limit)
    return ProfilePage(data=[ProfileSummary(**r) for r in rows], next_cursor=nxt)
