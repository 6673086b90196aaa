"""Leases on shards of instances, kept in PostgreSQL, fairly shared by the live replicas.

An instance belongs to shard ``id % shards``; a replica holding a shard's lease does the
once-per-instance work of its instances. Every `renew_seconds` a replica writes its heartbeat,
renews all its leases in one statement, and counts the live replicas (heartbeats not expired):
its fair share is ``ceil(shards / live)``. It gives up leases beyond its share (so that a new
replica finds some free) and takes free or expired ones up to it. A replica that stops renewing
(it died, or lost the database) loses its leases `expire_seconds` after its last renewal, and
the others take them at their next renewal; it stops the work itself as soon as its own clock
says the leases may have expired. The cost is one round trip per statement and replica each
`renew_seconds`, whatever the number of instances.

Times in the tables are the database's (`clock_timestamp()`), so the replicas' clocks do not
need to agree; each replica measures its own lease's validity on its monotonic clock, from
before the renewing statement, which is never later than the database's expiry.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

import psycopg

from elektraweb.cluster.replicas.connection import LazyConnection
from elektraweb.cluster.replicas.coordinator import LeasesChanged
from elektraweb.cluster.replicas.schema import ensure_tables

log = logging.getLogger(__name__)

DEFAULT_SHARDS = 64
RENEW_SECONDS = 1.0
EXPIRE_SECONDS = 3.0
FORGET_EVERY = 600
"""Renewals between two deletions of heartbeats an hour past their expiry."""

_HEARTBEAT = """
INSERT INTO replica_heartbeats (replica, expires)
VALUES (%(me)s, clock_timestamp() + %(ttl)s * interval '1 second')
ON CONFLICT (replica) DO UPDATE SET expires = excluded.expires
"""
_LIVE = "SELECT count(*) FROM replica_heartbeats WHERE expires > clock_timestamp()"
_RENEW = """
UPDATE replica_leases SET expires = clock_timestamp() + %(ttl)s * interval '1 second'
WHERE holder = %(me)s AND shard < %(shards)s RETURNING shard
"""
_CLAIM = """
UPDATE replica_leases SET holder = %(me)s,
    expires = clock_timestamp() + %(ttl)s * interval '1 second'
WHERE shard IN (
    SELECT shard FROM replica_leases
    WHERE (holder IS NULL OR expires <= clock_timestamp()) AND shard < %(shards)s
    ORDER BY shard LIMIT %(wanted)s FOR UPDATE SKIP LOCKED
) AND (holder IS NULL OR expires <= clock_timestamp())
RETURNING shard
"""
_SHARDS = """
INSERT INTO replica_leases (shard) SELECT generate_series(0, %(shards)s - 1)
ON CONFLICT (shard) DO NOTHING
"""
_RELEASE = """
UPDATE replica_leases SET holder = NULL, expires = 'epoch'
WHERE holder = %(me)s AND shard = ANY(%(shards)s)
"""
_FORGET_DEAD = """
DELETE FROM replica_heartbeats WHERE expires < clock_timestamp() - interval '1 hour'
"""


class LeaseKeeper:
    """Takes, renews and gives up one replica's shard leases on its own connection."""

    def __init__(
        self,
        url: str,
        replica_id: str,
        *,
        shards: int = DEFAULT_SHARDS,
        renew_seconds: float = RENEW_SECONDS,
        expire_seconds: float = EXPIRE_SECONDS,
    ) -> None:
        if not 0 < renew_seconds < expire_seconds:
            raise ValueError(
                f"leases must be renewed more often than they expire: renew_seconds "
                f"{renew_seconds}, expire_seconds {expire_seconds}"
            )
        self._connection = LazyConnection(url, f"clusterd {replica_id} leases")
        self._me = replica_id
        self._shards = shards
        self._renew_seconds = renew_seconds
        self._expire_seconds = expire_seconds
        self._held: frozenset[int] = frozenset()
        self._valid_until = 0.0
        self._listeners: list[LeasesChanged] = []
        self._renewing: asyncio.Task[None] | None = None
        self._renewals = 0

    @property
    def held(self) -> frozenset[int]:
        """The shards whose leases this replica holds."""
        return self._held

    def holds(self, instance_id: int) -> bool:
        return instance_id % self._shards in self._held

    def on_change(self, listener: LeasesChanged) -> None:
        self._listeners.append(listener)

    async def start(self) -> None:
        """Make the tables if need be and take this replica's first share of the leases."""
        connection = await self._connection.get()
        await ensure_tables(connection)
        await connection.execute(_SHARDS, {"shards": self._shards})
        await self._renew()
        self._renewing = asyncio.get_running_loop().create_task(
            self._keep_renewing(), name="replica-leases"
        )

    async def close(self) -> None:
        """Stop the work of every held lease, then give the leases and the heartbeat up, so
        that the other replicas take them at their next renewal rather than at expiry."""
        await self._stop_renewing()
        held = self._held
        await self._hold(frozenset())
        try:
            connection = await self._connection.get()
            await connection.execute(_RELEASE, {"me": self._me, "shards": sorted(held)})
            await connection.execute(
                "DELETE FROM replica_heartbeats WHERE replica = %s", (self._me,)
            )
        except (psycopg.Error, OSError) as error:
            log.warning("could not give up the leases; they expire by themselves: %s", error)
        finally:
            await self._connection.drop()

    async def abandon(self) -> None:
        """Stop as a crash would: the work stops, the leases stay in the table until expiry."""
        await self._stop_renewing()
        await self._hold(frozenset())
        await self._connection.drop()

    async def _stop_renewing(self) -> None:
        task, self._renewing = self._renewing, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _keep_renewing(self) -> None:
        while True:
            await asyncio.sleep(self._renew_seconds)
            try:
                async with asyncio.timeout(self._expire_seconds):
                    await self._renew()
            except (psycopg.Error, OSError, TimeoutError) as error:
                log.warning("replica %s cannot renew its leases: %s", self._me, error)
                await self._connection.drop()
            if self._held and time.monotonic() >= self._valid_until:
                log.warning("replica %s lost its leases: not renewed in time", self._me)
                await self._hold(frozenset())

    async def _renew(self) -> None:
        connection = await self._connection.get()
        before = time.monotonic()
        parameters = {"me": self._me, "ttl": self._expire_seconds, "shards": self._shards}
        await connection.execute(_HEARTBEAT, parameters)
        renewed = await connection.execute(_RENEW, parameters)
        held = frozenset(row[0] for row in await renewed.fetchall())
        self._valid_until = before + self._expire_seconds
        counted = await (await connection.execute(_LIVE)).fetchone()
        live = max(1, int(counted[0]) if counted is not None else 1)
        share = math.ceil(self._shards / live)
        if len(held) > share:
            given_up = sorted(held)[share:]
            await self._hold(held.difference(given_up))  # the work stops before the release
            await connection.execute(_RELEASE, {"me": self._me, "shards": given_up})
            return
        if len(held) < share:
            claimed = await connection.execute(_CLAIM, {**parameters, "wanted": share - len(held)})
            held = held.union(row[0] for row in await claimed.fetchall())
        await self._hold(held)
        self._renewals += 1
        if self._renewals % FORGET_EVERY == 0:
            await connection.execute(_FORGET_DEAD)

    async def _hold(self, held: frozenset[int]) -> None:
        if held == self._held:
            return
        log.info(
            "replica %s holds the leases of %d of %d shards", self._me, len(held), self._shards
        )
        self._held = held
        for listener in list(self._listeners):
            try:
                await listener()
            except Exception:
                log.exception("a lease listener failed")
