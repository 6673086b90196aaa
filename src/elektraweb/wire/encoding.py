"""The strict JSON encoding of the daemon link's requests, replies and events.

The format is specified in docs/protocol.md; decoding refuses anything that does not match it
with a `RemoteError` whose code says how a peer should be answered.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from elektraweb.wire.errors import ErrorCode, RemoteError, bad_request
from elektraweb.wire.json_value import JSON
from elektraweb.wire.messages import (
    MAX_REQUEST_ID_BYTES,
    OPERATION_NAMES,
    PROTOCOL_VERSION,
    AnyEvent,
    Event,
    KeyState,
    Reply,
    Request,
    SubtreeEvent,
)

logger = logging.getLogger(__name__)


def _shown(value: object) -> str:
    """`value` for an error message: a peer's garbage can be megabytes long."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _dumps(body: Mapping[str, object]) -> bytes:
    text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    try:
        return text.encode()
    except UnicodeEncodeError:
        # A lone surrogate (JSON allows "\ud800") has no UTF-8 form; escaped, it round-trips.
        return json.dumps(body, allow_nan=False, separators=(",", ":")).encode()


class _NotJson(ValueError):
    pass


def _refuse_constant(name: str) -> None:
    # Python's json reads NaN and Infinity, which are not JSON and could not be answered.
    raise _NotJson(f"{name} is not a JSON value")


