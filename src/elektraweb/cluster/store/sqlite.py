"""clusterd's embedded database: a SQLite file (WAL, synchronous = FULL), its schema and the
chain of migrations that brings an older file up to date (`PRAGMA user_version`).

The DDL of the same tables on PostgreSQL is `store.postgres_schema`'s; the two are kept alike
table by table, so that the stores run the same statements on both (docs/architecture.md,
clusterd's database).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

from elektraweb.cluster.store.connection import (
    SCHEMA_VERSION,
    Cursor,
    Parameters,
    Row,
    newer_schema,
)

# The audit log's guards (docs/security.md §5, §9): an entry is written once, as a finished
# entry or as a pending intent whose outcome is then written exactly once (its who, what and
# target never change); it leaves only through a retention, which exports it first and is
# recorded in audit_retention in the same transaction. Retentions themselves stay forever.
_AUDIT_GUARDS = """
CREATE INDEX audit_pending ON audit(id) WHERE pending = 1;
CREATE TABLE audit_retention (
    id         INTEGER PRIMARY KEY,  -- the audit entry recording the retention
    through_id INTEGER NOT NULL,     -- entries up to this id were exported, then dropped
    file       TEXT NOT NULL,
    entries    INTEGER NOT NULL,
    sha256     TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
WHEN NOT (OLD.pending = 1 AND NEW.pending = 0 AND NEW.id = OLD.id AND NEW.time = OLD.time
          AND NEW.user = OLD.user AND NEW.action = OLD.action
          AND NEW.target_type = OLD.target_type AND NEW.target_id IS OLD.target_id
          AND NEW.key IS OLD.key)
BEGIN SELECT RAISE(ABORT,
    'the audit log is append-only: only the outcome of a pending entry can be recorded, once');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
WHEN OLD.pending = 1 OR OLD.action = 'audit.retain' OR NOT EXISTS
    (SELECT 1 FROM audit_retention AS r JOIN audit AS a ON a.id = r.id
     WHERE r.through_id >= OLD.id AND r.id > OLD.id AND a.action = 'audit.retain')
BEGIN SELECT RAISE(ABORT,
    'the audit log is append-only: entries leave only by a retention that exported them');
END;
CREATE TRIGGER audit_retention_no_update BEFORE UPDATE ON audit_retention
BEGIN SELECT RAISE(ABORT, 'retentions are permanent'); END;
CREATE TRIGGER audit_retention_no_delete BEFORE DELETE ON audit_retention
BEGIN SELECT RAISE(ABORT, 'retentions are permanent'); END;
"""

# Every key a write changed, for the history (docs/api.md §History): written with the entry's
# outcome, never changed after; it leaves with its entry (a retention).
_AUDIT_CHANGES = """
CREATE TABLE audit_changes (
    entry  INTEGER NOT NULL REFERENCES audit(id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    before TEXT,  -- {"value", "meta"} as JSON; NULL: the key did not exist
    after  TEXT,
    PRIMARY KEY (entry, key)
);
CREATE INDEX audit_changes_key ON audit_changes(key);
CREATE TRIGGER audit_changes_no_update BEFORE UPDATE ON audit_changes
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: a recorded change never changes'); END;
"""

# Hosts that enroll themselves (docs/deploy.md §4): a new instance may wait for an admin
# (`state` pending, never contacted), and one-time tokens let a host ask to join.
_ENROLLMENT = """
ALTER TABLE instances ADD COLUMN state TEXT NOT NULL DEFAULT 'accepted'
    CHECK (state IN ('pending', 'accepted'));
CREATE TABLE enrollment_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created    TEXT NOT NULL,
    expires    REAL NOT NULL,
    cluster_id INTEGER REFERENCES clusters(id) ON DELETE CASCADE,  -- accept into it at once
    used       TEXT,                                               -- when it was spent
    instance_id INTEGER                                            -- the instance it enrolled
);
"""

# A cluster's draft and its releases (store.releases).
_RELEASES = """
CREATE TABLE cluster_drafts (
    id         INTEGER PRIMARY KEY,
    cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    user       TEXT NOT NULL,
    time       TEXT NOT NULL,
    op         TEXT NOT NULL CHECK (op IN ('set', 'rm')),
    key        TEXT NOT NULL,
    value      TEXT,
    meta       TEXT NOT NULL DEFAULT '{}'  -- a metadata patch: {name: value | null}
);
CREATE INDEX cluster_drafts_cluster ON cluster_drafts(cluster_id, id);
CREATE TABLE cluster_releases (
    id         INTEGER PRIMARY KEY,
    cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    user       TEXT NOT NULL,
    time       TEXT NOT NULL,
    message    TEXT NOT NULL,
    entry      INTEGER,  -- the audit entry of the release's write (NULL while it is sent)
    state      TEXT NOT NULL CHECK (state IN ('canary', 'published', 'rolled-back')),
    keys       TEXT NOT NULL,               -- the names of the keys the release changes
    canary     TEXT NOT NULL DEFAULT '[]',  -- the canary members' ids
    held       TEXT NOT NULL DEFAULT '{}'   -- while a canary: {key: {value, meta} | null}
);
CREATE UNIQUE INDEX cluster_release_in_flight ON cluster_releases(cluster_id)
    WHERE state = 'canary';
"""

# What each member has of its cluster's keys (store.applied_keys); before version 6 the store
# created these on first use, so the migration creates them only where they are missing.
_APPLIED = """
CREATE TABLE IF NOT EXISTS cluster_applied (
    cluster_id  INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    instance_id INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    revision    TEXT,
    meta_names  TEXT NOT NULL DEFAULT '[]',
    observed    TEXT,
    rejected    TEXT,
    drift       TEXT,
    PRIMARY KEY (cluster_id, instance_id, name)
);
CREATE TABLE IF NOT EXISTS cluster_unlocks (
    instance_id INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    cluster_id  INTEGER NOT NULL,
    PRIMARY KEY (instance_id, cluster_id)
);
"""

# A cluster's version moves on in the transaction that changes its desired state or its members
# (store.cluster_keys), so that every clusterd on the database can tell whether what it read
# before is still current.
_CLUSTER_VERSION = "ALTER TABLE clusters ADD COLUMN version INTEGER NOT NULL DEFAULT 0;"

# The login throttle's counters (docs/security.md §6): one per user name and per client address.
_LOGIN_FAILURES = """
CREATE TABLE login_failures (
    kind         TEXT NOT NULL CHECK (kind IN ('user', 'address')),
    subject      TEXT NOT NULL,
    failures     INTEGER NOT NULL,
    last_failure REAL NOT NULL,
    PRIMARY KEY (kind, subject)
);
CREATE INDEX login_failures_last ON login_failures(last_failure);
"""

_SCHEMA = (
    """
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
    result      TEXT NOT NULL,
    pending     INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1))
);
CREATE INDEX audit_target ON audit(target_type, target_id);
CREATE INDEX audit_user ON audit(user);
CREATE INDEX audit_key ON audit(key);
"""
    + _AUDIT_GUARDS
    + _AUDIT_CHANGES
    + _RELEASES
    + _ENROLLMENT
    + _APPLIED
    + _CLUSTER_VERSION
    + _LOGIN_FAILURES
)

# Each takes the schema from its version to the next; a start applies all it is behind.
_MIGRATIONS = {
    # 1 → 2: pending intents and retention.
    1: "ALTER TABLE audit ADD COLUMN pending INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1));"
    "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;" + _AUDIT_GUARDS,
    # 2 → 3: every key a write changed (the history).
    2: _AUDIT_CHANGES,
    # 3 → 4: cluster drafts and releases.
    3: _RELEASES,
    # 4 → 5: pending instances and enrollment tokens.
    4: _ENROLLMENT,
    # 5 → 6: what members have (created on first use until now) and the clusters' versions.
    5: _APPLIED + _CLUSTER_VERSION,
    # 6 → 7: the login throttle's counters (in memory until now).
    6: _LOGIN_FAILURES,
}


def _dict_row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, values, strict=True)}


class SQLiteConnection:
    """A `store.connection.Connection` on a SQLite file."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.row_factory = _dict_row
        connection.execute("PRAGMA journal_mode = WAL")
        # FULL: every commit is fsync'd before it returns, so what clusterd acknowledged (an
        # audit entry, a user, a token) survives a crash of the machine too. Concurrent requests
        # share those fsyncs through `group_commit` (docs/security.md §5).
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA busy_timeout = 5000")
        self.raw = connection
        """The driver's connection, for what only SQLite has (PRAGMAs, tracing)."""

    def execute(self, sql: str, parameters: Parameters = ()) -> Cursor:
        return self.raw.execute(sql, cast(tuple[Any, ...], parameters))

    def executemany(self, sql: str, rows: Iterable[Parameters]) -> None:
        self.raw.executemany(sql, cast(Iterable[tuple[Any, ...]], rows))

    def begin(self) -> None:
        # IMMEDIATE: the write lock from the start, so a transaction's reads stay true until
        # it commits (a check, then the insert it allowed).
        self.raw.execute("BEGIN IMMEDIATE")

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    def close(self) -> None:
        self.raw.close()


def open_file(path: Path) -> tuple[SQLiteConnection, SQLiteConnection]:
    """Two connections to the file at `path` (made, and brought to the current schema, if
    needed): one for the event loop, one for the group commit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = SQLiteConnection(path)
    _migrate(connection.raw)
    return connection, SQLiteConnection(path)


def _migrate(connection: sqlite3.Connection) -> None:
    version = connection.execute("PRAGMA user_version").fetchone()["user_version"]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise newer_schema(version)
    if version == 0:
        steps = _SCHEMA
    else:
        steps = "".join(_MIGRATIONS[step] for step in range(version, SCHEMA_VERSION))
    connection.executescript(
        f"BEGIN IMMEDIATE;{steps}PRAGMA user_version = {SCHEMA_VERSION};COMMIT;"
    )
