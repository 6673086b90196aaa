"""The cluster service: a cluster's keys are its desired state, kept by clusterd and pushed to
every member (docs/clusters.md).

- Reads of a cluster answer from the desired state, in the shapes an instance answers.
- A write changes the desired state and is applied to all members in parallel, one result per
  member (`fanout`). If every member refuses it, the desired state is left as it was and the
  members' refusal is the answer.
- Members hold the cluster's keys locked; writes through the instance routes that touch them
  are refused with 423 before they reach the instance (`check_member_write`, `ownership`).
- Members converge without anyone asking (`convergence`): a member that comes back online, or
  every member now and then, is sent whatever it lacks and checked for drift (`drift`), which
  the instance feed also reports as it happens.
- Sync states (`sync_state`) are published as `cluster/<id>/status` (`announcements`, with
  the changes of the desired state) and offered to the registry routes by `cluster_status`
  and `member_status`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, cast

from aiohttp import web

from elektraweb.cluster.api.errors import ApiError, BadRequest
from elektraweb.cluster.api.preview import TargetPreview, accepted, cluster_at
from elektraweb.cluster.clusters.announcements import Announcements
from elektraweb.cluster.clusters.batch import Members
from elektraweb.cluster.clusters.catch_up import BackgroundTasks, CatchUps
from elektraweb.cluster.clusters.convergence import Convergence
from elektraweb.cluster.clusters.desired_store import DesiredStore, run_on_cluster
from elektraweb.cluster.clusters.drift import DriftWatch, found_state
from elektraweb.cluster.clusters.fanout import MemberResult, fan_out, results_json
from elektraweb.cluster.clusters.heap_trim import release_free_memory
from elektraweb.cluster.clusters.ownership import owned_key, refusal
from elektraweb.cluster.clusters.previews import preview_member
from elektraweb.cluster.clusters.service import (
    ClusterReply,
    ClusterSyncJSON,
    InstanceSyncJSON,
    JoinedJSON,
)
from elektraweb.cluster.clusters.sync_state import cluster_state, member_state
from elektraweb.cluster.clusters.throttle import DEFAULT_INTERVAL_SECONDS, Throttle
from elektraweb.cluster.clusters.unlocks import Unlocks
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.instances.gateway import INSTANCE_ERROR_STATUS
from elektraweb.cluster.services import SERVICES, Services
from elektraweb.cluster.store.applied_keys import AppliedKeys
from elektraweb.cluster.store.cluster_keys import Row
from elektraweb.cluster.store.clusters import Cluster
from elektraweb.cluster.store.errors import RecordNotFound
from elektraweb.cluster.store.instances import Instance
from elektraweb.kdb.key import Key
from elektraweb.kdb.search import SearchLimits, SearchThread
from elektraweb.operations.catalog import WRITES
from elektraweb.operations.representation import state_json
from elektraweb.operations.result import OperationResult, subject_first
from elektraweb.operations.store import KeyChange
from elektraweb.wire.messages import AnyEvent, SubtreeEvent
from elektraweb.wire.replies import ChangeJSON, OperationArgs

DEFAULT_RECONCILE_SECONDS = 60.0
TRIM_INTERVAL_SECONDS = 1.0
CATCH_UPS_AT_ONCE = 64


class ConvergingClusterService:
    """Implements `service.ClusterService`, and the instance feed's listener
    (`on_event`, `on_status`). `start()` begins the periodic reconcile, `close()` ends every
    task it started; `lifecycle` ties both to the app."""

    def __init__(
        self,
        services: Services,
        *,
        hub: EventHub | None = None,
        reconcile_seconds: float = DEFAULT_RECONCILE_SECONDS,
        owns: Callable[[int], bool] = lambda instance_id: True,
        status_interval: float = DEFAULT_INTERVAL_SECONDS,
        catch_ups_at_once: int = CATCH_UPS_AT_ONCE,
    ) -> None:
        self._services = services
        self._announcements = Announcements(hub)
        self._reconcile_seconds = reconcile_seconds
        self._applied = AppliedKeys(services.database)
        # Every member's sync asks for the cluster's status: published at most once per
        # interval, and always after the last request (`throttle`).
        self._status = Throttle(self._publish_status, status_interval)
        # After fan-outs, joins and catch-ups, what they freed goes back to the system
        # (`heap_trim`), at most once a second and always after the last.
        self._trim = Throttle(_release_free_memory, TRIM_INTERVAL_SECONDS)
        self._convergence = Convergence(services, self._applied, self._status.request)
        self._drift = DriftWatch(
            services, self._applied, self._convergence, self._announcements.publish
        )
        self._unlocks = Unlocks(services, self._applied, self._convergence)
        self._background = BackgroundTasks()
        self._catch_ups = CatchUps(
            services,
            self._applied,
            self._convergence,
            self._unlocks,
            self._drift,
            self._background,
            owns=owns,
            at_once=catch_ups_at_once,
            caught_up=lambda: self._trim.request(0),
        )
        self._searches = SearchThread()
        self._read_stores: dict[int, tuple[int | None, DesiredStore]] = {}

    # -- the ClusterService protocol --------------------------------------------------------

    async def call(self, cluster: Cluster, op: str, args: OperationArgs) -> ClusterReply:
        if op == "find":
            # Off the event loop: a search takes up to its time budget.
            reading = await self._store_for_reading(cluster.id)
            return cast(ClusterReply, await self._searches.run(lambda: _found(reading, args)))
        if op not in WRITES:
            reading = await self._store_for_reading(cluster.id)
            return cast(ClusterReply, run_on_cluster(reading, op, args).result)
        # Checked and stored as one step for every clusterd on the database (a lost update
        # otherwise: docs/architecture.md, The rule on check-then-write).
        with self._services.cluster_keys.writing(cluster.id) as state:
            outcome = run_on_cluster(
                DesiredStore(state, self._search), op, _of_cluster(cluster, args)
            )
            self._store(cluster.id, outcome.changes)
        self._announce(cluster.id, outcome.changes)
        members = self._convergence.members(cluster.id)
        changed = [change.key for change in outcome.changes]
        results = await fan_out(
            self._convergence, self._services.gateway, cluster.id, members, changed
        )
        self._trim.request(0)
        if results and all(result.status == "rejected" for result in results):
            await self._undo(cluster, outcome.changes, results)
        # The written key first, as elektrad reports a write (docs/protocol.md §4, Changes),
        # then every other key of the desired state the write changed, for the history.
        reply = {
            **outcome.result,
            "changes": _changes_json(_subject_first(outcome)),
            "members": results_json(results),
        }
        return cast(ClusterReply, reply)

    async def preview(self, cluster: Cluster, op: str, args: OperationArgs) -> list[TargetPreview]:
        if op not in WRITES:
            raise BadRequest(f"{op} changes nothing: only writes can be previewed")
        changes = self.planned(cluster, op, args, {})
        members = self._services.registry.members(cluster.id)
        previews = await asyncio.gather(
            *(
                preview_member(self._services, self._applied, cluster.id, member, changes)
                for member in members
            )
        )
        return [accepted(cluster_at(cluster.id), _changes_json(changes)), *previews]

    def planned(
        self, cluster: Cluster, op: str, args: OperationArgs, draft: Mapping[str, Row | None]
    ) -> list[KeyChange]:
        if op not in WRITES:
            raise BadRequest(f"{op} changes nothing: only writes can be planned")
        state = self._services.cluster_keys.state(cluster.id)
        # The desired store keeps what an operation writes in memory: nothing is committed.
        store = DesiredStore(state.replaced(draft) if draft else state, self._search)
        return run_on_cluster(store, op, _of_cluster(cluster, args)).changes

    @property
    def _search(self) -> SearchLimits:
        return self._services.config.search

    async def _store_for_reading(self, cluster_id: int) -> DesiredStore:
        """The cluster's desired state for reads, its key set built off the event loop (a
        key set of a large cluster takes tens of ms) and kept while the cluster's version is
        the same: every change of its keys, by any clusterd on the database, moves it on.
        Reads never change the state they read."""
        version = self._services.registry.cluster_version(cluster_id)
        cached = self._read_stores.get(cluster_id)
        if cached is not None and version is not None and cached[0] == version:
            return cached[1]
        state = self._services.cluster_keys.state(cluster_id)
        await self._searches.run(lambda: state.keyset.names())  # the keys in order, once
        store = DesiredStore(state, self._search)
        self._read_stores[cluster_id] = (version, store)
        return store

    def check_member_write(self, instance: Instance, op: str, args: OperationArgs) -> None:
        cluster_id = instance.cluster_id
        if cluster_id is None or op not in WRITES:
            return
        found = owned_key(self._services.cluster_keys.state(cluster_id), op, args)
        if found is not None:
            raise refusal(self._services.registry.cluster(cluster_id), op, *found)

    async def member_joined(self, cluster: Cluster, instance: Instance) -> JoinedJSON:
        await self._unlocks.settle(instance)
        gateway = self._services.gateway
        joined = Members(None, [instance])  # checked alone: it may have left already
        [result] = await fan_out(self._convergence, gateway, cluster.id, joined, None)
        self._status.request(cluster.id)
        self._trim.request(0)
        keys = len(self._services.cluster_keys.state(cluster.id))
        return {**result.to_json(), "keys": keys}

    async def member_left(self, cluster: Cluster, instance: Instance) -> None:
        try:
            await self._convergence.release(cluster.id, instance)
        finally:
            self._status.request(cluster.id)

    # -- sync state ------------------------------------------------------------------------

    def cluster_status(self, cluster: Cluster) -> ClusterSyncJSON:
        """`{state, keys, members: {id: {state, pending, rejected, drift}}}`, for the members
        the cluster as read lists (no second read of them)."""
        cluster_id, members = cluster.id, cluster.members
        desired = self._convergence.desired(cluster_id)
        applied = self._applied.of_cluster(cluster_id)
        wanted = self._convergence.holds.states(cluster_id, desired)
        states = {
            member: member_state(wanted(member), applied.get(member, {})) for member in members
        }
        return cluster_state(states, len(desired))

    def member_status(self, instance: Instance) -> InstanceSyncJSON | None:
        """The member's `{cluster, state, pending, rejected, drift}`; None outside clusters."""
        cluster_id = instance.cluster_id
        if cluster_id is None:
            return None
        desired = self._convergence.holds.state(
            cluster_id, instance.id, self._convergence.desired(cluster_id)
        )
        applied = self._applied.of(cluster_id, instance.id)
        return {"cluster": cluster_id, **member_state(desired, applied)}

    # -- the instance feed's listener ------------------------------------------------------

    def on_event(self, instance: Instance, event: AnyEvent) -> None:
        """Restore a drifted key in the background, so the feed keeps reading meanwhile."""
        if isinstance(event, SubtreeEvent):
            # Which keys changed is not told: reading the member finds any drift among them.
            if instance.cluster_id is not None and event.origin != f"cluster:{instance.cluster_id}":
                self.catch_up_soon(instance.id)
            return
        desired = self._drift.drifted(instance, event)
        if desired is not None:
            self._background.spawn(
                self._drift.restore(instance, desired, found_state(event.new), event.origin)
            )

    async def on_status(self, instance: Instance, online: bool) -> None:
        if online:
            self.catch_up_soon(instance.id)

    # -- convergence without anyone asking -------------------------------------------------

    def catch_up_soon(self, instance_id: int) -> None:
        """Bring the instance up to date in the background (`catch_up`)."""
        self._catch_ups.soon(instance_id)

    def reconcile(self) -> None:
        """Catch up every member not known to be down whose lease this replica holds."""
        self._catch_ups.reconcile()

    async def _reconcile_forever(self) -> None:
        while True:
            await asyncio.sleep(self._reconcile_seconds)
            self.reconcile()

    def start(self) -> None:
        self._background.spawn(self._reconcile_forever())

    async def close(self) -> None:
        self._status.close()
        self._trim.close()
        await self._background.close()
        await asyncio.to_thread(self._searches.shutdown)

    # -- helpers ---------------------------------------------------------------------------

    def _store(self, cluster_id: int, changes: list[KeyChange]) -> None:
        """Store a change of the desired state, inside the caller's `writing` transaction."""
        keys = self._services.cluster_keys
        for change in changes:
            if change.new is not None:
                keys.put(cluster_id, change.new)
        keys.remove(cluster_id, [change.key for change in changes if change.new is None])

    def _announce(self, cluster_id: int, changes: list[KeyChange]) -> None:
        """After the commit, never before (a failed commit must not have been seen): start
        convergence and publish the changes."""
        self._convergence.desired_changed(cluster_id)
        self._announcements.changes(cluster_id, changes)

    async def _undo(
        self, cluster: Cluster, changes: list[KeyChange], results: list[MemberResult]
    ) -> NoReturn:
        """Every member refused the change: keep the desired state as it was, bring back
        members that took part of it, and answer with the refusal."""
        with self._services.cluster_keys.writing(cluster.id) as after:
            # Only keys still as this change left them: a later write to them stands.
            undone = [
                KeyChange(change.key, change.new, change.old)
                for change in changes
                if _same(after.get(change.key), change.new)
            ]
            self._store(cluster.id, undone)
        self._announce(cluster.id, undone)
        partly = Members(None, [result.instance for result in results if result.applied_any])
        if partly.instances:
            changed = [change.key for change in changes]
            await fan_out(self._convergence, self._services.gateway, cluster.id, partly, changed)
        refusal = results[0].error or {}
        code = str(refusal.get("code", "internal"))
        problem = ApiError(
            f"every member refused the change, so cluster {cluster.name!r} keeps its keys as"
            f" they were: {refusal.get('message', 'no reason given')}",
            code=code,
            status=INSTANCE_ERROR_STATUS.get(code, 502),
            cluster=cluster.id,
            members=results_json(results),
        )
        for name in ("key", "elektra"):
            if isinstance(value := refusal.get(name), str):
                problem.details[name] = value
        raise problem

    def _publish_status(self, cluster_id: int) -> None:
        def status() -> ClusterSyncJSON | None:
            try:
                cluster = self._services.registry.cluster(cluster_id)
            except RecordNotFound:
                return None  # deleted meanwhile: there is nothing left to show
            # The cluster's row lists its members: no second read of the registry.
            return self.cluster_status(cluster)

        self._announcements.status(cluster_id, status)


