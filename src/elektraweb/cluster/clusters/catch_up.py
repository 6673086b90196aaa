"""Convergence without anyone asking: members brought up to date in the background.

A member that comes back online, a subtree changed on it behind the cluster's back, and every
member now and then (the periodic reconcile) is caught up: locks of clusters it is not in
released (`unlocks`), whatever its cluster changed meanwhile sent (`Convergence.sync`, full),
and its keys checked for drift (`DriftWatch.check`). Members coming back all at once (clusterd
restarted) are caught up a batch at a time: a thousand full syncs and drift reads at once only
queue behind each other, and each holds its requests and replies in memory meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine

from elektraweb.cluster.clusters.convergence import Convergence
from elektraweb.cluster.clusters.drift import DriftWatch
from elektraweb.cluster.clusters.fanout import known_offline
from elektraweb.cluster.clusters.unlocks import Unlocks
from elektraweb.cluster.services import Services
from elektraweb.cluster.store.applied_keys import AppliedKeys
from elektraweb.cluster.store.errors import RecordNotFound

log = logging.getLogger(__name__)


class BackgroundTasks:
    """The cluster service's tasks: each failure logged, all cancelled by `close`."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()
        self._closed = False

    def spawn(self, coroutine: Coroutine[object, object, object]) -> None:
        if self._closed:
            coroutine.close()
            return
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("cluster task failed", exc_info=task.exception())

    async def close(self) -> None:
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class CatchUps:
    """Catches members up, at most `at_once` at a time; `caught_up` runs after each."""

    def __init__(
        self,
        services: Services,
        applied: AppliedKeys,
        convergence: Convergence,
        unlocks: Unlocks,
        drift: DriftWatch,
        background: BackgroundTasks,
        *,
        owns: Callable[[int], bool],
        at_once: int,
        caught_up: Callable[[], None],
    ) -> None:
        self._services = services
        self._applied = applied
        self._convergence = convergence
        self._unlocks = unlocks
        self._drift = drift
        self._background = background
        self._owns = owns  # the instances whose lease this replica holds (`cluster.replicas`)
        self._caught_up = caught_up
        self._slots = asyncio.Semaphore(at_once)
        self._running: set[int] = set()
        self._again: set[int] = set()

    def soon(self, instance_id: int) -> None:
        """Bring the instance up to date in the background: locks of clusters it is not in
        released, what its cluster changed meanwhile, and drift. Requests while one runs make
        it run once more."""
        if instance_id in self._running:
            self._again.add(instance_id)
            return
        self._running.add(instance_id)
        self._background.spawn(self._catch_up(instance_id))

    async def _catch_up(self, instance_id: int) -> None:
        try:
            while True:
                async with self._slots:
                    self._again.discard(instance_id)
                    with contextlib.suppress(RecordNotFound):
                        instance = self._services.registry.instance(instance_id)
                        await self._unlocks.settle(instance)
                        if instance.cluster_id is not None:
                            await self._convergence.sync(instance.cluster_id, instance, full=True)
                            await self._drift.check(instance)
                if instance_id not in self._again:
                    return
        finally:
            self._running.discard(instance_id)
            self._caught_up()

    def reconcile(self) -> None:
        """Catch up every member (and former member owing an unlock) not known to be down
        whose lease this replica holds."""
        gateway = self._services.gateway
        for instance in self._services.registry.instances():
            if not self._owns(instance.id):
                continue
            if instance.cluster_id is None and not self._applied.unlocks_owed(instance.id):
                continue
            if not known_offline(gateway.status(instance)):
                self.soon(instance.id)
