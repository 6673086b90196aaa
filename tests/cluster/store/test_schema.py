"""The schema on both backends: PostgreSQL gets the same tables and columns as SQLite, created
once however many clusterd replicas start together on an empty database, and a database newer
than this clusterd is refused, naming the versions."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import psycopg
import pytest

from elektraweb.cluster.api.login_throttle import LoginThrottle, ThrottleSettings
from elektraweb.cluster.store.cluster_keys import ClusterKeys
from elektraweb.cluster.store.connection import SCHEMA_VERSION, DatabaseUnavailable
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.login_failures import LoginFailures
from elektraweb.cluster.store.registry import Registry
from elektraweb.kdb.key import Key


def _columns(database: Database) -> dict[str, list[str]]:
    """Every table of clusterd's (not the version bookkeeping) and its columns, sorted."""
    if database.connection.dialect == "sqlite":
        tables = database.connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        ).fetchall()
        return {
            table["name"]: sorted(
                column["name"]
                for column in database.connection.execute(
                    "SELECT name FROM pragma_table_info(?)", (table["name"],)
                )
            )
            for table in tables
        }
    columns: dict[str, list[str]] = {}
    for row in database.connection.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() ORDER BY column_name"
    ):
        columns.setdefault(row["table_name"], []).append(row["column_name"])
    del columns["schema_version"]
    columns["audit_changes"].remove("rowid")  # SQLite's is implicit
    return columns


def test_an_empty_postgresql_database_gets_the_tables_sqlite_has(
    postgres_dsn: str, tmp_path: Path
) -> None:
    postgresql, sqlite = Database.open(postgres_dsn), Database.open(tmp_path / "c.sqlite3")
    try:
        assert _columns(postgresql) == _columns(sqlite)
        version = postgresql.connection.execute("SELECT version FROM schema_version").fetchall()
        assert version == [{"version": SCHEMA_VERSION}]
    finally:
        postgresql.close()
        sqlite.close()


def test_replicas_starting_together_on_an_empty_database_create_the_schema_once(
    postgres_dsn: str,
) -> None:
    starting = 4
    start = threading.Barrier(starting)
    opened: list[Database] = []
    failed: list[BaseException] = []

    def open_replica() -> None:
        start.wait()
        try:
            opened.append(Database.open(postgres_dsn))
        except BaseException as error:  # reported below, with the others
            failed.append(error)

    threads = [threading.Thread(target=open_replica) for _ in range(starting)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failed == []
        assert len(opened) == starting
        [first, *others] = opened
        cluster = Registry(first).add_cluster("prod")
        assert all(Registry(other).cluster(cluster.id).name == "prod" for other in others)
        versions = first.connection.execute("SELECT version FROM schema_version").fetchall()
        assert versions == [{"version": SCHEMA_VERSION}]
    finally:
        for database in opened:
            database.close()


def test_a_postgresql_database_newer_than_clusterd_is_refused(postgres_dsn: str) -> None:
    Database.open(postgres_dsn).close()
    with psycopg.connect(postgres_dsn, autocommit=True) as other:
        other.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(DatabaseUnavailable) as refused:
        Database.open(postgres_dsn)
    assert f"schema version {SCHEMA_VERSION + 1} is newer than this clusterd's" in str(
        refused.value
    )
    assert f"({SCHEMA_VERSION})" in str(refused.value)


def test_a_sqlite_file_newer_than_clusterd_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "clusterd.sqlite3"
    Database.open(path).close()
    with sqlite3.connect(path) as other:
        other.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DatabaseUnavailable, match=f"schema version {SCHEMA_VERSION + 1} is newer"):
        Database.open(path)
    with sqlite3.connect(path) as other:
        assert other.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


def test_a_version_5_sqlite_file_gains_the_cluster_versions(tmp_path: Path) -> None:
    path = tmp_path / "clusterd.sqlite3"
    database = Database.open(path)
    cluster = Registry(database).add_cluster("prod")
    database.close()
    # As clusterd left it before version 6: no versions, the applied tables made on first use.
    with sqlite3.connect(path) as old:
        old.executescript(
            "ALTER TABLE clusters DROP COLUMN version; DROP TABLE cluster_applied;"
            " DROP TABLE login_failures;"
            " PRAGMA user_version = 5;"
        )
    database = Database.open(path)
    try:
        registry = Registry(database)
        assert registry.cluster_version(cluster.id) == 0
        ClusterKeys(database).put(cluster.id, Key("system:/app/port", "8080"))
        assert registry.cluster_version(cluster.id) == 1
        applied = database.connection.execute("SELECT count(*) AS n FROM cluster_applied")
        assert applied.fetchone() == {"n": 0}
    finally:
        database.close()


def test_a_version_6_database_gains_the_login_throttles_counters(
    database_location: Path | str,
) -> None:
    database = Database.open(database_location)
    cluster = Registry(database).add_cluster("prod")
    # As clusterd left it before version 7: the counters were in each process's memory.
    if isinstance(database_location, Path):
        database.close()
        with sqlite3.connect(database_location) as old:
            old.executescript("DROP TABLE login_failures; PRAGMA user_version = 6;")
    else:
        database.connection.execute("DROP TABLE login_failures")
        database.connection.execute("UPDATE schema_version SET version = 6")
        database.close()
    database = Database.open(database_location)
    try:
        assert Registry(database).cluster(cluster.id).name == "prod"
        settings = ThrottleSettings(free_failures=1)
        throttle = LoginThrottle(LoginFailures(database), settings)
        [user, _] = throttle.failed("admin", "10.0.0.1")
        assert (user.kind, user.failures) == ("user", 1)
        assert throttle.retry_after("admin", None) == 1
    finally:
        database.close()
