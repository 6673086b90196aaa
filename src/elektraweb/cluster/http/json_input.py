"""JSON a client sent, over REST or ZWS: UTF-8, no deeper than `MAX_DEPTH`, no NaN, and no
lone surrogate anywhere. Every refusal is a `BadRequest` (400) that names the problem, raised
before the request reaches a handler, so nothing is applied, audited or published."""

from __future__ import annotations

import json

from elektraweb.cluster.api.errors import BadRequest
from elektraweb.kdb.key import lone_surrogate
from elektraweb.wire.json_value import JSON

MAX_DEPTH = 64
"""Most nested arrays/objects in one JSON document; requests need fewer than 5."""

_UTF8_NAMES = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})


def check_charset(charset: str | None) -> None:
    """Bodies are UTF-8 (RFC 8259); any other declared charset is refused, not guessed at."""
    if charset is not None and charset.lower() not in _UTF8_NAMES:
        raise BadRequest(f"charset {charset!r} is not supported: send the body as UTF-8")


def decode_utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"{what} is not UTF-8: {error.reason} at byte {error.start}") from None


def _refuse_constant(name: str) -> None:
    # Python reads NaN and Infinity, which are not JSON and which the daemon link refuses.
    raise ValueError(f"{name} is not a JSON value")


# Built once, as in wire.encoding: json.loads(parse_constant=...) builds a decoder per call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def loads(data: bytes, what: str) -> JSON:
    """Parse `data` as one JSON document of at most `MAX_DEPTH` levels."""
    text = decode_utf8(data, what)
    try:
        value: JSON = _DECODER.decode(text)
    except json.JSONDecodeError as error:
        raise BadRequest(f"{what} is not JSON: {error}") from None
    except RecursionError:
        raise BadRequest(f"{what} nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:
        raise BadRequest(f"{what} is not JSON: {error}") from None
    _check_depth(value, what)
    return value


def _check_depth(value: JSON, what: str) -> None:
    level: list[object] = [value]
    for _ in range(MAX_DEPTH):
        level = [
            child
            for item in level
            if isinstance(item, (dict, list))
            for child in (item.values() if isinstance(item, dict) else item)
        ]
        if not level:
            return
    if any(isinstance(item, (dict, list)) for item in level):
        raise BadRequest(f"{what} nests deeper than {MAX_DEPTH} levels")


def refuse_lone_surrogates(value: object, what: str) -> None:
    """A string with a lone surrogate (JSON's ``"\\ud800"``) has no UTF-8 form: no file, log
    or reply could hold it. The error names where it is, e.g. ``body.keys[2].value``."""
    pending: list[tuple[str, object]] = [(what, value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            _check_text(item, path)
        elif isinstance(item, dict):
            for member, child in item.items():
                _check_text(member, f"{path} member name {member!r}")
                pending.append((f"{path}.{member}", child))
        elif isinstance(item, list):
            pending.extend((f"{path}[{index}]", child) for index, child in enumerate(item))


def _check_text(text: str, path: str) -> None:
    found = lone_surrogate(text)
    if found is not None:
        raise BadRequest(f"{path} holds a lone surrogate {found}, which has no UTF-8 form")
