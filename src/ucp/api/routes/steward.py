"""Stewardship over HTTP: merge, split, constraints and their revocation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from ucp.api.auth import require
from ucp.domain.access import Permission
from ucp.services import steward as svc
from ucp.services.keys import ApiKey

router = APIRouter(tags=["stewardship"])

StewardKey = Annotated[ApiKey, Depends(require(Permission.steward))]


class MergeRequest(BaseModel):
    profile_ids: list[str] = Field(..., min_length=2, description="profiles that are one person")
    reason: str | None = Field(None, max_length=1000)


class SplitRequest(BaseModel):
    records: list[str] = Field(..., min_length=1, description="SOURCE:KEY of records to move out")
    reason: str | None = Field(None, max_length=1000)


class StewardResult(BaseModel):
    constraint_ids: list[int]
    profile_ids: list[str]


def _actor(key: ApiKey) -> str:
    return f"key:{key.id}"


@router.post(
    "/profiles/merge",
    response_model=StewardResult,
    summary="Merge profiles (adds must-link constraints)",
)
def merge_profiles(body: MergeRequest, request: Request, key: StewardKey) -> Any:
    return svc.merge(
        request.app.state.store,
        request.app.state.config,
        body.profile_ids,
        _actor(key),
        body.reason,
        request.state.request_id,
    ).to_dict()


@router.post(
    "/profiles/{profile_id}/split",
    response_model=StewardResult,
    summary="Move records out of a profile (adds cannot-link constraints)",
)
def split_profile(profile_id: str, body: SplitRequest, request: Request, key: StewardKey) -> Any:
    return svc.split(
        request.app.state.store,
        request.app.state.config,
        profile_id,
        body.records,
        _actor(key),
        body.reason,
        request.state.request_id,
    ).to_dict()


@router.get("/constraints", summary="Steward constraints, newest first")
def list_constraints(
    request: Request,
    key: StewardKey,
    active: Annotated[bool, Query(description="only constraints not revoked")] = True,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    return {"data": svc.list_constraints(request.app.state.store, active, limit)}


@router.post(
    "/constraints/{constraint_id}/revoke",
    response_model=StewardResult,
    summary="Revoke a constraint; its records are resolved again",
)
def revoke_constraint(constraint_id: int, request: Request, key: StewardKey) -> Any:
    return svc.revoke(
        request.app.state.store,
        request.app.state.config,
        constraint_id,
        _actor(key),
        request.state.request_id,
    ).to_dict()
