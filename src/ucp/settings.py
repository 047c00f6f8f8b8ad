"""Runtime settings from the environment (`UCP_*`) or the CLI; never read at import time."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ucp.errors import ConfigError

_UNUSABLE_SECRETS = frozenset({"", "changeme", "change-me", "secret", "ucp", "password"})


class Settings(BaseSettings):
    """Where the store lives, which ucp.yaml to use, and the secrets.

    Example: `Settings(database_url="sqlite:///ucp.db", config_path=Path("ucp.yaml"))`.
    """

    model_config = SettingsConfigDict(env_prefix="UCP_", extra="ignore")

    database_url: str = Field(
        "sqlite:///ucp.db", description="SQLAlchemy URL: sqlite:///file.db or postgresql://…"
    )
    config_path: Path = Field(Path("ucp.yaml"), description="path of ucp.yaml")
    secret_key: SecretStr | None = Field(
        None, description="keyed hashing secret (suppression list); no default on purpose"
    )
    log_level: str = "INFO"

    def require_secret(self) -> bytes:
        """The secret key, refusing a missing or well-known value."""
        value = self.secret_key.get_secret_value() if self.secret_key else ""
        if value.strip().lower() in _UNUSABLE_SECRETS or len(value) < 16:
            raise ConfigError(
                "UCP_SECRET_KEY is not set or too weak: set at least 16 random characters"
            )
        return value.encode()
