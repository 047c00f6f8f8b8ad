"""The one error tree of ucp.

    UCPError
    ├── ConfigError            ucp.yaml or settings are wrong (carries the key path)
    ├── InputError             a payload or file row is unusable (carries row / field)
    │   └── UnsupportedFormat  a file whose format ucp cannot read
    ├── NotFound               a profile, record or key that does not exist
    ├── Conflict               a request that contradicts the current state
    ├── AuthError              missing or invalid credentials
    │   └── Forbidden          valid credentials without the needed role
    │       └── ConsentRequired  the profile has not consented to the purpose asked for
    └── StoreError             the database failed or is not at the expected schema

Shells map these to exit codes (CLI) and RFC 9457 problems (API); nothing else does.
Messages never carry personal data: they name rows, fields and key paths, not values.
"""

from __future__ import annotations


class UCPError(Exception):
    """Base of every error ucp raises on purpose."""

    title = "ucp error"

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = {k: v for k, v in context.items() if v is not None}

    def __str__(self) -> str:
        return self.message


class ConfigError(UCPError):
    """Configuration (ucp.yaml or settings) is invalid; `errors` lists `path: message` lines."""

    title = "invalid configuration"

    def __init__(self, message: str, errors: list[str] | None = None, **context: object) -> None:
        super().__init__(message, **context)
        self.errors = errors or [message]


class InputError(UCPError):
    """A payload, file or row cannot be used; names the row and field, never the value."""

    title = "invalid input"


class UnsupportedFormat(InputError):
    title = "unsupported format"


class NotFound(UCPError):
    title = "not found"


class Conflict(UCPError):
    title = "conflict"


class AuthError(UCPError):
    title = "unauthorized"


class Forbidden(AuthError):
    title = "forbidden"


class ConsentRequired(Forbidden):
    """Data asked for a purpose the person has not consented to (403)."""

    title = "consent required"


class StoreError(UCPError):
    title = "store error"
