"""Bearer-key authentication and per-route permission checks (FastAPI dependencies)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ucp.domain.access import Permission, allows
from ucp.errors import AuthError, Forbidden
from ucp.services.keys import ApiKey, authenticate

_bearer = HTTPBearer(auto_error=False, description="an API key made by `ucp keys create`")


def current_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKey:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthError("missing bearer API key (Authorization: Bearer <key>)")
    key = authenticate(request.app.state.store, credentials.credentials)
    request.state.key_id = key.id
    return key


def require(permission: Permission) -> Callable[..., ApiKey]:
    """A dependency that admits keys whose role grants `permission`."""

    def check(key: Annotated[ApiKey, Depends(current_key)]) -> ApiKey:
        if not allows(key.role, permission):
            raise Forbidden(f"role {key.role.value!r} may not {permission.value.replace('_', ' ')}")
        return key

    return check
