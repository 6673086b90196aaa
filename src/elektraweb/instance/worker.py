"""The KDB worker: one thread that owns the KDB, so the event loop never waits for files.

Every operation and every change-feed scan runs here, one at a time. That serialises writes
(one writer at a time, as the KDB expects) and orders the daemon's own writes against the
changes the feed finds on disk. The thread keeps taking queued jobs without being woken for
each, and jobs submitted with :meth:`KDBWorker.run_batched` that wait next to each other are
handed to their function together (so many queued writes can share one file write).

A caller on the event loop may also take the KDB for a moment itself (:meth:`KDBWorker.hold`)
while the thread is idle and nothing waits in the queue: a cheap read then skips the two
hand-overs between threads, and it still sees every write answered before it, in order.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from elektraweb.batches import settle

P = ParamSpec("P")
T = TypeVar("T")
Item = TypeVar("Item")

# Bounds the latency one batch adds for the first request in it.
MAX_BATCH = 64


@dataclass(slots=True)
class _Job:
    function: Callable[..., Any]
    item: Any
    future: asyncio.Future[Any]
    batched: bool


class KDBWorker:
    def __init__(self) -> None:
        self._jobs: deque[_Job] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._closing = False
        self._busy = False  # the thread runs a job
        self._held = False  # a caller runs on its own thread, see `hold`
        self._thread = threading.Thread(target=self._serve, name="kdb", daemon=True)
        self._thread.start()

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``function`` on the worker thread after everything submitted before it."""
        result: T = await self._submit(functools.partial(function, *args, **kwargs), None, False)
        return result

    async def run_batched(self, function: Callable[[list[Item]], list[Any]], item: Item) -> Any:
        """Run ``function([item, ...])`` together with the items of the same function queued
        right behind this one. ``function`` returns one result per item, in order; a result
        that is an exception is raised for that item."""
        return await self._submit(function, item, True)

    @contextmanager
    def hold(self) -> Iterator[bool]:
        """Take the KDB for the calling thread if the worker is idle and no job waits: yields
        True, and no job starts until the block ends. Yields False (and holds nothing) when
        the worker is busy: then submit the work instead, behind what is queued."""
        with self._lock:
            taken = not (self._busy or self._held or self._jobs or self._closing)
            self._held = taken
        try:
            yield taken
        finally:
            if taken:
                with self._lock:
                    self._held = False
                    # Only then: waking the idle thread after every read would cost the
                    # hand-over that holding saves.
                    if self._jobs or self._closing:
                        self._wake.notify()

    async def _submit(self, function: Callable[..., Any], item: Any, batched: bool) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        with self._lock:
            if self._closing:
                raise RuntimeError("the KDB worker is shut down")
            self._jobs.append(_Job(function, item, future, batched))
            self._wake.notify()
        return await future

    def _next(self) -> list[_Job] | None:
        with self._lock:
            while self._held or (not self._jobs and not self._closing):
                self._wake.wait()
            if not self._jobs:
                return None
            self._busy = True
            jobs = [self._jobs.popleft()]
            if jobs[0].batched:
                while (
                    self._jobs
                    and len(jobs) < MAX_BATCH
                    and self._jobs[0].batched
                    and self._jobs[0].function == jobs[0].function  # bound methods: ==, not is
                ):
                    jobs.append(self._jobs.popleft())
            return jobs

    def _serve(self) -> None:
        while (jobs := self._next()) is not None:
            first = jobs[0]
            outcomes: list[Any]
            try:
                outcomes = (
                    first.function([j.item for j in jobs]) if first.batched else [first.function()]
                )
            except BaseException as error:  # handed to the awaiting coroutines
                outcomes = [error] * len(jobs)
            # Idle before the answers go out, not after: a caller that has its answer may
            # hold the KDB at once (the thread touches it no more until its next job).
            with self._lock:
                self._busy = False
            # One wake-up of the event loop for the whole batch.
            settled = [(job.future, outcome) for job, outcome in zip(jobs, outcomes, strict=True)]
            first.future.get_loop().call_soon_threadsafe(settle, settled)

    def shutdown(self) -> None:
        """Finish what was submitted (a write in progress completes), then stop the thread."""
        with self._lock:
            self._closing = True
            self._wake.notify()
        self._thread.join()
