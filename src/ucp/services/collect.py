"""The collector use case: which source a write key selects, what a request carries, and the
durable log every accepted message is committed to before the sender hears 200.

Two logs implement `append`: `InboxLog` (the store's own `inbox` table — the embedded default)
and `connectors.nats_bus.NatsLog` (NATS JetStream, acknowledged by the server).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ucp.config import UCPConfig
from ucp.connectors.collector import Rejection, decode_body, validate_batch
from ucp.errors import AuthError, Forbidden
from ucp.store.store import Store


@dataclass(frozen=True, slots=True)
class Collected:
    """A request after validation: the messages to log and the ones refused."""

    source: str
    messages: list[dict[str, Any]]
    rejected: list[Rejection]


class Collector:
    """Authenticates write keys and validates Segment payloads (no I/O)."""

    def __init__(self, config: UCPConfig) -> None:
        self.config = config
        self._keys = {
            source.write_key: name
            for name, source in config.sources.items()
            if source.write_key
        }

    def source_for(self, write_key: str | None) -> str:
        """The source a write key selects; AuthError when missing or unknown."""
        if not write_key:
            raise AuthError("missing write key (HTTP Basic user name, or writeKey in the body)")
        name = self._keys.get(write_key)
        if name is None:
            raise AuthError("unknown write key")
        if self.config.sources[name].kind != "segment":
            raise Forbidden(f"source {name!r} is not of kind 'segment'")
        return name

    def collect(
        self, raw: bytes, content_encoding: str | None, implied_type: str | None,
        header_key: str | None, received_at: datetime | None = None,
    ) -> Collected:
        """Decode, authenticate (header key first, then `writeKey` in the body) and validate.

        Raises PayloadTooLarge / UnreadableBody (connectors.collector) and AuthError.
        """
        body = decode_body(raw, content_encoding)
        body_key = body.get("writeKey") if isinstance(body, dict) else None
        source = self.source_for(header_key or (body_key if isinstance(body_key, str) else None))
        when = (received_at or datetime.now(UTC)).isoformat()
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k != "writeKey"}
        messages, rejected = validate_batch(body, implied_type, when)
        return Collected(source, messages, rejected)


class InboxLog:
    """The embedded log: one transaction per request into the `inbox` table; a known
    `(source, messageId)` is skipped, so a retried request is logged once."""

    def __init__(self, store: Store, on_commit: Callable[[], None] | None = None) -> None:
        self.store = store
        self.on_commit = on_commit

    def append(self, source: str, messages: Sequence[dict[str, Any]]) -> int:
        """Commit the messages; returns how many were new."""
        if not messages:
            return 0
        rows = [
            {
                "source": source,
                "message_id": m["messageId"],
                "type": m["type"],
                "payload": m,
                "received_at": datetime.fromisoformat(m["receivedAt"]),
            }
            for m in {m["messageId"]: m for m in messages}.values()
        ]
        with self.store.write() as tx:
            new = tx.inbox_insert(rows)
        if self.on_commit is not None:
            self.on_commit()
        return len(new)


#: environment variable through which `ucp serve --bus` reaches every server process
BUS_ENV = "UCP_BUS"


def bus_url(config: UCPConfig, environ: dict[str, str] | None = None) -> str | None:
    """The bus the collector logs to: `UCP_BUS` (set by `ucp serve --bus`), else ucp.yaml's
    `collector.bus`, else None (the inbox table)."""
    import os

    env = os.environ if environ is None else environ
    return env.get(BUS_ENV) or config.collector.bus
