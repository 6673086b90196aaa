"""clusterd's connection to PostgreSQL outlives the server ending it (pg_terminate_backend, as a
database restart or a network cut would), on a real server: ended while idle, the next statement
runs on a new connection; ended under a transaction, the transaction fails as a whole with
`DatabaseLost` (503), nothing of it is kept, and the statement after it succeeds."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from elektraweb.cluster.store.connection import Connection
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.errors import DatabaseLost
from elektraweb.cluster.store.registry import Registry


@pytest.fixture
def database(postgres_dsn: str) -> Iterator[Database]:
    database = Database.open(postgres_dsn)
    yield database
    database.close()


# How long the server may take to end a backend. pg_terminate_backend with a timeout returns
# once the backend has gone (its goodbye sent, its socket closed): without one it returns at
# once, and the next statement could still reach the backend that is about to end.
TERMINATE_WAIT_MS = 10_000


def terminate(dsn: str, backend: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as connection:
        row = connection.execute(
            "SELECT pg_terminate_backend(%s, %s)", (backend, TERMINATE_WAIT_MS)
        ).fetchone()
    assert row == (True,), f"backend {backend} did not end"


def backend(database: Database) -> int:
    return pid_of(database.connection)


def test_a_connection_ended_while_idle_is_replaced_before_the_next_statement(
    database: Database, postgres_dsn: str
) -> None:
    registry = Registry(database)
    registry.add_cluster("prod")
    ended = backend(database)
    terminate(postgres_dsn, ended)

    assert [cluster.name for cluster in registry.clusters()] == ["prod"]
    registry.add_cluster("stage")
    assert backend(database) != ended
    assert [cluster.name for cluster in registry.clusters()] == ["prod", "stage"]


def test_a_transaction_whose_connection_ends_fails_whole_and_the_next_one_succeeds(
    database: Database, postgres_dsn: str
) -> None:
    registry = Registry(database)
    with pytest.raises(DatabaseLost, match="lost"), database.transaction() as db:
        db.execute("INSERT INTO clusters (name) VALUES ('half')")
        with database.transaction():  # a savepoint, rolled back with the rest
            terminate(postgres_dsn, backend(database))
            db.execute("INSERT INTO clusters (name) VALUES ('never')")

    assert not database.connection.in_transaction
    registry.add_cluster("after")
    assert [cluster.name for cluster in registry.clusters()] == ["after"]


def pid_of(db: Connection) -> int:
    row = db.execute("SELECT pg_backend_pid() AS pid").fetchone()
    assert row is not None
    return int(row["pid"])


async def test_a_group_commit_whose_connection_ends_fails_its_writes_and_the_next_one_succeeds(
    database: Database, postgres_dsn: str
) -> None:
    committer = await database.group_commit.run(pid_of)

    def insert_after_the_end(db: Connection) -> None:
        db.execute("INSERT INTO clusters (name) VALUES ('lost')")
        terminate(postgres_dsn, committer)
        db.execute("INSERT INTO clusters (name) VALUES ('lost too')")

    with pytest.raises(DatabaseLost):
        await database.group_commit.run(insert_after_the_end)
    await database.group_commit.run(
        lambda db: db.execute("INSERT INTO clusters (name) VALUES ('kept')")
    )
    assert [cluster.name for cluster in Registry(database).clusters()] == ["kept"]
