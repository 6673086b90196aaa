"""clusterd's database on a PostgreSQL server (`clusterd --database postgresql://...`): the
connection (psycopg 3), which reconnects and says why it cannot; its schema and versions are in
`postgres_schema`.
"""

from __future__ import annotations

import logging
import re
import select
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import LiteralString, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from elektraweb.cluster.store.connection import (
    Cursor,
    DatabaseUnavailable,
    IntegrityViolation,
    Parameters,
    Row,
)
from elektraweb.cluster.store.database_url import redacted
from elektraweb.cluster.store.errors import DatabaseLost
from elektraweb.cluster.store.postgres_schema import migrate

log = logging.getLogger(__name__)
_Result = TypeVar("_Result")

CONNECT_TIMEOUT = 10
"""Seconds to reach the server, unless the URL says (`?connect_timeout=`)."""
APPLICATION_NAME = "clusterd"
"""How clusterd's data connections show in `pg_stat_activity`, unless the URL says
(`?application_name=`); the replicas' coordination connections name themselves."""


@lru_cache(maxsize=1024)
def _query(sql: str) -> LiteralString:
    """`sql` with psycopg's placeholders: `?` outside string literals becomes `%s`, `%` is
    doubled."""
    parts = re.split(r"('(?:[^']|'')*')", sql.replace("%", "%%"))
    return "".join(part if part.startswith("'") else part.replace("?", "%s") for part in parts)


class _NoRows:
    """The result of a statement that did not run: there was nothing left for it to do."""

    rowcount = 0

    def fetchone(self) -> Row | None:
        return None

    def fetchall(self) -> list[Row]:
        return []

    def __iter__(self) -> Iterator[Row]:
        return iter(())


class PostgresConnection:
    """A `store.connection.Connection` to a PostgreSQL database that outlives its server
    connection: one the server ended while it sat idle (`pg_terminate_backend`, a restart, a
    network cut: the socket then has something to read, an idle one never does) is replaced
    before the next statement. One lost under a statement fails that statement with
    `DatabaseLost` (a 503: whether it ran is unknown); inside a transaction, every statement up
    to its ROLLBACK does (the transaction is gone), and the ROLLBACK itself has nothing to do."""

    dialect = "postgresql"

    def __init__(self, connection: psycopg.Connection[Row], url: str) -> None:
        self._connection = connection
        self._url = url
        self._lost = False
        """The connection broke inside a transaction that has not been rolled back yet."""

    def execute(self, sql: str, parameters: Parameters = ()) -> Cursor:
        if self._lost and sql.startswith(("ROLLBACK", "RELEASE")):
            self._lost = sql != "ROLLBACK"  # `ROLLBACK TO` a savepoint: the outer one follows
            return _NoRows()
        return self._run(lambda connection: connection.execute(_query(sql), parameters))

    def executemany(self, sql: str, rows: Iterable[Parameters]) -> None:
        def run(connection: psycopg.Connection[Row]) -> None:
            with connection.cursor() as cursor:
                cursor.executemany(_query(sql), rows)

        self._run(run)

    def begin(self) -> None:
        self.execute("BEGIN")

    @property
    def in_transaction(self) -> bool:
        status = self._connection.info.transaction_status
        return self._lost or status not in (TransactionStatus.IDLE, TransactionStatus.UNKNOWN)

    def close(self) -> None:
        self._connection.close()

    def _run(self, statement: Callable[[psycopg.Connection[Row]], _Result]) -> _Result:
        if self._lost:
            raise DatabaseLost(_LOST)
        in_transaction = self.in_transaction
        if not in_transaction and (self._connection.closed or _ended(self._connection)):
            self._reconnect()
        connection = self._connection
        try:
            return statement(connection)
        except psycopg.IntegrityError as error:
            raise IntegrityViolation(str(error)) from error
        except psycopg.OperationalError as error:
            if not connection.closed:
                raise
            self._lost = in_transaction
            log.warning("database %s: %s", redacted(self._url), _reason(error, None))
            raise DatabaseLost(_LOST) from None

    def _reconnect(self) -> None:
        self._connection.close()
        shown = redacted(self._url)
        log.warning("database %s: the server ended the connection; reconnecting", shown)
        try:
            self._connection = _connect(self._url)
        except DatabaseUnavailable as error:
            raise DatabaseLost(str(error)) from None
        log.info("database %s: reconnected", shown)


_LOST = "the connection to the database was lost under this request; try again"


def _ended(connection: psycopg.Connection[Row]) -> bool:
    """Whether the server has said anything to this idle connection: only a goodbye (or a
    closed socket) comes unasked."""
    readable, _, _ = select.select([connection.fileno()], [], [], 0)
    return bool(readable)


def _reason(error: Exception, password: str | None) -> str:
    """The driver's message on one line, without the password should it quote it."""
    text = "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return text.replace(password, "***") if password else text


def _connect(url: str) -> psycopg.Connection[Row]:
    shown = redacted(url)
    password: str | None = None
    try:
        options = conninfo_to_dict(url)
        password = None if options.get("password") is None else str(options["password"])
        defaults: dict[str, str | int] = {
            "connect_timeout": CONNECT_TIMEOUT,
            "application_name": APPLICATION_NAME,
        }
        missing = {name: value for name, value in defaults.items() if name not in options}
        if missing:
            url = make_conninfo(url, **missing)
        connection = psycopg.connect(url, autocommit=True, row_factory=dict_row)
    except psycopg.Error as error:
        reason = _reason(error, password)
        raise DatabaseUnavailable(f"cannot connect to database {shown}: {reason}") from None
    # On, whatever the server's default: a commit returns once its WAL is on disk.
    connection.execute("SET synchronous_commit = on")
    return connection


def open_url(url: str) -> tuple[PostgresConnection, PostgresConnection]:
    """Two connections to the database at `url` (its schema created or migrated first, if
    needed): one for the event loop, one for the group commit."""
    connection = _connect(url)
    try:
        migrate(connection)
    except psycopg.Error as error:
        connection.close()
        reason = _reason(error, None)
        raise DatabaseUnavailable(
            f"cannot set up clusterd's tables in database {redacted(url)}: {reason}"
        ) from None
    except DatabaseUnavailable:
        connection.close()
        raise
    return PostgresConnection(connection, url), PostgresConnection(_connect(url), url)
