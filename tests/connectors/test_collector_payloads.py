"""Segment payload decoding and validation: limits, gzip, field-named problems."""

from __future__ import annotations

import gzip

import orjson
import pytest

from ucp.connectors.collector import (
    PayloadTooLarge,
    UnreadableBody,
    decode_body,
    validate_batch,
    validate_message,
)

NOW = "2024-06-01T12:00:00+00:00"


def test_gzip_bodies_are_decoded_and_bombs_refused() -> None:
    body = orjson.dumps({"batch": []})
    assert decode_body(gzip.compress(body), "gzip") == {"batch": []}
    with pytest.raises(PayloadTooLarge):
        decode_body(gzip.compress(b" " * 600_000 + b"{}"), "gzip")
    with pytest.raises(UnreadableBody):
        decode_body(b"not gzip", "gzip")
    with pytest.raises(UnreadableBody):
        decode_body(b"{", None)


def test_a_valid_track_is_normalized() -> None:
    msg, problems = validate_message({"userId": 42, "event": "Signed Up"}, "track", "", NOW)
    assert problems == [] and msg is not None
    assert msg["type"] == "track" and msg["userId"] == "42"
    assert msg["messageId"].startswith("h-") and msg["timestamp"] == NOW
    again, _ = validate_message({"userId": 42, "event": "Signed Up"}, "track", "", NOW)
    assert again is not None and again["messageId"] == msg["messageId"]  # retries dedupe


@pytest.mark.parametrize(("msg", "field", "reason"), [
    ({"type": "track", "event": "x"}, "batch[0].userId", "userId or anonymousId is required"),
    ({"type": "track", "userId": "u"}, "batch[0].event", "event is required for track"),
    ({"type": "nope", "userId": "u"}, "batch[0].type", None),
    ({"type": "group", "userId": "u"}, "batch[0].groupId", "groupId is required for group"),
    ({"type": "alias", "userId": "u"}, "batch[0].previousId", "previousId is required for alias"),
    ({"type": "identify", "userId": {"a": 1}}, "batch[0].userId", "must be a string"),
    ({"type": "identify", "userId": "u", "traits": []}, "batch[0].traits",
     "must be a JSON object"),
    ({"type": "identify", "userId": "u", "timestamp": "yesterday"}, "batch[0].timestamp",
     "must be an ISO 8601 date-time"),
    ({"type": "identify", "userId": "u", "traits": {"x": "y" * 33_000}}, "batch[0]",
     "message exceeds 32 KB"),
])
def test_bad_messages_are_named_by_field(msg: dict, field: str, reason: str | None) -> None:
    accepted, rejected = validate_batch({"batch": [msg]}, None, NOW)
    assert accepted == []
    assert rejected[0].field == field and rejected[0].index == 0
    if reason:
        assert rejected[0].reason == reason


def test_a_bad_message_does_not_drop_the_good_ones() -> None:
    batch = [{"type": "identify", "userId": "u1"}, {"type": "track"},
             {"type": "page", "anonymousId": "a1"}]
    accepted, rejected = validate_batch({"batch": batch, "context": {"ip": "1"}}, None, NOW)
    assert [m["type"] for m in accepted] == ["identify", "page"]
    assert [(r.index, r.field) for r in rejected] == [(1, "batch[1].userId"),
                                                     (1, "batch[1].event")]
    assert accepted[0]["context"] == {"ip": "1"}  # batch context merged into each message


def test_a_batch_must_be_a_list() -> None:
    with pytest.raises(UnreadableBody) as info:
        validate_batch({"batch": {}}, None, NOW)
    assert info.value.field == "batch"
