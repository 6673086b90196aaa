"""Strict encoding and decoding of requests, replies and events."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from elektraweb.wire import ErrorCode, Event, KeyState, RemoteError, Reply, Request, SubtreeEvent
from elektraweb.wire.encoding import (
    decode_event,
    decode_reply,
    decode_request,
    encode_event,
    encode_reply,
    encode_request,
)


def refusal(call: Callable[..., object], *args: object) -> RemoteError:
    with pytest.raises(RemoteError) as caught:
        call(*args)
    return caught.value


def test_request_round_trip() -> None:
    request = Request(b"r1", "set", {"key": "user:/a", "value": "ü", "meta": {"x": "1"}})
    frames = encode_request(request)
    assert json.loads(frames[1]) == {"v": 1, "op": "set", "args": request.args}
    assert decode_request(*frames) == request


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b"\xff", "not UTF-8"),
        (b"{", "not JSON"),
        (b"[]", "must be a JSON object, got list"),
        (b'{"op": "get", "args": {}}', "lacks member 'v'"),
        (b'{"v": true, "op": "get", "args": {}}', "'v' must be an integer"),
        (b'{"v": 1, "args": {}}', "lacks member 'op'"),
        (b'{"v": 1, "op": "get"}', "lacks member 'args'"),
        (b'{"v": 1, "op": "get", "args": {}, "x": 1}', "unknown member 'x'"),
        (b'{"v": 1, "op": 7, "args": {}}', "member 'op' has the wrong type"),
        (b'{"v": 1, "op": "format-disk", "args": {}}', "unknown operation 'format-disk'"),
        (b'{"v": 1, "op": "get", "args": []}', "member 'args' has the wrong type"),
        (b"[" * 100000, "nests too deeply"),
        (b'{"v": 1, "op": "get", "args": {"n": NaN}}', "NaN is not a JSON value"),
    ],
)
def test_malformed_request_is_a_bad_request_saying_what_is_wrong(
    body: bytes, complaint: str
) -> None:
    error = refusal(decode_request, b"id", body)
    assert error.code is ErrorCode.BAD_REQUEST
    assert complaint in error.message


def test_lone_surrogates_round_trip_as_json_escapes() -> None:
    request = decode_request(b"id", b'{"v": 1, "op": "get", "args": {"key": "user:/\\ud800"}}')
    assert request.args["key"] == "user:/\ud800"
    assert decode_reply(encode_reply(Reply(request.args))).unwrap() == request.args


def test_error_messages_quote_long_garbage_briefly() -> None:
    body = json.dumps({"v": 1, "op": "x" * 100_000, "args": {}}).encode()
    error = refusal(decode_request, b"id", body)
    assert error.message.startswith("unknown operation 'xxx")
    assert len(error.message) < 120


def test_other_protocol_version_is_unsupported() -> None:
    error = refusal(decode_request, b"id", b'{"v": 2, "op": "get", "args": {}}')
    assert error.code is ErrorCode.UNSUPPORTED_VERSION
    assert "2" in error.message


@pytest.mark.parametrize("request_id", [b"", b"x" * 65])
def test_request_id_must_be_1_to_64_bytes(request_id: bytes) -> None:
    error = refusal(decode_request, request_id, b'{"v": 1, "op": "get", "args": {}}')
    assert "request id must be 1 to 64 bytes" in error.message


def test_replies_round_trip_results_and_errors() -> None:
    assert decode_reply(encode_reply(Reply({"exists": False}))).unwrap() == {"exists": False}
    error = RemoteError("validation", "port 'x' is not a number", key="user:/p", elektra="C03100")
    decoded = decode_reply(encode_reply(Reply(error=error)))
    assert decoded.error is not None
    assert decoded.error.to_json() == error.to_json()
    with pytest.raises(RemoteError, match="not a number"):
        decoded.unwrap()


def test_error_json_leaves_out_absent_members() -> None:
    assert RemoteError("not-found", "no key").to_json() == {
        "code": "not-found",
        "message": "no key",
    }


@pytest.mark.parametrize(
    "body",
    [
        b'{"v": 1, "ok": "yes", "result": 1}',
        b'{"v": 1, "ok": true}',
        b'{"v": 1, "ok": false, "error": {"code": "oops", "message": "m"}}',
        b'{"v": 1, "ok": false, "error": {"code": "internal"}}',
        b'{"v": 1, "ok": false, "error": {"code": "internal", "message": "m", "key": 5}}',
    ],
)
def test_malformed_reply_is_refused(body: bytes) -> None:
    assert refusal(decode_reply, body).code is ErrorCode.BAD_REQUEST


def test_event_round_trip_with_its_key_as_topic() -> None:
    event = Event(
        "user:/app/port",
        KeyState("80", {}),
        KeyState("8080", {"check/type": "long"}),
        "abc",
        "external",
        seq=4,
    )
    frames = encode_event(event)
    assert frames[0] == b"user:/app/port"
    assert decode_event(frames) == event


def test_subtree_event_round_trip_with_its_subtree_as_topic() -> None:
    event = SubtreeEvent("user:/app", created=5000, changed=2, removed=1, origin="external", seq=9)
    frames = encode_event(event)
    assert frames[0] == b"user:/app"
    assert json.loads(frames[1]) == {
        "v": 1,
        "seq": 9,
        "subtree": "user:/app",
        "created": 5000,
        "changed": 2,
        "removed": 1,
        "origin": "external",
    }
    assert decode_event(frames) == event


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"created": -1}, "'created' must not be negative"),
        ({"removed": "3"}, "'removed' has the wrong type"),
        ({"key": "user:/app"}, "unknown member 'key'"),
        ({"subtree": "user:/other"}, "does not match"),
    ],
)
def test_malformed_subtree_event_is_refused(change: dict[str, object], problem: str) -> None:
    frames = encode_event(SubtreeEvent("user:/app", 1, 0, 0, "elektrad"))
    body = {**json.loads(frames[1]), **change}
    assert problem in refusal(decode_event, [frames[0], json.dumps(body).encode()]).message


def test_event_whose_topic_differs_from_its_key_is_refused() -> None:
    frames = encode_event(Event("user:/a", None, KeyState(None, {}), None, "elektrad"))
    error = refusal(decode_event, [b"user:/b", frames[1]])
    assert "does not match" in error.message


def test_event_with_a_bad_state_is_refused() -> None:
    frames = encode_event(Event("user:/a", None, KeyState("1", {}), "r", "elektrad"))
    body = json.loads(frames[1])
    body["new"]["meta"] = {"x": 1}
    error = refusal(decode_event, [frames[0], json.dumps(body).encode()])
    assert "metadata values must be strings" in error.message
