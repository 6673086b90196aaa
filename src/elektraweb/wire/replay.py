"""The server's memory of recent request ids, which makes retried requests idempotent."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field


def body_digest(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=16).digest()


@dataclass(slots=True)
class Execution:
    """One request id: its body's digest, the clients waiting for it, then its reply."""

    digest: bytes
    waiters: list[bytes] = field(default_factory=list)
    reply: bytes | None = None


class ReplayCache:
    """Request ids being executed, and the replies of the most recent finished ones.

    Finished replies are forgotten oldest first once there are more than `max_entries` of them
    or together they exceed `max_bytes`; running executions are always remembered.
    """

    def __init__(self, *, max_entries: int, max_bytes: int) -> None:
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._running: dict[bytes, Execution] = {}
        self._finished: OrderedDict[bytes, Execution] = OrderedDict()
        self._finished_bytes = 0

    def get(self, request_id: bytes) -> Execution | None:
        return self._running.get(request_id) or self._finished.get(request_id)

    def begin(self, request_id: bytes, digest: bytes, routing_id: bytes) -> Execution:
        execution = Execution(digest, [routing_id])
        self._running[request_id] = execution
        return execution

    def finish(self, request_id: bytes, reply: bytes) -> list[bytes]:
        """Record the reply; returns the routing ids of everyone who asked meanwhile."""
        execution = self._running.pop(request_id)
        execution.reply = reply
        waiters, execution.waiters = execution.waiters, []
        self._finished[request_id] = execution
        self._finished_bytes += len(reply)
        while self._finished and (
            len(self._finished) > self._max_entries or self._finished_bytes > self._max_bytes
        ):
            _, evicted = self._finished.popitem(last=False)
            self._finished_bytes -= len(evicted.reply or b"")
        return waiters
