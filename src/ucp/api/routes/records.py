"""Source records over HTTP: a source retracts a record it no longer holds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from ucp.api.auth import require
from ucp.domain.access import Permission
from ucp.services import records as svc
from ucp.services.keys import ApiKey

router = APIRouter(tags=["records"])

IngestKey = Annotated[ApiKey, Depends(require(Permission.ingest))]


class DeleteResult(BaseModel):
    records: int
    profiles_updated: list[str]
    profiles_deleted: list[str]
    profiles_after: list[str]


@router.delete(
    "/records/{source}/{source_key}",
    response_model=DeleteResult,
    summary="Delete a source record; the profiles it was part of are re-resolved",
)
def delete_record(source: str, source_key: str, request: Request, key: IngestKey) -> Any:
    return svc.delete_records(
        request.app.state.store,
        request.app.state.config,
        [f"{source}:{source_key}"],
        f"key:{key.id}",
        request.state.request_id,
    ).to_dict()
