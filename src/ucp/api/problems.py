"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ucp.errors import (
    AuthError,
    ConfigError,
    Conflict,
    Forbidden,
    InputError,
    NotFound,
    StoreError,
    UCPError,
)

PROBLEM = "application/problem+json"

_STATUS: list[tuple[type[UCPError], int]] = [
    (Forbidden, 403),
    (AuthError, 401),
    (NotFound, 404),
    (Conflict, 409),
    (InputError, 400),
    (ConfigError, 500),
    (StoreError, 503),
]


def problem(
    status: int, title: str, detail: str, instance: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://ucp.dev/problems/{title.replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": 'Bearer realm="ucp"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(UCPError)
    async def _ucp(request: Request, exc: UCPError) -> JSONResponse:
        status = next((code for cls, code in _STATUS if isinstance(exc, cls)), 500)
        return problem(status, exc.title, exc.message, request.url.path, **exc.context)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(400, "invalid input", detail, request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "not found", 405: "method not allowed"}.get(exc.status_code, "error")
        return problem(exc.status_code, title, str(exc.detail), request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return problem(500, "internal error", "an unexpected error occurred", request.url.path)
