"""Every replica's publications, relayed to the hubs of the others through PostgreSQL's
LISTEN/NOTIFY.

Each publication made on this replica's hub is queued and sent, in order, on one connection:
as a notification on channel `elektraweb_events` whose text is a JSON header
``["<replica>", "<topic>"]``, a newline, and the payload exactly as the hub encoded it. A
message that would not fit a notification (PostgreSQL takes fewer than 8000 bytes) is stored in
`replica_event_payloads`, and the notification, sent in the same transaction, carries only
``@["<replica>", <row id>]``. PostgreSQL delivers the notifications of one session in commit
order, and the receiver handles them one after the other (fetching a stored message before the
next), so each topic's publications arrive in the order they were made, each once; a replica
skips its own. Stored messages are deleted after `KEEP_STORED`.

The same listening connection hears `store.database.CHANGES_CHANNEL`, where a replica's database
transaction announces a change of users, sessions, tokens or the registry: each notice goes to
the `on_database_change` listeners (`Database.changed_elsewhere`); `HEARING_LOST` does when the
connection breaks, and None once it listens (at the start, and again after a break), since
notices may have been missed.

Notifications sent while a replica's listening connection is down are lost to it, and a
publication this replica could not send is lost to the others: the hubs concerned then send
every subscriber a `resync` (`EventHub.resync`), which makes it re-read what it shows, as when
it falls behind, and hand the remote listeners a `resync` publication too (the instance feed
then reads the whole registry again: an instance removed meanwhile loses its link).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import TupleRow

from elektraweb.cluster.events.hub import (
    RESYNC_TOPIC,
    EventHub,
    Publication,
    received_publication,
)
from elektraweb.cluster.replicas.connection import LazyConnection, connect
from elektraweb.cluster.replicas.coordinator import DatabaseChangeListener, RemoteListener
from elektraweb.cluster.replicas.schema import ensure_tables
from elektraweb.cluster.store.database import CHANGES_CHANNEL, HEARING_LOST

log = logging.getLogger(__name__)

CHANNEL = "elektraweb_events"
NOTIFICATION_LIMIT = 8000
"""Bytes a notification's text must stay below."""
KEEP_STORED = 600.0
"""Seconds a stored large message is kept for replicas that are slow to fetch it."""
RECONNECT_SECONDS = 0.5
OUTBOX_LIMIT = 10_000
"""Publications waiting to be sent; beyond it (the database is out of reach for long) they
are dropped and the others told to resync."""
_STORED = "@"
_RESYNC = "!"

_SEND_STORED = """
WITH stored AS (INSERT INTO replica_event_payloads (message) VALUES (%(message)s) RETURNING id)
SELECT pg_notify(%(channel)s, %(prefix)s || json_build_array(%(me)s::text, id)::text)
FROM stored
"""
_DELETE_OLD = """
DELETE FROM replica_event_payloads
WHERE created < clock_timestamp() - %(keep)s * interval '1 second'
"""


