"""Explain and review over HTTP."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from ucp.api.auth import require
from ucp.domain.access import Permission, allows
from ucp.services import explain, privacy, review
from ucp.services.keys import ApiKey

router = APIRouter(tags=["resolution"])

ReadKey = Annotated[ApiKey, Depends(require(Permission.read_profiles))]
StewardKey = Annotated[ApiKey, Depends(require(Permission.steward))]
RecordRef = Query(description="SOURCE:KEY of a record", min_length=3, max_length=330)


@router.get("/explain", summary="Why two records are (not) one person: the weight waterfall")
def explain_pair(
    request: Request, key: ReadKey,
    a: Annotated[str, RecordRef], b: Annotated[str, RecordRef],
) -> dict[str, Any]:
    return explain.explain_pair(request.app.state.store, request.app.state.config, a, b)


@router.get("/profiles/{profile_id}/why", summary="The chain of links that puts a record here")
def why(
    profile_id: str, request: Request, key: ReadKey, record: Annotated[str, RecordRef],
) -> dict[str, Any]:
    answer = explain.why_in_profile(request.app.state.store, profile_id, record)
    if not allows(key.role, Permission.read_pii):  # record keys can be emails (issue 8)
        answer = privacy.mask_for_profile(request.app.state.store, profile_id, answer)
    return answer


@router.get("/review", summary="Uncertain pairs for a steward, most probable first")
def review_queue(
    request: Request, key: StewardKey,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    return {"data": review.review_queue(request.app.state.store, limit, offset)}


class Decision(BaseModel):
    decision: Literal["accept", "reject"]


@router.post("/review/{item_id}", summary="Accept (must-link) or reject (cannot-link) a pair")
def decide(item_id: int, body: Decision, request: Request, key: StewardKey) -> dict[str, Any]:
    return review.decide(request.app.state.store, request.app.state.config, item_id,
                         body.decision, f"key:{key.id}", request.state.request_id)
