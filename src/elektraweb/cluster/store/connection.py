"""What the stores see of a database connection, whichever database it is (docs/architecture.md,
clusterd's database).

The stores write `?` placeholders and portable SQL (ON CONFLICT, RETURNING, IS [NOT] DISTINCT
FROM, `"user"` quoted since it is reserved in PostgreSQL); rows are dicts by column name; a new
row's id comes back through `RETURNING id`. `store.sqlite` and `store.postgres` implement this
for their driver, each with its own DDL and migrations.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

SCHEMA_VERSION = 7
"""The schema this clusterd knows; a database at an older version is migrated on start."""

Row = dict[str, Any]
"""One result row, by column name."""
Parameters = Sequence[object]
"""The values of a statement's `?` placeholders, in order."""


class IntegrityViolation(Exception):
    """A broken constraint or a refusing trigger on PostgreSQL: psycopg's IntegrityError, raised
    again as this so that nothing on SQLite imports psycopg (about 25 MB of libraries)."""


INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError, IntegrityViolation)
"""What either driver raises for a broken constraint or a refusing trigger (the audit log's
guards raise it on both)."""


@contextmanager
def checked_again(check: Callable[[], object]) -> Iterator[None]:
    """Around a transaction that `check` allowed: when a constraint refuses its write (another
    clusterd on the database wrote the same key or name after the check), `check` runs again,
    after the rollback, to refuse it as it refuses what it sees (docs/architecture.md, The
    rule on check-then-write)."""
    try:
        yield
    except INTEGRITY_ERRORS:
        check()
        raise


class DatabaseUnavailable(Exception):
    """The database cannot be used: a bad URL, an unreachable server, a refused login, a
    schema newer than this clusterd. The message names the database (never its password)."""


def newer_schema(version: int) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"the database's schema version {version} is newer than this clusterd's"
        f" ({SCHEMA_VERSION}): run a clusterd that knows it"
    )


class Cursor(Protocol):
    """The result of one statement."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Row | None: ...

    def fetchall(self) -> list[Row]: ...

    def __iter__(self) -> Iterator[Row]: ...


class Connection(Protocol):
    """One connection in autocommit mode; `begin()` starts a transaction that takes the
    database's write lock where it has one (SQLite), ended by COMMIT or ROLLBACK."""

    dialect: str
    """`sqlite` or `postgresql`."""

    def execute(self, sql: str, parameters: Parameters = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Parameters]) -> None: ...

    def begin(self) -> None: ...

    @property
    def in_transaction(self) -> bool: ...

    def close(self) -> None: ...


def new_id(cursor: Cursor) -> int:
    """The id that an ``INSERT ... RETURNING id`` gave its row."""
    row = cursor.fetchone()
    assert row is not None
    return int(row["id"])
