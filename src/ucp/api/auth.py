"""Bearer-key authentication and per-route permission checks (FastAPI dependencies).

Both dependencies are `async` so a request whose key is in the `KeyCache` costs no hop to the
thread pool (a hop per dependency cost more than the profile lookup itself); the database is
read in the thread pool only on a cache miss.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from ucp.domain.access import Permission, allows
from ucp.errors import AuthError, Forbidden
from ucp.services.keys import ApiKey, KeyCache, authenticate

_bearer = HTTPBearer(auto_error=False, description="an API key made by `ucp keys create`")


async def current_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKey:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthError("missing bearer API key (Authorization: Bearer <key>)")
    secret = credentials.credentials
    cache: KeyCache | None = getattr(request.app.state, "keys", None)
    if cache is None:
        key = await run_in_threadpool(authenticate, request.app.state.store, secret)
    else:
        key = cache.cached(secret) or await run_in_threadpool(cache.authenticate, secret)
    request.state.key_id = key.id
    return key


def require(permission: Permission) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency that admits keys whose role grants `permission`."""

    async def check(key: Annotated[ApiKey, Depends(current_key)]) -> ApiKey:
        if not allows(key.role, permission):
            raise Forbidden(f"role {key.role.value!r} may not {permission.value.replace('_', ' ')}")
        return key

    return check
