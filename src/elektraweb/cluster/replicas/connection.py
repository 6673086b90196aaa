"""One PostgreSQL connection of a replica, opened when first needed and again after it broke."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.rows import TupleRow


class LazyConnection:
    """An autocommit connection to `url`: `get()` opens it unless it is open, `drop()` closes
    it (after an error, so that the next `get()` starts afresh)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._connection: AsyncConnection[TupleRow] | None = None

    async def get(self) -> AsyncConnection[TupleRow]:
        if self._connection is None or self._connection.closed:
            self._connection = await AsyncConnection.connect(self._url, autocommit=True)
        return self._connection

    async def drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
