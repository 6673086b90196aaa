"""Replicas coordinated through a PostgreSQL database: shard leases (`leases`) and relayed
events (`relay`), each on connections of their own to `database_url`."""

from __future__ import annotations

import psycopg

from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.replicas.coordinator import (
    DatabaseChangeListener,
    LeasesChanged,
    RemoteListener,
)
from elektraweb.cluster.replicas.leases import LeaseKeeper
from elektraweb.cluster.replicas.relay import EventRelay


class PostgresCoordinator:
    """Implements `coordinator.Coordinator` for any number of replicas on one database."""

    def __init__(
        self,
        url: str,
        hub: EventHub,
        replica_id: str,
    ) -> None:
        self._replica_id = replica_id
        self.leases = LeaseKeeper(url, replica_id)
        self._relay = EventRelay(url, hub, replica_id)

    @property
    def replica_id(self) -> str:
        return self._replica_id

    def holds(self, instance_id: int) -> bool:
        return self.leases.holds(instance_id)

    def on_leases_changed(self, listener: LeasesChanged) -> None:
        self.leases.on_change(listener)

    def on_remote(self, listener: RemoteListener) -> None:
        self._relay.on_remote(listener)

    def on_database_change(self, listener: DatabaseChangeListener) -> None:
        self._relay.on_database_change(listener)

    async def start(self) -> None:
        """Relay events, then take leases (the work a lease starts may publish at once);
        ConnectionError, naming no password, when the database cannot be used."""
        try:
            await self._relay.start()
            await self.leases.start()
        except psycopg.Error as error:
            await self.abandon()
            raise ConnectionError(f"cannot coordinate through the database: {error}") from None

    async def close(self) -> None:
        await self.leases.close()
        await self._relay.close()

    async def abandon(self) -> None:
        """Stop as a crash would (the leases stay taken until they expire); for tests of what
        the other replicas do then."""
        await self.leases.abandon()
        await self._relay.close()
