"""Profiles: get by id (aliases redirect), look up by identifier, list with a cursor."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from ucp.api.auth import require
from ucp.domain.access import Permission, allows
from ucp.errors import Forbidden
from ucp.services import consent, privacy
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
def get_profile(
    profile_id: str,
    request: Request,
    key: ReadKey,
    as_of: Annotated[
        datetime | None, Query(description="ISO 8601 time: the profile as the store knew it then")
    ] = None,
    purpose: Annotated[
        str | None, Query(description="what the data is for: 403 unless the person consented")
    ] = None,
) -> Response:
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    store, config = request.app.state.store, request.app.state.config
    # consent check, read audit and PII masking: services.privacy (issue 8)
    body = privacy.read_profile(
        store,
        config,
        profile_id,
        f"key:{key.id}",
        pii=allows(key.role, Permission.read_pii),
        purpose=purpose,
        as_of=as_of,
        request_id=request.state.request_id,
        audit_sink=request.app.state.read_audit.add,
    )
    # a profile is a large nested document: orjson directly, not FastAPI's generic encoder
    return Response(orjson.dumps(body, default=str), media_type="application/json")


@router.get("/profiles/{profile_id}/history", summary="The changes that shaped a profile")
def profile_history(profile_id: str, request: Request, key: ReadKey) -> dict[str, Any]:
    return svc.profile_history(request.app.state.store, profile_id)


class PinRequest(BaseModel):
    value: str = Field(..., min_length=1, max_length=2000)


StewardKey = Annotated[ApiKey, Depends(require(Permission.steward))]


@router.put(
    "/profiles/{profile_id}/attributes/{attribute}",
    summary="Pin a golden value (overrides every survivorship rule)",
)
def pin_attribute(
    profile_id: str, attribute: str, body: PinRequest, request: Request, key: StewardKey
) -> dict[str, Any]:
    pid = svc.pin_attribute(
        request.app.state.store,
        profile_id,
        attribute,
        body.value,
        f"key:{key.id}",
        request.state.request_id,
    )
    return {"profile_id": pid, "attribute": attribute, "pinned": True}


@router.delete("/profiles/{profile_id}/attributes/{attribute}", summary="Remove a pin")
def unpin_attribute(
    profile_id: str, attribute: str, request: Request, key: StewardKey
) -> dict[str, Any]:
    pid = svc.pin_attribute(
        request.app.state.store,
        profile_id,
        attribute,
        None,
        f"key:{key.id}",
        request.state.request_id,
    )
    return {"profile_id": pid, "attribute": attribute, "pinned": False}


@router.get(
    "/profiles", response_model=ProfilePage, summary="Look up by identifier, search, or list"
)
def find_profiles(
    request: Request,
    key: ReadKey,
    identifier: Annotated[
        str | None, Query(description="TYPE:VALUE, e.g. email:ann@example.com")
    ] = None,
    q: Annotated[
        str | None,
        Query(description="search: name words, or an email or phone prefix", max_length=200),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    purpose: Annotated[
        str | None, Query(description="only profiles that consented to this purpose")
    ] = None,
) -> ProfilePage | Response:
    store = request.app.state.store
    if identifier is not None and purpose is None:
        # the hot lookup: one query, serialized directly (FastAPI would validate a returned
        # model again, in a hop to the thread pool)
        rows = svc.lookup_profiles(store, request.app.state.config, identifier)
        return Response(
            orjson.dumps(
                {"data": rows[:limit], "next_cursor": None},
                default=str,
                option=orjson.OPT_NON_STR_KEYS,  # column names are str subclasses
            ),
            media_type="application/json",
        )
    if identifier is not None:
        ids = svc.find_by_identifier(store, request.app.state.config, identifier)
        if purpose is not None:
            with store.read() as tx:
                ok = consent.consented_profiles(tx, request.app.state.config, purpose, ids)
            ids = [pid for pid in ids if pid in ok]
        with store.read() as tx:
            rows = [row for pid in ids if (row := tx.profile_row(pid))]
        return ProfilePage(data=[ProfileSummary(**r) for r in rows[:limit]])
    if not allows(key.role, Permission.list_profiles):
        raise Forbidden(f"role {key.role.value!r} may look up profiles but not list them")
    if q is not None:
        rows, nxt = svc.search_profiles(store, q, cursor, limit)
        if purpose is not None:
            with store.read() as tx:
                ok = consent.consented_profiles(
                    tx, request.app.state.config, purpose, [r["id"] for r in rows]
                )
            rows = [r for r in rows if r["id"] in ok]
    elif purpose is not None:
        rows, nxt = consent.list_consented(store, request.app.state.config, purpose, cursor, limit)
    else:
        rows, nxt = svc.list_profiles(store, cursor, limit)
    return ProfilePage(data=[ProfileSummary(**r) for r in rows], next_cursor=nxt)
