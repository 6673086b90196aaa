"""Serving requests: each runs on the KDB worker, and what it changed becomes events.

A `get` of one key (depth 0) whose view the KDB remembers is answered on the event loop instead
when the worker is idle: it reads that view without the two hand-overs between threads, which took
more of elektrad's time than the read itself (docs/benchmarks.md, issue 10 item 1, the get path).
Only as long as the view's files are as it read them (`KDB.remembered_only`): a file changed on
disk is parsed on the worker, never on the event loop.
"""

from __future__ import annotations

from typing import Any

from elektraweb.instance.changefeed import ChangeFeed
from elektraweb.instance.context import Host
from elektraweb.instance.events import EventStream, origin_of
from elektraweb.instance.operations import is_preview
from elektraweb.instance.operations import run as run_operation
from elektraweb.instance.set_ops import set_batch
from elektraweb.instance.worker import KDBWorker
from elektraweb.kdb.search import SearchThread
from elektraweb.kdb.views import NotRemembered
from elektraweb.operations.result import OperationResult
from elektraweb.wire.errors import ErrorCode, RemoteError
from elektraweb.wire.messages import Reply, Request

_NOT_READ = object()


def _reads_remembered_key(host: Host, request: Request) -> bool:
    """A `get` without `depth` of a key whose view the KDB remembers: no file to parse, and
    the rest is bounded by the key's listing (`ls_limit`), small enough for the event loop."""
    key = request.args.get("key")
    return (
        request.op == "get"
        and not request.args.get("depth")
        and isinstance(key, str)
        and host.kdb.remembers(key)
    )


class InstanceService:
    """The wire server's handler: runs each request on the KDB worker and queues its events.

    ``announced_events`` is what ``version`` reports as ``events``: where the event socket
    listens, which only the server knows once it is bound (set it before serving).
    """

    def __init__(
        self, host: Host, worker: KDBWorker, feed: ChangeFeed, events: EventStream
    ) -> None:
        self._host = host
        self._worker = worker
        self._feed = feed
        self._events = events
        self._searches = SearchThread()
        self.announced_events: dict[str, Any] | None = None

    async def __call__(self, request: Request) -> Reply:
        result = self._read_here(request)
        if result is _NOT_READ:
            result = await self._submit(request)
        if callable(result):  # what an operation left to do off the worker
            result = await self._searches.run(result)
        # Publish before replying: a stop that waits for requests then loses no event.
        await self._events.flushed()
        if request.op == "version" and self.announced_events is not None:
            result = {**result, "events": self.announced_events}
        return Reply(result)

    async def _submit(self, request: Request) -> Any:
        # Batched: requests waiting together cost the worker one hand-over, not one each.
        if request.op == "set" and not is_preview(request):
            return await self._worker.run_batched(self._execute_sets, request)
        return await self._worker.run_batched(self._execute_each, request)

    def _read_here(self, request: Request) -> Any:
        """The result of a get of a remembered key, run on this thread while the worker is
        idle; `_NOT_READ` for any other request or if the worker is busy. Every write
        answered before has been applied, so the read sees it; a read arriving during a write
        waits behind it in the queue as before."""
        if not _reads_remembered_key(self._host, request):
            return _NOT_READ
        with self._worker.hold() as held:
            if not held:
                return _NOT_READ
            with self._host.kdb.remembered_only():
                (result,) = self._execute_each([request])
        if isinstance(result, NotRemembered):  # a file changed: parsed on the worker
            return _NOT_READ
        if isinstance(result, Exception):
            raise result
        return result

    def _execute_each(self, requests: list[Request]) -> list[object]:
        results: list[object] = []
        for request in requests:
            try:
                results.append(self._record(request, run_operation(self._host, request)))
            except Exception as error:  # this request's own failure, answered as such
                results.append(error)
        self._recheck_conflicts(results)
        return results

    def _execute_sets(self, requests: list[Request]) -> list[object]:
        outcomes = set_batch(self._host, requests)
        results = [
            outcome if isinstance(outcome, RemoteError) else self._record(request, outcome)
            for request, outcome in zip(requests, outcomes, strict=True)
        ]
        self._recheck_conflicts(results)
        return results

    def _recheck_conflicts(self, results: list[object]) -> None:
        """A write that found its file saved by another program (a conflict) has the change
        feed publish that program's changes now, before the conflict is answered."""
        for result in results:
            if isinstance(result, RemoteError) and result.code == ErrorCode.CONFLICT and result.key:
                self._feed.recheck(result.key)

    def _record(self, request: Request, outcome: OperationResult) -> object:
        """Tell the change feed and the event stream about the outcome's changes (on the
        worker: the feed learns of our write before it can see the file)."""
        if outcome.changes:
            self._feed.absorb(outcome.changes)
            cluster = request.args.get("cluster")
            origin = origin_of(cluster if isinstance(cluster, str) and cluster else None)
            self._events.submit(outcome.changes, origin)
        return outcome.result if outcome.deferred is None else outcome.deferred

    def close(self) -> None:
        """Stop the search thread (after the requests in progress are answered)."""
        self._searches.shutdown()
