"""Rows of the registry as this clusterd last read them, so that a request naming an instance
or a cluster costs no database round trip (docs/architecture.md, The registry's cache).

A cached row is used only while every change of the registry reaches this clusterd
(`Database.hears_every_change`): on SQLite always, on PostgreSQL while the replicas' relay
listens for the others' notices. Every change empties the cache, announced by the transaction
that makes it (`Database.changed`, inside the transaction, so a commit cannot go unannounced):
here at once, on the other replicas when the notice arrives. Reads inside a transaction go to
the database, since a write checks what it reads. A read and the filling of the cache happen
in one step of the event loop, so no notice can fall between them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from elektraweb.cluster.store.database import REGISTRY_TABLES, Database

Key = TypeVar("Key")
Value = TypeVar("Value")


class RowCache(Generic[Key, Value]):
    """What `read(key)` answered, until the registry changes. A read that raises (such as
    `RecordNotFound`) is not kept: a row added elsewhere is found at once."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._rows: dict[Key, Value] = {}
        database.on_change(self._changed)

    def get(self, key: Key, read: Callable[[Key], Value]) -> Value:
        if not self._db.hears_every_change or self._db.connection.in_transaction:
            return read(key)
        if key not in self._rows:
            self._rows[key] = read(key)
        return self._rows[key]

    def _changed(self, table: str) -> None:
        if table in REGISTRY_TABLES:
            self._rows.clear()
