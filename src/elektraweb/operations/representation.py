"""Keys as the protocol carries them: text values, binary ones base64-encoded, revisions."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from elektraweb.kdb.key import Key
from elektraweb.wire.errors import ErrorCode, RemoteError
from elektraweb.wire.messages import KeyState
from elektraweb.wire.revision import revision

BINARY_META = "binary"


def wire_value(key: Key) -> str | None:
    """The value as sent: text as is, a binary key's bytes as base64 (docs/protocol.md §3)."""
    value = key.value
    if value is None:
        return None
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if BINARY_META in key.meta:
        return base64.b64encode(value.encode()).decode("ascii")
    return value


def key_from_wire(name: str, value: str | None, meta: Mapping[str, str]) -> Key:
    """A key from its protocol form; a binary key's value must be valid base64."""
    if value is not None and BINARY_META in meta:
        try:
            return Key(name, base64.b64decode(value, validate=True), meta)
        except (binascii.Error, ValueError):
            raise RemoteError(
                ErrorCode.VALIDATION,
                f"key {name} is binary, so its value must be base64 text: got {value[:40]!r}",
                key=name,
            ) from None
    return Key(name, value, meta)


def key_revision(key: Key | None) -> str | None:
    """The protocol revision of ``key``; None for a key that does not exist."""
    return None if key is None else revision(wire_value(key), key.meta)


def key_state(key: Key | None) -> KeyState | None:
    return None if key is None else KeyState(wire_value(key), dict(key.meta))


def state_json(key: Key | None) -> dict[str, Any] | None:
    """``{value, meta}`` as replies, events and the audit log show a key; None for a missing
    one."""
    return None if key is None else {"value": wire_value(key), "meta": dict(key.meta)}