# One decoder for every message: json.loads with an option builds a new one (and its scanner)
# per call, a measurable share of a request.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _loads_object(data: bytes, what: str) -> dict[str, JSON]:
    try:
        body = _DECODER.decode(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise bad_request(f"{what} is not UTF-8: {error.reason} at byte {error.start}") from None
    except json.JSONDecodeError as error:
        raise bad_request(f"{what} is not JSON: {error.msg} at offset {error.pos}") from None
    except _NotJson as error:
        raise bad_request(f"{what} is not JSON: {error}") from None
    except RecursionError:
        raise bad_request(f"{what} nests too deeply") from None
    if not isinstance(body, dict):
        raise bad_request(f"{what} must be a JSON object, got {type(body).__name__}")
    return body


def _check_members(
    body: Mapping[str, object], required: set[str], optional: set[str], what: str
) -> None:
    missing = sorted(required - body.keys())
    if missing:
        raise bad_request(f"{what} lacks member {_shown(missing[0])}")
    extra = sorted(body.keys() - required - optional)
    if extra:
        raise bad_request(f"{what} has unknown member {_shown(extra[0])}")


def _check_version(body: Mapping[str, object], what: str) -> None:
    if "v" not in body:
        raise bad_request(f"{what} lacks member 'v'")
    version = body["v"]
    if type(version) is not int:
        raise bad_request(f"{what} member 'v' must be an integer, got {_shown(version)}")
    if version != PROTOCOL_VERSION:
        raise RemoteError(
            ErrorCode.UNSUPPORTED_VERSION,
            f"protocol version {version} is not supported; this side speaks {PROTOCOL_VERSION}",
        )


def _typed(body: Mapping[str, object], name: str, kind: type | tuple[type, ...], what: str) -> Any:
    # The isinstance check below is the type: mypy cannot tie a tuple of types to the result.
    value = body[name]
    # bool is an int in Python, but never a valid int on the wire.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise bad_request(f"{what} member {name!r} has the wrong type: {_shown(value)}")
    return value


def _check_request_id(request_id: bytes) -> None:
    if not 1 <= len(request_id) <= MAX_REQUEST_ID_BYTES:
        raise bad_request(
            f"request id must be 1 to {MAX_REQUEST_ID_BYTES} bytes, got {len(request_id)}"
        )


def encode_request(request: Request) -> list[bytes]:
    """The frames a DEALER sends: [request id, body]."""
    body = {"v": PROTOCOL_VERSION, "op": request.op, "args": request.args}
    return [request.id, _dumps(body)]


def decode_request(request_id: bytes, body: bytes) -> Request:
    """Validate one request body (size already checked); raises `RemoteError`."""
    _check_request_id(request_id)
    message = _loads_object(body, "request body")
    _check_version(message, "request body")
    _check_members(message, {"v", "op", "args"}, set(), "request body")
    op = _typed(message, "op", str, "request body")
    if op not in OPERATION_NAMES:
        raise bad_request(f"unknown operation {_shown(op)}")
    args = _typed(message, "args", dict, "request body")
    return Request(request_id, op, args)


def encode_reply(reply: Reply) -> bytes:
    """The reply body; raises TypeError/ValueError if the result is not JSON."""
    if reply.error is not None:
        body = {"v": PROTOCOL_VERSION, "ok": False, "error": reply.error.to_json()}
    else:
        body = {"v": PROTOCOL_VERSION, "ok": True, "result": reply.result}
    return _dumps(body)


def encode_reply_within(reply: Reply, request: Request, limit: int) -> bytes:
    """The reply body to `request`, or an error body if it is not JSON or over `limit` bytes."""
    try:
        body = encode_reply(reply)
    except (TypeError, ValueError) as error:
        logger.error("the result of %s %s is not JSON: %s", request.op, request.key, error)
        message = f"the result of {request.op} could not be encoded"
        return encode_reply(Reply(error=RemoteError(ErrorCode.INTERNAL, message)))
    if len(body) <= limit:
        return body
    message = (
        f"the reply to {request.op} would have {len(body)} bytes, the limit is {limit};"
        " ask for less (depth, limit, a smaller subtree)"
    )
    return encode_reply(Reply(error=RemoteError(ErrorCode.TOO_LARGE, message, key=request.key)))


def _decode_error(error: JSON) -> RemoteError:
    if not isinstance(error, dict):
        raise bad_request(f"reply member 'error' must be an object, got {_shown(error)}")
    _check_members(error, {"code", "message"}, {"key", "elektra"}, "reply error")
    code = _typed(error, "code", str, "reply error")
    if code not in ErrorCode.__members__.values():
        raise bad_request(f"reply error has unknown code {_shown(code)}")
    optional = {
        name: _typed(error, name, str, "reply error")
        for name in ("key", "elektra")
        if name in error
    }
    return RemoteError(code, _typed(error, "message", str, "reply error"), **optional)


def decode_reply(body: bytes) -> Reply:
    """Validate one reply body; raises `RemoteError` (bad-request) if it is malformed."""
    message = _loads_object(body, "reply body")
    _check_version(message, "reply body")
    ok = message.get("ok")
    if ok is True:
        _check_members(message, {"v", "ok", "result"}, set(), "reply body")
        return Reply(result=message["result"])
    if ok is False:
        _check_members(message, {"v", "ok", "error"}, set(), "reply body")
        return Reply(error=_decode_error(message["error"]))
    raise bad_request(f"reply member 'ok' must be true or false, got {_shown(ok)}")


def _state_json(state: KeyState | None) -> dict[str, object] | None:
    return None if state is None else {"value": state.value, "meta": state.meta}


def _decode_state(state: JSON, name: str) -> KeyState | None:
    if state is None:
        return None
    if not isinstance(state, dict):
        raise bad_request(f"event member {name!r} must be an object or null, got {_shown(state)}")
    _check_members(state, {"value", "meta"}, set(), f"event {name!r}")
    value = _typed(state, "value", (str, type(None)), f"event {name!r}")
    meta = _typed(state, "meta", dict, f"event {name!r}")
    if not all(isinstance(v, str) for v in meta.values()):
        raise bad_request(f"event {name!r} metadata values must be strings")
    return KeyState(value, meta)


def encode_event(event: AnyEvent) -> list[bytes]:
    """The frames a PUB sends: [topic, body]."""
    body: dict[str, Any] = {"v": PROTOCOL_VERSION, "seq": event.seq}
    if isinstance(event, SubtreeEvent):
        body.update(
            subtree=event.key,
            created=event.created,
            changed=event.changed,
            removed=event.removed,
            origin=event.origin,
        )
    else:
        body.update(
            key=event.key,
            old=_state_json(event.old),
            new=_state_json(event.new),
            revision=event.revision,
            origin=event.origin,
        )
    return [event.topic, _dumps(body)]


def decode_event(frames: list[bytes]) -> AnyEvent:
    """Validate one event message; raises `RemoteError` (bad-request) if it is malformed."""
    if len(frames) != 2:
        raise bad_request(f"an event has 2 frames [topic, body], got {len(frames)}")
    message = _loads_object(frames[1], "event body")
    _check_version(message, "event body")
    event: AnyEvent
    if "subtree" in message:
        event = _decode_subtree_event(message)
    else:
        members = {"v", "seq", "key", "old", "new", "revision", "origin"}
        _check_members(message, members, set(), "event body")
        event = Event(
            key=_typed(message, "key", str, "event body"),
            old=_decode_state(message["old"], "old"),
            new=_decode_state(message["new"], "new"),
            revision=_typed(message, "revision", (str, type(None)), "event body"),
            origin=_typed(message, "origin", str, "event body"),
            seq=_typed(message, "seq", int, "event body"),
        )
    if frames[0] != event.topic:
        raise bad_request(
            f"event topic {_shown(frames[0])} does not match its key {_shown(event.key)}"
        )
    return event


def _decode_subtree_event(message: dict[str, Any]) -> SubtreeEvent:
    members = {"v", "seq", "subtree", "created", "changed", "removed", "origin"}
    _check_members(message, members, set(), "event body")
    counts = {}
    for name in ("created", "changed", "removed"):
        counts[name] = _typed(message, name, int, "event body")
        if counts[name] < 0:
            raise bad_request(f"event body member {name!r} must not be negative")
    return SubtreeEvent(
        key=_typed(message, "subtree", str, "event body"),
        origin=_typed(message, "origin", str, "event body"),
        seq=_typed(message, "seq", int, "event body"),
        **counts,
    )
