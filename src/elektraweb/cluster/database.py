"""clusterd's SQLite file: opening it (WAL), its schema, and transactions.

The stores (registry, users, credentials, audit) run their statements on the event loop's thread:
each is a short transaction on a local file, cheaper than a hop to a worker thread, and keeping
one writer makes check-then-insert sequences atomic with respect to other requests.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE clusters (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE instances (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    endpoint      TEXT NOT NULL,
    endpoint_key  TEXT NOT NULL UNIQUE,  -- the normalised endpoint: one instance per address
    public_key    TEXT NOT NULL UNIQUE,  -- the instance's identity
    description   TEXT NOT NULL DEFAULT '',
    visibility    TEXT NOT NULL DEFAULT 'user',
    cluster_id    INTEGER REFERENCES clusters(id) ON DELETE SET NULL
);
CREATE INDEX instances_cluster ON instances(cluster_id);
-- A cluster's desired state: the keys it sets on every member.
CREATE TABLE cluster_keys (
    cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT,
    meta       TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (cluster_id, name)
);
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin'))
);
CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user       TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE ON UPDATE CASCADE,
    expires    REAL NOT NULL
);
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    user       TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE ON UPDATE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    created    TEXT NOT NULL
);
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    time        TEXT NOT NULL,
    user        TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT,
    key         TEXT,
    before      TEXT,
    after       TEXT,
    result      TEXT NOT NULL
);
CREATE INDEX audit_target ON audit(target_type, target_id);
CREATE INDEX audit_user ON audit(user);
CREATE INDEX audit_key ON audit(key);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be changed'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be removed'); END;
"""


class Database:
    """One SQLite connection in autocommit mode; `transaction()` groups statements."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    @classmethod
    def open(cls, path: Path) -> Database:
        """Open (creating file and schema on first use) the database at `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode: a commit survives a clusterd crash; only power loss can lose the
        # last commits, never corrupt the file.
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA busy_timeout = 5000")
        database = cls(connection)
        database._create_schema()
        return database

    def _create_schema(self) -> None:
        version = self.connection.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version != 0:
            raise RuntimeError(
                f"database schema version {version} is not {SCHEMA_VERSION}, "
                "the version this clusterd knows"
            )
        self.connection.executescript(
            f"BEGIN IMMEDIATE;{_SCHEMA}PRAGMA user_version = {SCHEMA_VERSION};COMMIT;"
        )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
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
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.connection
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()
