"""Segment Tracking API payloads: decoding, limits and per-message validation (pure, no I/O).

A message that passes is *normalized*: its `type` is set, `userId`/`anonymousId`/`groupId` are
strings, it has a `messageId` (a content hash when the sender gave none, so a retried message
without one is still recognised) and a `receivedAt`. Problems name the field the way a sender
sees it — `batch[3].userId` — and never carry a value.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

MESSAGE_TYPES = ("identify", "track", "page", "screen", "group", "alias")
MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_ID_CHARS = 256
_OBJECT_FIELDS = ("traits", "properties", "context", "integrations")
_TIME_FIELDS = ("timestamp", "originalTimestamp", "sentAt")


class PayloadTooLarge(ValueError):
    """The body (or one single message) is over Segment's limits."""


class UnreadableBody(ValueError):
    """The body is not (gzipped) JSON, or not a JSON object; `field` names what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Rejection:
    """One message that was not accepted: its index in the batch (0 for single calls)."""

    index: int
    field: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "reason": self.reason}


def decode_body(raw: bytes, content_encoding: str | None, limit: int = MAX_BATCH_BYTES) -> Any:
    """The JSON value of a request body, gunzipped if needed, refusing more than `limit` bytes
    (also after decompression, so a small gzip bomb cannot blow up)."""
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
        try:
            inflater = zlib.decompressobj(wbits)
            raw = inflater.decompress(raw, limit + 1)
        except zlib.error:
            raise UnreadableBody("body", "Content-Encoding says gzip but the body is not") from None
    elif encoding not in ("", "identity"):
        raise UnreadableBody("Content-Encoding", f"unsupported encoding {encoding!r}")
    if len(raw) > limit:
        raise PayloadTooLarge(f"the body exceeds {limit // 1024} KB")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UnreadableBody("body", "not valid JSON") from None


def gzip_body(data: bytes) -> bytes:
    """gzip, as the Segment SDKs do with `gzip=True` (used by tests and the bench)."""
    return gzip.compress(data)


def _id(msg: dict[str, Any], name: str, where: str, out: list[tuple[str, str]]) -> str | None:
    value = msg.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        out.append((f"{where}{name}", "must be a string"))
        return None
    text = str(value).strip()
    if len(text) > MAX_ID_CHARS:
        out.append((f"{where}{name}", f"longer than {MAX_ID_CHARS} characters"))
        return None
    return text or None


def _valid_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def validate_message(
    msg: Any, implied_type: str | None, where: str, received_at: str
) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """Check one message; return the normalized message (or None) and `(field, reason)` pairs.

    `implied_type` is the route's type (`/v1/track` → track); a batch item carries its own.
    `where` prefixes field names, e.g. `batch[3].`.
    """
    problems: list[tuple[str, str]] = []
    if not isinstance(msg, dict):
        return None, [(where.rstrip(".") or "body", "must be a JSON object")]
    size = len(orjson.dumps(msg))
    if size > MAX_MESSAGE_BYTES:
        limit = MAX_MESSAGE_BYTES // 1024
        return None, [(where.rstrip(".") or "body", f"message exceeds {limit} KB")]
    msg_type = implied_type or msg.get("type")
    if not isinstance(msg_type, str) or msg_type.lower() not in MESSAGE_TYPES:
        return None, [(f"{where}type", f"must be one of {', '.join(MESSAGE_TYPES)}")]
    msg_type = msg_type.lower()
    out = dict(msg)
    out["type"] = msg_type
    user_id = _id(msg, "userId", where, problems)
    anonymous_id = _id(msg, "anonymousId", where, problems)
    for name, value in (("userId", user_id), ("anonymousId", anonymous_id)):
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    if msg_type == "alias":
        previous = _id(msg, "previousId", where, problems)
        if previous is None and not any(f.endswith("previousId") for f, _ in problems):
            problems.append((f"{where}previousId", "previousId is required for alias"))
        if user_id is None and not any(f.endswith("userId") for f, _ in problems):
            problems.append((f"{where}userId", "userId is required for alias"))
        if previous is not None:
            out["previousId"] = previous
    elif user_id is None and anonymous_id is None and not problems:
        problems.append((f"{where}userId", "userId or anonymousId is required"))
    if msg_type == "track":
        event = msg.get("event")
        if not isinstance(event, str) or not event.strip():
            problems.append((f"{where}event", "event is required for track"))
        elif len(event) > 128:
            problems.append((f"{where}event", "longer than 128 characters"))
    if msg_type == "group":
        group_id = _id(msg, "groupId", where, problems)
        if group_id is None and not any(f.endswith("groupId") for f, _ in problems):
            problems.append((f"{where}groupId", "groupId is required for group"))
        elif group_id is not None:
            out["groupId"] = group_id
    for name in _OBJECT_FIELDS:
        if name in msg and msg[name] is not None and not isinstance(msg[name], dict):
            problems.append((f"{where}{name}", "must be a JSON object"))
    for name in _TIME_FIELDS:
        if msg.get(name) not in (None, "") and not _valid_time(msg[name]):
            problems.append((f"{where}{name}", "must be an ISO 8601 date-time"))
    message_id = msg.get("messageId")
    if message_id in (None, ""):
        digest = hashlib.sha256(orjson.dumps(msg, option=orjson.OPT_SORT_KEYS)).hexdigest()
        out["messageId"] = f"h-{digest[:40]}"
    elif not isinstance(message_id, (str, int)) or isinstance(message_id, bool):
        problems.append((f"{where}messageId", "must be a string"))
    elif len(str(message_id)) > MAX_ID_CHARS:
        problems.append((f"{where}messageId", f"longer than {MAX_ID_CHARS} characters"))
    else:
        out["messageId"] = str(message_id)
    if problems:
        return None, problems
    if not out.get("timestamp"):
        out["timestamp"] = out.get("originalTimestamp") or received_at
    out["receivedAt"] = received_at
    return out, []


def validate_batch(
    body: Any, implied_type: str | None, received_at: str
) -> tuple[list[dict[str, Any]], list[Rejection]]:
    """A whole request: `/v1/batch` bodies (`{"batch": [...]}`) or one single message.

    Batch-level `context`/`integrations` are merged under each message's own, as Segment does.
    Raises UnreadableBody when the body itself is unusable.
    """
    if not isinstance(body, dict):
        raise UnreadableBody("body", "must be a JSON object")
    if implied_type is not None:
        msg, problems = validate_message(body, implied_type, "", received_at)
        return ([msg] if msg else []), [Rejection(0, f, r) for f, r in problems]
    items = body.get("batch")
    if not isinstance(items, list):
        raise UnreadableBody("batch", "must be a list of messages")
    shared = {k: body[k] for k in ("context", "integrations") if isinstance(body.get(k), dict)}
    accepted: list[dict[str, Any]] = []
    rejected: list[Rejection] = []
    for index, item in enumerate(items):
        if isinstance(item, dict) and shared:
            item = {**item, **{k: {**v, **(item.get(k) or {})} for k, v in shared.items()
                               if isinstance(item.get(k) or {}, dict)}}
        msg, problems = validate_message(item, None, f"batch[{index}].", received_at)
        if msg is None:
            rejected.extend(Rejection(index, f, r) for f, r in problems)
        else:
            accepted.append(msg)
    return accepted, rejected
