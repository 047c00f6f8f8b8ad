"""Data subject requests and the suppression list over HTTP (admin only).

Identifiers travel in bodies and query strings, never in paths: request logs carry paths.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from ucp.api.auth import require
from ucp.domain.access import Permission
from ucp.errors import InputError
from ucp.services import privacy as svc
from ucp.services import suppression
from ucp.services.keys import ApiKey

router = APIRouter(tags=["privacy"])

PrivacyKey = Annotated[ApiKey, Depends(require(Permission.privacy))]


class PrivacyRequestCreate(BaseModel):
    type: Literal["access", "erasure", "rectification"]
    subject: str = Field(
        ..., min_length=1, max_length=320, description="profile id, or TYPE:VALUE identifier"
    )
    changes: dict[str, str] | None = Field(
        None, description="rectification: canonical attribute -> corrected value"
    )


def _secret(request: Request) -> bytes | None:
    return suppression.secret_or_none(request.app.state.settings)


@router.post("/privacy/requests", status_code=201, summary="File and carry out a DSR")
def create_request(body: PrivacyRequestCreate, request: Request, key: PrivacyKey) -> Any:
    return svc.create_request(
        request.app.state.store,
        request.app.state.config,
        body.type,
        body.subject,
        f"key:{key.id}",
        secret=_secret(request),
        changes=body.changes,
        request_id=request.state.request_id,
    )


@router.get("/privacy/requests/{request_id}", summary="Status of a data subject request")
def get_request(request_id: str, request: Request, key: PrivacyKey) -> Any:
    return svc.get_request(request.app.state.store, request_id)


@router.get("/privacy/requests/{request_id}/export", summary="The export of an access request")
def get_export(
    request_id: str,
    request: Request,
    key: PrivacyKey,
    format: Annotated[Literal["json", "zip"], Query(description="json, or zip of CSVs")] = "json",
) -> Any:
    export = svc.request_export(request.app.state.store, request_id)
    if format == "zip":
        return Response(
            svc.export_zip(export),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{request_id}.zip"'},
        )
    return export


@router.get("/privacy/suppressions", summary="The suppression list (keyed hashes only)")
def list_suppressions(
    request: Request,
    key: PrivacyKey,
    lifted: Annotated[bool, Query(description="include lifted suppressions")] = False,
) -> dict[str, Any]:
    rows = suppression.list_suppressions(request.app.state.store, include_lifted=lifted)
    return {"data": rows}


@router.delete("/privacy/suppressions/{suppression_id}", summary="Lift a suppression by id")
def lift_suppression(suppression_id: int, request: Request, key: PrivacyKey) -> dict[str, Any]:
    sid = suppression.lift(
        request.app.state.store,
        request.app.state.config,
        f"key:{key.id}",
        suppression_id=suppression_id,
        request_id=request.state.request_id,
    )
    return {"id": sid, "lifted": True}


@router.delete("/privacy/suppressions", summary="Lift the suppression of an identifier")
def lift_suppression_of(
    request: Request,
    key: PrivacyKey,
    identifier: Annotated[str | None, Query(description="TYPE:VALUE")] = None,
) -> dict[str, Any]:
    if not identifier:
        raise InputError("give identifier=TYPE:VALUE", field="identifier")
    sid = suppression.lift(
        request.app.state.store,
        request.app.state.config,
        f"key:{key.id}",
        identifier=identifier,
        secret=_secret(request),
        request_id=request.state.request_id,
    )
    return {"id": sid, "lifted": True}