class EventRelay:
    """Sends this replica's publications to the others and delivers theirs to `hub`."""

    def __init__(self, url: str, hub: EventHub, replica_id: str) -> None:
        self._url = url
        self._hub = hub
        self._me = replica_id
        self._outbox: asyncio.Queue[Publication] = asyncio.Queue()
        self._listeners: list[RemoteListener] = []
        self._change_listeners: list[DatabaseChangeListener] = []
        self._sending = LazyConnection(url, f"clusterd {replica_id} events out")
        self._tasks: list[asyncio.Task[None]] = []
        self._cleaned = time.monotonic()
        self._forwarding = False
        self._lost = False

    def on_remote(self, listener: RemoteListener) -> None:
        self._listeners.append(listener)

    def on_database_change(self, listener: DatabaseChangeListener) -> None:
        """Hand `listener` every notification on `CHANGES_CHANNEL` (the database's own:
        users, sessions, tokens), and None whenever some may have been missed."""
        self._change_listeners.append(listener)

    async def start(self) -> None:
        """Listen for the other replicas' publications, then relay this hub's."""
        await ensure_tables(await self._sending.get())
        listening = await self._listening()
        self._database_changed(None)  # heard from now on; nothing before was
        if not self._forwarding:
            self._hub.forward_to(self._queue)
            self._forwarding = True
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._receive_forever(listening), name="replica-events-in"),
            loop.create_task(self._send_forever(), name="replica-events-out"),
        ]

    async def close(self) -> None:
        """Stop relaying; publications still queued are not sent."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._sending.drop()

    # -- out ---------------------------------------------------------------------------------

    def _queue(self, published: Publication) -> None:
        if self._outbox.qsize() >= OUTBOX_LIMIT:
            log.warning("replica %s drops %d unsent events", self._me, self._outbox.qsize())
            while not self._outbox.empty():
                self._outbox.get_nowait()
            self._lost = True
        self._outbox.put_nowait(published)

    async def _send_forever(self) -> None:
        while True:
            published = await self._outbox.get()
            try:
                if self._lost:  # the others missed what could not be sent: they resync
                    await self._notify(_RESYNC + json.dumps([self._me]))
                    self._lost = False
                await self._send(published)
            except (psycopg.Error, OSError) as error:
                log.warning("replica %s could not relay %s: %s", self._me, published.topic, error)
                self._lost = True
                await self._sending.drop()
                await asyncio.sleep(RECONNECT_SECONDS)

    async def _send(self, published: Publication) -> None:
        header = json.dumps([self._me, published.topic], ensure_ascii=False)
        message = f"{header}\n{published.payload.decode()}"
        if len(message.encode()) < NOTIFICATION_LIMIT:
            await self._notify(message)
            return
        connection = await self._sending.get()
        await connection.execute(
            _SEND_STORED,
            {"message": message, "channel": CHANNEL, "prefix": _STORED, "me": self._me},
        )
        if time.monotonic() - self._cleaned > KEEP_STORED / 10:
            self._cleaned = time.monotonic()
            await connection.execute(_DELETE_OLD, {"keep": KEEP_STORED})

    async def _notify(self, text: str) -> None:
        connection = await self._sending.get()
        await connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, text))

    # -- in ----------------------------------------------------------------------------------

    async def _listening(self) -> AsyncConnection[TupleRow]:
        connection = await connect(self._url, f"clusterd {self._me} events in")
        await connection.execute(f"LISTEN {CHANNEL}")
        await connection.execute(f"LISTEN {CHANGES_CHANNEL}")
        return connection

    async def _receive_forever(self, listening: AsyncConnection[TupleRow]) -> None:
        while True:
            try:
                async for notification in listening.notifies():
                    if notification.channel == CHANGES_CHANNEL:
                        self._database_changed(notification.payload)
                    else:
                        await self._received(notification.payload)
            except (psycopg.Error, OSError) as error:
                log.warning("replica %s stopped hearing the others: %s", self._me, error)
            finally:
                self._database_changed(HEARING_LOST)
                await listening.close()
            listening = await self._reconnected()
            self._missed()  # whatever was published meanwhile
            self._database_changed(None)

    async def _reconnected(self) -> AsyncConnection[TupleRow]:
        while True:
            await asyncio.sleep(RECONNECT_SECONDS)
            with contextlib.suppress(psycopg.Error, OSError):
                return await self._listening()

    async def _received(self, text: str) -> None:
        try:
            if text.startswith(_RESYNC):
                if json.loads(text[1:])[0] != self._me:
                    self._missed()
                return
            if text.startswith(_STORED):
                replica, row = json.loads(text[1:])
                if replica == self._me:
                    return
                text = await self._stored(int(row))
            header, _, payload = text.partition("\n")
            replica, topic = json.loads(header)
            if replica == self._me:
                return
            published = received_publication(topic, payload.encode())
        except (ValueError, LookupError, TypeError) as error:
            log.warning("replica %s ignores an unreadable event: %s", self._me, error)
            return
        self._hub.deliver(published)
        self._tell(published)

    def _missed(self) -> None:
        """Publications of the others may have been missed: everyone here reads again."""
        self._hub.resync()
        self._tell(received_publication(RESYNC_TOPIC, b'{"dropped":0}'))

    def _tell(self, published: Publication) -> None:
        for listener in list(self._listeners):
            try:
                listener(published)
            except Exception:
                log.exception("a listener failed on %s from another replica", published.topic)

    def _database_changed(self, notice: str | None) -> None:
        for listener in list(self._change_listeners):
            try:
                listener(notice)
            except Exception:
                log.exception("a listener failed on a change of the database: %s", notice)

    async def _stored(self, row: int) -> str:
        """A stored message; LookupError if it was deleted before this replica fetched it."""
        connection = await self._sending.get()
        found = await (
            await connection.execute(
                "SELECT message FROM replica_event_payloads WHERE id = %s", (row,)
            )
        ).fetchone()
        if found is None:
            self._missed()
            raise LookupError(f"stored event {row} is gone")
        return str(found[0])
