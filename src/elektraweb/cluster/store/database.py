"""clusterd's SQLite file: opening it (WAL, synchronous = FULL), its schema, and transactions.

The stores (registry, users, credentials, audit) run their statements on the event loop's thread:
each is a short transaction on a local file, cheaper than a hop to a worker thread, and keeping
one writer makes check-then-insert sequences atomic with respect to other requests. The writes
of the request hot path (the audit log's intents and outcomes) go through `group_commit`
instead, so that concurrent requests share one commit and its fsync.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from elektraweb.cluster.store.group_commit import GroupCommit
from elektraweb.cluster.store.releases import SCHEMA as _RELEASES

SCHEMA_VERSION = 5

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
}


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode = WAL")
    # FULL: every commit is fsync'd before it returns, so what clusterd acknowledged (an
    # audit entry, a user, a token) survives a crash of the machine too. Concurrent requests
    # share those fsyncs through `group_commit` (docs/security.md §5).
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA busy_timeout = 5000")
    return connection


class Database:
    """One SQLite connection in autocommit mode, where `transaction()` groups statements; and
    a second one behind `group_commit`, for writes that concurrent requests commit together."""

    def __init__(self, connection: sqlite3.Connection, group_commit: GroupCommit) -> None:
        self.connection = connection
        self.group_commit = group_commit

    @classmethod
    def open(cls, path: Path) -> Database:
        """Open (creating file and schema on first use) the database at `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = _connect(path)
        database = cls(connection, GroupCommit(_connect(path)))
        database._create_schema()
        return database

    def _create_schema(self) -> None:
        version = self.connection.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version in _MIGRATIONS:
            steps = "".join(_MIGRATIONS[step] for step in range(version, SCHEMA_VERSION))
            self.connection.executescript(
                f"BEGIN IMMEDIATE;{steps}PRAGMA user_version = {SCHEMA_VERSION};COMMIT;"
            )
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
        self.group_commit.close()
        self.connection.close()
