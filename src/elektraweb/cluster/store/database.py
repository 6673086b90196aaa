"""clusterd's database: a SQLite file (the default) or a PostgreSQL server, opened by its
location, and transactions on it (docs/architecture.md, clusterd's database).

The stores (registry, users, credentials, audit) run their statements on the event loop's thread:
each is a short transaction, on a local file or over loopback to a server (a point read takes
0.03 ms on PostgreSQL, bench/store.py), cheaper than a hop to a worker thread, and keeping one
writer per clusterd makes check-then-insert sequences atomic with respect to its other
requests. The writes of the request hot path (the audit log's intents and outcomes) go through
`group_commit` instead, so that concurrent requests share one commit and its fsync.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from elektraweb.cluster.store import database_url, sqlite
from elektraweb.cluster.store.connection import (
    SCHEMA_VERSION,
    Connection,
    DatabaseUnavailable,
)
from elektraweb.cluster.store.group_commit import GroupCommit

__all__ = [
    "CHANGES_CHANNEL",
    "HEARING_LOST",
    "REGISTRY_TABLES",
    "SCHEMA_VERSION",
    "WATCHED_TABLES",
    "Database",
    "DatabaseUnavailable",
    "describe",
]

log = logging.getLogger(__name__)

_SQLITE_URL = "sqlite:///"
WATCHED_TABLES = frozenset({"users", "sessions", "api_tokens"})
"""The tables credentials are checked on, whose changes `Database.changed` announces."""
REGISTRY_TABLES = frozenset({"instances", "clusters"})
"""The registry's tables, whose changes `Database.changed` announces too (the registry's rows
are cached per clusterd, `store.row_cache`)."""
CHANGES_CHANNEL = "elektraweb_changes"
"""Where a clusterd on PostgreSQL tells the others on the database of a change of an announced
table: `<origin> <table>`, delivered at commit (`Database.changed_elsewhere`)."""
HEARING_LOST = ""
"""The notice `changed_elsewhere` is given when the connection that hears the others' notices
broke: until the next None, their changes go unheard."""

RULE_LOCKS = 0x72756C65
"""The class of PostgreSQL's advisory locks that `Database.serialize` takes (two-key locks, so
they never meet the single-key migration lock)."""


def describe(location: Path | str) -> str:
    """The database as clusterd names it in messages and logs: never with its password."""
    return str(location) if isinstance(location, Path) else database_url.redacted(location)


class Database:
    """One connection in autocommit mode, where `transaction()` groups statements; and a
    second one behind `group_commit`, for writes that concurrent requests commit together."""

    def __init__(self, connection: Connection, group_commit: GroupCommit) -> None:
        self.connection = connection
        self.group_commit = group_commit
        self._listeners: list[Callable[[str], None]] = []
        self._origin = secrets.token_hex(8)
        """Tells this clusterd's notifications on `CHANGES_CHANNEL` from the others'."""
        self.hears_every_change = connection.dialect == "sqlite"
        """Whether every change of the announced tables reaches `on_change` listeners: on
        SQLite (one clusterd) always; on PostgreSQL only while the replicas' relay listens
        (from its first None on, until `HEARING_LOST`)."""

    def on_change(self, listener: Callable[[str], None]) -> None:
        """Call `listener` with the table's name whenever rows of a `WATCHED_TABLES` or
        `REGISTRY_TABLES` table change: by a store of this clusterd (`changed`) or, on
        PostgreSQL, of another clusterd on the database (`changed_elsewhere`)."""
        self._listeners.append(listener)

    def changed(self, table: str) -> None:
        """Told by the store that changed rows of `table`, right after the statement, inside
        its transaction (what the rows' foreign keys cascade to changed with them). On
        PostgreSQL the other clusterds on the database hear of it when it commits."""
        if self.connection.dialect == "postgresql":
            self.connection.execute(
                "SELECT pg_notify(?, ?)", (CHANGES_CHANNEL, f"{self._origin} {table}")
            )
        self._tell(table)

    def changed_elsewhere(self, notice: str | None) -> None:
        """A notification on `CHANGES_CHANNEL` (this clusterd's own are skipped); None: the
        others' notices are heard from now on, and some may have been missed before (at the
        start, or after the listening connection broke), so every table may have changed;
        `HEARING_LOST`: the listening connection broke, changes go unheard until None."""
        if notice == HEARING_LOST:
            self.hears_every_change = False
            return
        if notice is None:
            self.hears_every_change = True
            for table in sorted(WATCHED_TABLES | REGISTRY_TABLES):
                self._tell(table)
            return
        origin, _, table = notice.partition(" ")
        if origin != self._origin:
            self._tell(table)

    def _tell(self, table: str) -> None:
        for listener in self._listeners:
            listener(table)

    @classmethod
    def open(cls, location: Path | str) -> Database:
        """Open the database at `location`, a SQLite file's path or a URL (``postgresql://``,
        or ``sqlite:///relative/path``, ``sqlite:////absolute/path``), and bring its schema
        to this clusterd's version (creating it on first use). Raises `DatabaseUnavailable`."""
        if isinstance(location, str) and location.startswith(_SQLITE_URL):
            location = Path(location.removeprefix(_SQLITE_URL))
        connection: Connection
        committer: Connection
        if isinstance(location, Path):
            try:
                connection, committer = sqlite.open_file(location)
            except OSError as error:
                raise DatabaseUnavailable(f"cannot open database {location}: {error}") from None
        elif database_url.is_url(location):
            from elektraweb.cluster.store import postgres  # psycopg only where it is used

            connection, committer = postgres.open_url(location)
        else:
            raise DatabaseUnavailable(
                f"database URL {describe(location)} is not postgresql://USER:PASSWORD@HOST/NAME"
                " nor sqlite:///PATH"
            )
        log.info("database %s, schema version %d", describe(location), SCHEMA_VERSION)
        return cls(connection, GroupCommit(committer))

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Run the block's statements all or none; nested blocks become savepoints."""
        if self.connection.in_transaction:
            self.connection.execute("SAVEPOINT nested")
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK TO nested")
                raise
            finally:
                self.connection.execute("RELEASE nested")
            return
        self.connection.begin()
        try:
            yield self.connection
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def serialize(self, rule: str, *, shared: bool = False) -> None:
        """Inside a transaction, before it checks `rule` (a rule over several rows, such as
        "keep one admin"): wait until no other transaction on the database that checks it is
        open, so that a check and the write it allowed are one step for every clusterd on the
        database. On PostgreSQL a transaction-scoped advisory lock named by `rule`; on SQLite
        the transaction's write lock (`BEGIN IMMEDIATE`) already is one.

        `shared`: for a transaction that only relies on the rule and cannot break it for
        another (a member's outcomes rely on its membership): it waits for the exclusive
        holders only, and shared holders do not wait for each other."""
        assert self.connection.in_transaction, "serialize() belongs inside a transaction"
        if self.connection.dialect == "postgresql":
            lock = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
            self.connection.execute(
                f"SELECT {lock}(CAST(? AS integer), hashtext(?))", (RULE_LOCKS, rule)
            )

    def close(self) -> None:
        self.group_commit.close()
        self.connection.close()
