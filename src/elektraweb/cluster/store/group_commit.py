"""Group commit: writes of concurrent requests share one transaction and one fsync.

Each write is a function of a connection. Writes queued while a commit runs are run together
in the next transaction, one after the other, each in a savepoint of its own: a write that
raises is rolled back alone and its caller gets its exception; its neighbours still commit.
The transaction runs on a thread of its own, with a connection of its own, so the event loop
keeps serving (and queueing) requests while the commit waits for the disk. A caller's write
is durable (SQLite's synchronous = FULL, PostgreSQL's synchronous_commit = on: the WAL is
fsync'd at every commit) when its await returns.

The database's other connection, on the event loop's thread, sees each commit as a whole once
it is done; on SQLite its own writes take the write lock in turn with this one (busy_timeout).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from elektraweb.batches import settle
from elektraweb.cluster.store.connection import Connection

T = TypeVar("T")
Write = Callable[[Connection], Any]

MAX_GROUP = 256
"""Bounds one transaction (and the wait of the first write in it)."""


class GroupCommit:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="group-commit")
        self._queue: list[tuple[Write, asyncio.Future[Any]]] = []
        self._committer: asyncio.Task[None] | None = None
        self._closed = False

    async def run(self, write: Callable[[Connection], T]) -> T:
        """Run `write` in the next group's transaction; return its result once committed."""
        if self._closed:
            raise RuntimeError("the database is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((write, future))
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_queued())
        return await future

    async def _commit_queued(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
                # A caller that stopped waiting before its write began does not get it written.
                group = [(write, future) for write, future in group if not future.cancelled()]
                if not group:
                    continue
                writes = [write for write, _ in group]
                try:
                    outcomes = await loop.run_in_executor(self._executor, self._commit, writes)
                except asyncio.CancelledError:  # clusterd is stopping: so are the callers
                    for _, future in group:
                        future.cancel()
                    raise
                except Exception as error:  # the commit itself failed: nothing was written
                    outcomes = [error] * len(group)
                settle(
                    (future, outcome) for (_, future), outcome in zip(group, outcomes, strict=True)
                )
        finally:
            self._committer = None

    def _commit(self, writes: list[Write]) -> list[Any]:
        """On the commit thread: one transaction, each write in its savepoint."""
        db = self.connection
        outcomes: list[Any] = []
        db.begin()
        try:
            for write in writes:
                db.execute("SAVEPOINT one_write")
                try:
                    outcomes.append(write(db))
                except Exception as error:
                    db.execute("ROLLBACK TO one_write")
                    outcomes.append(error)
                db.execute("RELEASE one_write")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return outcomes

    def close(self) -> None:
        """Finish the commit under way, refuse new writes, close the connection."""
        self._closed = True
        self._executor.shutdown(wait=True)
        self.connection.close()