def _release_free_memory(_: int) -> None:
    release_free_memory()


def _subject_first(outcome: OperationResult) -> list[KeyChange]:
    if outcome.subject is None:
        return outcome.changes
    return subject_first(outcome.changes, outcome.subject, outcome.current)


def _changes_json(changes: list[KeyChange]) -> list[ChangeJSON]:
    """Changes as elektrad reports them (docs/protocol.md §4, Changes), so the audit log
    needs no read around a cluster write."""
    return [
        cast(
            ChangeJSON,
            {"key": change.key, "old": state_json(change.old), "new": state_json(change.new)},
        )
        for change in changes
    ]


def _of_cluster(cluster: Cluster, args: OperationArgs) -> OperationArgs:
    """A write's arguments as the cluster's own: like elektrad, the operations leave a
    cluster's writes to clusterd's checks of critical keys (``api.guards``)."""
    return cast(OperationArgs, {**args, "cluster": str(cluster.id)})


def _found(reading: DesiredStore, args: OperationArgs) -> dict[str, Any]:
    """A find's result: the operation, then its matching."""
    outcome = run_on_cluster(reading, "find", args)
    return outcome.result if outcome.deferred is None else outcome.deferred()


def _same(found: Key | None, wanted: Key | None) -> bool:
    if found is None or wanted is None:
        return found is wanted
    return found.same_content(wanted)


def lifecycle(app: web.Application) -> None:
    """The clusterd extension that starts the periodic reconcile with the app and stops the
    cluster service's tasks before the gateway closes."""

    def service(app: web.Application) -> ConvergingClusterService | None:
        configuration = app[SERVICES].cluster_service
        return configuration if isinstance(configuration, ConvergingClusterService) else None

    async def start(app: web.Application) -> None:
        configuration = service(app)
        if configuration is not None:
            configuration.start()

    async def stop(app: web.Application) -> None:
        configuration = service(app)
        if configuration is not None:
            await configuration.close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
