"""NATS JetStream as the message log: publish with server acks, consume with a durable pull
consumer in batches (at-least-once; the worker's inbox makes redeliveries harmless).

Stream `UCP_MESSAGES` (configurable) holds subjects `ucp.messages.<source>`; each message is the
normalized collector payload as JSON, with `Nats-Msg-Id: <source>:<messageId>` so JetStream's
duplicate window also drops quick retries. Only nats-server 2.9 features are used.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

_SUBJECT_SAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True, slots=True)
class BusMessage:
    """One consumed message: its source, payload and the handle to acknowledge it."""

    source: str
    payload: dict[str, Any]
    handle: Any


def subject_for(prefix: str, source: str) -> str:
    return f"{prefix}.{_SUBJECT_SAFE.sub('_', source)}"


class NatsLog:
    """Connects to NATS, makes sure the stream exists, publishes and consumes."""

    def __init__(self, url: str, stream: str = "UCP_MESSAGES",
                 subject_prefix: str = "ucp.messages") -> None:
        self.url = url
        self.stream = stream
        self.prefix = subject_prefix
        self._nc: Any = None
        self._js: Any = None
        self._sub: Any = None

    async def connect(self) -> None:
        import nats

        self._nc = await nats.connect(
            self.url, max_reconnect_attempts=-1, reconnect_time_wait=0.5, name="ucp"
        )
        self._js = self._nc.jetstream()
        await self.ensure_stream()

    async def ensure_stream(self) -> None:
        from nats.js.errors import NotFoundError

        try:
            await self._js.stream_info(self.stream)
        except NotFoundError:
            await self._js.add_stream(name=self.stream, subjects=[f"{self.prefix}.>"],
                                      storage="file", duplicate_window=120.0)

    async def append(self, source: str, messages: Sequence[dict[str, Any]]) -> int:
        """Publish every message and wait for all the server acks (durable when this returns)."""
        subject = subject_for(self.prefix, source)
        futures = []
        for m in messages:
            body = orjson.dumps({"source": source, "message": m})
            futures.append(await self._js.publish_async(
                subject, body, headers={"Nats-Msg-Id": f"{source}:{m['messageId']}"}
            ))
        acks = await asyncio.gather(*futures)
        return sum(1 for a in acks if not getattr(a, "duplicate", False))

    async def subscribe(self, durable: str, ack_wait: float = 60.0) -> None:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=ack_wait,
                                deliver_policy=DeliverPolicy.ALL, max_ack_pending=20000)
        self._sub = await self._js.pull_subscribe(
            f"{self.prefix}.>", durable=durable, stream=self.stream, config=config
        )

    async def fetch(self, batch: int, timeout: float = 1.0) -> list[BusMessage]:
        """Up to `batch` messages, or none after `timeout` seconds."""
        from nats.errors import TimeoutError as NatsTimeout

        try:
            msgs = await self._sub.fetch(batch, timeout=timeout)
        except (TimeoutError, NatsTimeout):
            return []
        out = []
        for msg in msgs:
            data = orjson.loads(msg.data)
            out.append(BusMessage(data["source"], data["message"], msg))
        return out

    @staticmethod
    async def ack(messages: Sequence[BusMessage]) -> None:
        await asyncio.gather(*(m.handle.ack() for m in messages))

    async def delete_stream(self) -> None:
        await self._js.delete_stream(self.stream)

    async def close(self) -> None:
        if self._nc is not None:
            await self._nc.close()
            self._nc = None
