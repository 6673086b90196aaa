"""clusterd's database on a PostgreSQL server (`clusterd --database postgresql://...`): the
connection (psycopg 3), the schema, and its versions (`schema_version`).

The tables are `store.sqlite`'s, table by table, in PostgreSQL's words: identity columns for
SQLite's INTEGER PRIMARY KEY, DOUBLE PRECISION for REAL, `"user"` quoted (reserved here), the
audit log's guards as plpgsql trigger functions raising an integrity violation (as SQLite's
RAISE(ABORT) does), TRUNCATE refused too, a `rowid` column where the history orders by insertion,
and `json_extract` for the one use the history makes of SQLite's. A new database gets the current
schema at once; `_MIGRATIONS` takes an older one forward, step by step. Replicas starting together
take a transaction-scoped advisory lock first, so only one of them creates or migrates the schema.
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
    SCHEMA_VERSION,
    Cursor,
    DatabaseUnavailable,
    IntegrityViolation,
    Parameters,
    Row,
    newer_schema,
)
from elektraweb.cluster.store.database_url import redacted
from elektraweb.cluster.store.errors import DatabaseLost

log = logging.getLogger(__name__)
_Result = TypeVar("_Result")

CONNECT_TIMEOUT = 10
"""Seconds to reach the server, unless the URL says (`?connect_timeout=`)."""
APPLICATION_NAME = "clusterd"
"""How clusterd's data connections show in `pg_stat_activity`, unless the URL says
(`?application_name=`); the replicas' coordination connections name themselves."""
MIGRATION_LOCK = 0x636C7573
"""The advisory lock held while the schema is created or migrated."""

_GUARDS = """
CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit FOR EACH ROW
    WHEN (NOT (OLD.pending = 1 AND NEW.pending = 0 AND NEW.id = OLD.id AND NEW.time = OLD.time
               AND NEW."user" = OLD."user" AND NEW.action = OLD.action
               AND NEW.target_type = OLD.target_type
               AND NEW.target_id IS NOT DISTINCT FROM OLD.target_id
               AND NEW.key IS NOT DISTINCT FROM OLD.key))
    EXECUTE FUNCTION refuse('the audit log is append-only: only the outcome of a pending entry'
                            ' can be recorded, once');

-- A trigger's WHEN takes no subquery: this guard is a function of its own.
CREATE FUNCTION audit_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.pending = 1 OR OLD.action = 'audit.retain' OR NOT EXISTS
        (SELECT 1 FROM audit_retention AS r JOIN audit AS a ON a.id = r.id
         WHERE r.through_id >= OLD.id AND r.id > OLD.id AND a.action = 'audit.retain') THEN
        RAISE EXCEPTION 'the audit log is append-only: entries leave only by a retention that'
            ' exported them' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_no_delete();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT
    EXECUTE FUNCTION refuse('the audit log is append-only: entries leave only by a retention');

CREATE TRIGGER audit_retention_no_update BEFORE UPDATE OR DELETE ON audit_retention
    FOR EACH ROW EXECUTE FUNCTION refuse('retentions are permanent');
CREATE TRIGGER audit_retention_no_truncate BEFORE TRUNCATE ON audit_retention
    FOR EACH STATEMENT EXECUTE FUNCTION refuse('retentions are permanent');
CREATE TRIGGER audit_changes_no_update BEFORE UPDATE ON audit_changes
    FOR EACH ROW EXECUTE FUNCTION refuse(
        'the audit log is append-only: a recorded change never changes');
"""

# SQLite's json_extract as the history uses it: a top-level member ('$.name') of a JSON text,
# a boolean as 0 or 1.
_JSON_EXTRACT = """
CREATE FUNCTION json_extract(document TEXT, path TEXT) RETURNS INTEGER
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE jsonb_typeof(document::jsonb -> substr(path, 3))
        WHEN 'boolean' THEN (document::jsonb ->> substr(path, 3))::boolean::integer
        WHEN 'number' THEN (document::jsonb ->> substr(path, 3))::numeric::integer
    END
$$;
"""

_LOGIN_FAILURES = """
CREATE TABLE login_failures (
    kind         TEXT NOT NULL CHECK (kind IN ('user', 'address')),
    subject      TEXT NOT NULL,
    failures     BIGINT NOT NULL,
    last_failure DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (kind, subject)
);
CREATE INDEX login_failures_last ON login_failures(last_failure);
"""

