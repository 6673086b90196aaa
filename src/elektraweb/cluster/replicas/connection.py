"""One PostgreSQL connection of a replica, opened when first needed and again after it broke."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.rows import TupleRow


async def connect(url: str, name: str) -> AsyncConnection[TupleRow]:
    """An autocommit connection to `url` that `pg_stat_activity` shows as `name`."""
    return await AsyncConnection.connect(url, autocommit=True, application_name=name)


class LazyConnection:
    """An autocommit connection to `url`, named `name` (`connect`): `get()` opens it unless it
    is open, `drop()` closes it (after an error, so that the next `get()` starts afresh)."""

    def __init__(self, url: str, name: str) -> None:
        self._url = url
        self._name = name
        self._connection: AsyncConnection[TupleRow] | None = None

    async def get(self) -> AsyncConnection[TupleRow]:
        if self._connection is None or self._connection.closed:
            self._connection = await connect(self._url, self._name)
        return self._connection

    async def drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
