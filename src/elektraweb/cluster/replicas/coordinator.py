"""What clusterd's replicas agree on, and the single replica's answer to it.

Several clusterd processes ("replicas") may serve one database. Each still links to every
instance for the requests it forwards, but the work that must run once per instance (following
its feed and republishing it, drift restore, catching members up) runs only on the replica
holding the instance's lease, and every publication on one replica's hub reaches the hubs of
the others (docs/architecture.md, Replicas).

`SingleReplica` is clusterd on its own (the SQLite file): it holds every lease, and its events
stay in the process. `replicas.postgres.PostgresCoordinator` shares leases and events through
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web

from elektraweb.cluster.events.hub import Publication
from elektraweb.cluster.services import SERVICES, Extension

LeasesChanged = Callable[[], Awaitable[None]]
"""Awaited when the leases this replica holds changed: after taking one, before giving one up."""

RemoteListener = Callable[[Publication], None]
"""Called with each publication another replica made, after the local hub has it; with a
`resync` publication when some may have been missed."""

DatabaseChangeListener = Callable[[str | None], None]
"""Called with each notice of a change another replica made to the users, sessions, tokens or
the registry (`Database.changed_elsewhere`); `store.database.HEARING_LOST` when notices stop
being heard, None when they are heard (again) and some may have been missed."""


class Coordinator(Protocol):
    """Leases on instances, and the other replicas' events."""

    @property
    def replica_id(self) -> str: ...

    def holds(self, instance_id: int) -> bool:
        """Whether this replica does the instance's once-per-instance work now."""
        ...

    def on_leases_changed(self, listener: LeasesChanged) -> None: ...

    def on_remote(self, listener: RemoteListener) -> None: ...

    def on_database_change(self, listener: DatabaseChangeListener) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None:
        """Give up every lease (after telling the listeners) and stop relaying events."""
        ...


class SingleReplica:
    """The only replica: every lease is its own for good, no event comes from elsewhere."""

    def __init__(self, replica_id: str) -> None:
        self._replica_id = replica_id

    @property
    def replica_id(self) -> str:
        return self._replica_id

    def holds(self, instance_id: int) -> bool:
        return True

    def on_leases_changed(self, listener: LeasesChanged) -> None:
        """Leases never change hands here."""

    def on_remote(self, listener: RemoteListener) -> None:
        """No other replica publishes."""

    def on_database_change(self, listener: DatabaseChangeListener) -> None:
        """No other replica changes the database."""

    async def start(self) -> None:
        """Nothing to reach."""

    async def close(self) -> None:
        """Nothing to give up."""


def coordination_extension(coordinator: Coordinator) -> Extension:
    """The clusterd extension that starts the coordinator with the app and closes it on
    cleanup. Install it after the instance feed's: the feed is started when the first leases
    are taken, and has stopped following when they are given up."""

    def extend(app: web.Application) -> None:
        async def start(app: web.Application) -> None:
            coordinator.on_database_change(app[SERVICES].database.changed_elsewhere)
            await coordinator.start()

        async def stop(app: web.Application) -> None:
            await coordinator.close()

        app.on_startup.append(start)
        app.on_cleanup.append(stop)

    return extend