_SCHEMA = (
    """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE clusters (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    version     BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE instances (
    id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name          TEXT NOT NULL,
    endpoint      TEXT NOT NULL,
    endpoint_key  TEXT NOT NULL UNIQUE,
    public_key    TEXT NOT NULL UNIQUE,
    description   TEXT NOT NULL DEFAULT '',
    visibility    TEXT NOT NULL DEFAULT 'user',
    cluster_id    BIGINT REFERENCES clusters(id) ON DELETE SET NULL,
    state         TEXT NOT NULL DEFAULT 'accepted' CHECK (state IN ('pending', 'accepted'))
);
CREATE INDEX instances_cluster ON instances(cluster_id);
CREATE TABLE cluster_keys (
    cluster_id BIGINT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
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
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    "user"     TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE ON UPDATE CASCADE,
    expires    DOUBLE PRECISION NOT NULL
);
CREATE TABLE api_tokens (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    "user"     TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE ON UPDATE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    created    TEXT NOT NULL
);
CREATE TABLE audit (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    time        TEXT NOT NULL,
    "user"      TEXT NOT NULL,
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
CREATE INDEX audit_user ON audit("user");
CREATE INDEX audit_key ON audit(key);
CREATE INDEX audit_pending ON audit(id) WHERE pending = 1;
CREATE TABLE audit_retention (
    id         BIGINT PRIMARY KEY,  -- the audit entry recording the retention
    through_id BIGINT NOT NULL,     -- entries up to this id were exported, then dropped
    file       TEXT NOT NULL,
    entries    BIGINT NOT NULL,
    sha256     TEXT NOT NULL
);
CREATE TABLE audit_changes (
    rowid  BIGINT GENERATED ALWAYS AS IDENTITY,  -- the order they were written in, as in SQLite
    entry  BIGINT NOT NULL REFERENCES audit(id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    before TEXT,
    after  TEXT,
    PRIMARY KEY (entry, key)
);
CREATE INDEX audit_changes_key ON audit_changes(key);
CREATE TABLE cluster_drafts (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    cluster_id BIGINT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    "user"     TEXT NOT NULL,
    time       TEXT NOT NULL,
    op         TEXT NOT NULL CHECK (op IN ('set', 'rm')),
    key        TEXT NOT NULL,
    value      TEXT,
    meta       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX cluster_drafts_cluster ON cluster_drafts(cluster_id, id);
CREATE TABLE cluster_releases (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    cluster_id BIGINT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    "user"     TEXT NOT NULL,
    time       TEXT NOT NULL,
    message    TEXT NOT NULL,
    entry      BIGINT,
    state      TEXT NOT NULL CHECK (state IN ('canary', 'published', 'rolled-back')),
    keys       TEXT NOT NULL,
    canary     TEXT NOT NULL DEFAULT '[]',
    held       TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX cluster_release_in_flight ON cluster_releases(cluster_id)
    WHERE state = 'canary';
CREATE TABLE enrollment_tokens (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    created_by  TEXT NOT NULL,
    created     TEXT NOT NULL,
    expires     DOUBLE PRECISION NOT NULL,
    cluster_id  BIGINT REFERENCES clusters(id) ON DELETE CASCADE,
    used        TEXT,
    instance_id BIGINT
);
CREATE TABLE cluster_applied (
    cluster_id  BIGINT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    instance_id BIGINT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    revision    TEXT,
    meta_names  TEXT NOT NULL DEFAULT '[]',
    observed    TEXT,
    rejected    TEXT,
    drift       TEXT,
    PRIMARY KEY (cluster_id, instance_id, name)
);
CREATE TABLE cluster_unlocks (
    instance_id BIGINT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    cluster_id  BIGINT NOT NULL,
    PRIMARY KEY (instance_id, cluster_id)
);
"""
    + _GUARDS
    + _JSON_EXTRACT
    + _LOGIN_FAILURES
)

# Each takes the schema from its version to the next (the first PostgreSQL schema is version 6).
_MIGRATIONS: dict[int, LiteralString] = {
    # 6 → 7: the login throttle's counters, shared by the replicas (in memory until now).
    6: _LOGIN_FAILURES,
}


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
        _migrate(connection)
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


def _migrate(connection: psycopg.Connection[Row]) -> None:
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        found = connection.execute("SELECT to_regclass('schema_version') AS name").fetchone()
        if found is None or found["name"] is None:
            connection.execute(_SCHEMA)
            connection.execute("INSERT INTO schema_version VALUES (%s)", (SCHEMA_VERSION,))
            return
        row = connection.execute("SELECT version FROM schema_version").fetchone()
        version = 0 if row is None else int(row["version"])
        if version > SCHEMA_VERSION:
            raise newer_schema(version)
        for step in range(version, SCHEMA_VERSION):
            connection.execute(_MIGRATIONS[step])
        connection.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION,))
