"""Consent over HTTP: a profile's state per purpose with its full history, and new entries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from ucp.api.auth import require
from ucp.domain.access import Permission, allows
from ucp.services import consent as svc
from ucp.services.keys import ApiKey

router = APIRouter(tags=["consent"])

ReadKey = Annotated[ApiKey, Depends(require(Permission.read_profiles))]
ConsentKey = Annotated[ApiKey, Depends(require(Permission.manage_consent))]


class ConsentUpdate(BaseModel):
    purpose: str = Field(..., description="a purpose under consent.purposes in ucp.yaml")
    status: Literal["granted", "denied", "withdrawn"]
    channel: str | None = Field(None, max_length=32)
    identifier: str | None = Field(
        None, description="TYPE:VALUE of one of the profile's identifiers (default: the profile)"
    )
    evidence: dict[str, Any] = Field(default_factory=dict, description="e.g. {form: 'f-17'}")
    occurred_at: datetime | None = Field(None, description="when it was given (default: now)")


@router.get("/profiles/{profile_id}/consent", summary="Consent state per purpose and history")
def get_consent(profile_id: str, request: Request, key: ReadKey) -> dict[str, Any]:
    return svc.profile_consent(
        request.app.state.store,
        request.app.state.config,
        profile_id,
        pii=allows(key.role, Permission.read_pii),
    )


@router.put("/profiles/{profile_id}/consent", summary="Record a consent decision (append-only)")
def put_consent(
    profile_id: str, body: ConsentUpdate, request: Request, key: ConsentKey
) -> dict[str, Any]:
    return svc.record_consent(
        request.app.state.store,
        request.app.state.config,
        profile_id,
        body.purpose,
        body.status,
        f"key:{key.id}",
        channel=body.channel,
        identifier=body.identifier,
        evidence=body.evidence,
        occurred_at=body.occurred_at,
        request_id=request.state.request_id,
    )
