"""The change feed over HTTP."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from ucp.api.auth import require
from ucp.domain.access import Permission
from ucp.services.changes import changes_page
from ucp.services.keys import ApiKey

router = APIRouter(tags=["changes"])


class Change(BaseModel):
    seq: int
    type: str
    profile_id: str | None
    occurred_at: Any
    data: dict[str, Any]


class ChangePage(BaseModel):
    data: list[Change]
    next_cursor: int


@router.get("/changes", response_model=ChangePage, summary="The change feed, resumable")
def list_changes(
    request: Request,
    key: Annotated[ApiKey, Depends(require(Permission.list_profiles))],
    after: Annotated[int, Query(description="next_cursor of the previous page; 0 = start")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ChangePage:
    entries, cursor = changes_page(request.app.state.store, after, limit)
    return ChangePage(data=[Change(**e) for e in entries], next_cursor=cursor)
