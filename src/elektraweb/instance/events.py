"""Changes as the protocol reports them: published events, in the order the KDB worker made
or found them, and the ``changes`` member of a write's reply (docs/protocol.md §4, §5).

A commit of a few keys is published key by key, with their values; a bigger one (an import, a
recursive remove, a file replaced on the host) as one `SubtreeEvent` per namespace it touched,
so that its subscribers read the subtree once instead of handling thousands of events."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from elektraweb.kdb.key import Key
from elektraweb.operations.bulk import COALESCE_ABOVE, subtree_events
from elektraweb.operations.representation import key_revision, key_state, state_json, wire_value
from elektraweb.operations.result import subject_first
from elektraweb.operations.store import KeyChange
from elektraweb.wire.messages import AnyEvent, Event

logger = logging.getLogger(__name__)

EXTERNAL = "external"
DAEMON = "elektrad"

# Bounds of a reply's `changes`: a recursive write may change 100k keys, and the reply must
# stay far below the message limit whatever the values weigh.
MAX_REPORTED_CHANGES = 1000
MAX_REPORTED_TEXT = 1 << 20  # characters of values and metadata, over all reported changes


def origin_of(cluster: str | None) -> str:
    """The event origin of a request: ``cluster:<id>`` for a cluster operation."""
    return DAEMON if cluster is None else f"cluster:{cluster}"


def event_of(change: KeyChange, origin: str) -> Event:
    return Event(
        key=change.key,
        old=key_state(change.old),
        new=key_state(change.new),
        revision=key_revision(change.new),
        origin=origin,
    )


def events_of(changes: Sequence[KeyChange], origin: str) -> list[AnyEvent]:
    """The events that publish one commit: one per key for up to `COALESCE_ABOVE` keys, else
    one `SubtreeEvent` per namespace, in the order the namespaces' first changes came."""
    if len(changes) <= COALESCE_ABOVE:
        return [event_of(change, origin) for change in changes]
    return [*subtree_events(changes, origin)]


class EventStream:
    """A queue of events filled from the KDB worker thread and drained by one publisher task,
    so events leave in exactly the order their changes happened. Each submitted batch of
    changes (one commit) may also be handed whole to ``commit`` (libelektra's feed)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[tuple[Sequence[KeyChange], list[AnyEvent]] | None] = (
            asyncio.Queue()
        )

    def submit(self, changes: Sequence[KeyChange], origin: str) -> None:
        """Queue the events of ``changes``; safe to call from any thread."""
        batch = (list(changes), events_of(changes, origin))
        self._loop.call_soon_threadsafe(self._queue.put_nowait, batch)

    def close(self) -> None:
        """Let :meth:`run` return once the events queued so far are published."""
        self._loop.call_soon_threadsafe(self._queue.put_nowait, None)

    async def flushed(self) -> None:
        """Wait until every event queued so far has been published."""
        await self._queue.join()

    async def run(
        self,
        publish: Callable[[AnyEvent], Awaitable[object]],
        commit: Callable[[Sequence[KeyChange]], Awaitable[object]] | None = None,
    ) -> None:
        while True:
            batch = await self._queue.get()
            try:
                if batch is None:
                    return
                changes, events = batch
                for event in events:
                    await self._publish_one(publish, event)
                if commit is not None:
                    await commit(changes)
            except Exception:
                logger.exception("could not send libelektra's notification of a commit")
            finally:
                self._queue.task_done()

    @staticmethod
    async def _publish_one(
        publish: Callable[[AnyEvent], Awaitable[object]], event: AnyEvent
    ) -> None:
        try:
            await publish(event)
        except Exception:
            logger.exception("could not publish the change of %s", event.key)


def with_changes(
    result: dict[str, Any], changes: Sequence[KeyChange], key: str, current: Key | None
) -> dict[str, Any]:
    """A write's ``result`` with its ``changes`` member: the request's ``key`` first (as
    ``current``, before and after alike, when the write left it unchanged), then the other
    changed keys in order, as many as the bounds allow (``changes_truncated`` when cut). The
    request's key is always reported: with digests instead of values too large to carry."""
    ordered = subject_first(changes, key, current)
    reported: list[dict[str, Any]] = []
    budget = MAX_REPORTED_TEXT
    for change in ordered:
        size = _text_size(change.old) + _text_size(change.new)
        if not reported and size > budget:
            reported.append(
                {"key": key, "old": _digest_json(change.old), "new": _digest_json(change.new)}
            )
            continue
        if len(reported) == MAX_REPORTED_CHANGES or size > budget:
            return {**result, "changes": reported, "changes_truncated": True}
        budget -= size
        reported.append(
            {"key": change.key, "old": state_json(change.old), "new": state_json(change.new)}
        )
    return {**result, "changes": reported}


def _digest_json(key: Key | None) -> dict[str, Any] | None:
    """A state whose value is replaced by its UTF-8 size and SHA-256 (docs/protocol.md §4)."""
    if key is None:
        return None
    value = wire_value(key)
    data = b"" if value is None else value.encode()
    digest = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return {"value_digest": digest, "meta": dict(key.meta)}


def _text_size(key: Key | None) -> int:
    if key is None:
        return 0
    value = key.value
    size = 0 if value is None else len(value) * (2 if isinstance(value, bytes) else 1)
    return size + sum(len(name) + len(text) for name, text in key.meta.items())
