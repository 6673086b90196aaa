"""Requests, replies and events of the daemon link (docs/protocol.md).

Their strict JSON encoding is `elektraweb.wire.encoding`; error replies are
`elektraweb.wire.errors`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from elektraweb.wire.errors import RemoteError

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
MAX_REQUEST_ID_BYTES = 64

OPERATION_NAMES = frozenset(
    {
        "version",
        "ping",
        "get",
        "ls",
        "explain",
        "set",
        "rm",
        "mv",
        "cp",
        "meta-set",
        "meta-rm",
        "meta-bulk",
        "set-all",
        "restore",
        "find",
        "export",
        "import",
        "mounts",
        "mount",
        "umount",
        "lock",
        "unlock",
    }
)


@dataclass(frozen=True, slots=True)
class Request:
    """One operation with its arguments; `id` is the request id frame (retries reuse it)."""

    id: bytes
    op: str
    args: Mapping[str, object] = field(default_factory=dict)

    @property
    def key(self) -> str | None:
        """The key the request is about, if it names one (for logs and locks)."""
        key = self.args.get("key")
        return key if isinstance(key, str) else None


@dataclass(frozen=True, slots=True)
class Reply:
    """The outcome of a request: a JSON result, or an error."""

    result: object = None
    error: RemoteError | None = None

    def unwrap(self) -> object:
        """The result, or the error raised."""
        if self.error is not None:
            raise self.error
        return self.result


class Handler(Protocol):
    """Executes one request. Raise `RemoteError` (or return an error `Reply`) to refuse it."""

    async def __call__(self, request: Request) -> Reply: ...


def pong() -> Reply:
    """The reply to `ping`, which the transport answers itself (docs/protocol.md §4)."""
    return Reply({"time": time.time()})


@dataclass(frozen=True, slots=True)
class KeyState:
    """A key's content at one moment, as carried in events."""

    value: str | None
    meta: dict[str, str]


@dataclass(frozen=True, slots=True)
class Event:
    """One changed key, published on the event socket under its name as topic."""

    key: str
    old: KeyState | None
    new: KeyState | None
    revision: str | None
    origin: str
    seq: int = 0

    @property
    def topic(self) -> bytes:
        return self.key.encode()


@dataclass(frozen=True, slots=True)
class SubtreeEvent:
    """Many keys changed by one commit, published once under `key`, the deepest name they
    are all at or below, instead of one `Event` per key (docs/protocol.md §5). It counts the
    keys that were created, changed and removed; whoever shows them reads them again."""

    key: str
    created: int
    changed: int
    removed: int
    origin: str
    seq: int = 0

    @property
    def topic(self) -> bytes:
        return self.key.encode()


AnyEvent = Event | SubtreeEvent
