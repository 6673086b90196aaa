"""From changes to published events, in the order the KDB worker made or found them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from elektraweb.instance.context import Change
from elektraweb.instance.representation import key_revision, key_state
from elektraweb.wire.messages import Event

logger = logging.getLogger(__name__)

EXTERNAL = "external"
DAEMON = "elektrad"


def origin_of(cluster: str | None) -> str:
    """The event origin of a request: ``cluster:<id>`` for a cluster operation."""
    return DAEMON if cluster is None else f"cluster:{cluster}"


def event_of(change: Change, origin: str) -> Event:
    return Event(
        key=change.key,
        old=key_state(change.old),
        new=key_state(change.new),
        revision=key_revision(change.new),
        origin=origin,
    )


class EventStream:
    """A queue of events filled from the KDB worker thread and drained by one publisher task,
    so events leave in exactly the order their changes happened."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()

    def submit(self, changes: Iterable[Change], origin: str) -> None:
        """Queue the events of ``changes``; safe to call from any thread."""
        events = [event_of(change, origin) for change in changes]
        self._loop.call_soon_threadsafe(self._enqueue, events)

    def _enqueue(self, events: list[Event]) -> None:
        for event in events:
            self._queue.put_nowait(event)

    def close(self) -> None:
        """Let :meth:`run` return once the events queued so far are published."""
        self._loop.call_soon_threadsafe(self._queue.put_nowait, None)

    async def flushed(self) -> None:
        """Wait until every event queued so far has been published."""
        await self._queue.join()

    async def run(self, publish: Callable[[Event], Awaitable[object]]) -> None:
        while True:
            event = await self._queue.get()
            try:
                if event is None:
                    return
                await publish(event)
            except Exception:
                logger.exception("could not publish the change of %s", event and event.key)
            finally:
                self._queue.task_done()
