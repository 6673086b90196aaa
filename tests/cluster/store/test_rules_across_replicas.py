"""Rules that a check and then a write keep hold across clusterd replicas on one PostgreSQL
database (docs/architecture.md, clusterd's database): two connections, as two replicas have,
interleaved at the worst moment, the first paused right after its check until the second has
either checked too or is seen waiting for it. Exactly one of them wins."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Iterator

import pytest
from argon2 import PasswordHasher

from elektraweb.cluster.store.connection import Connection, Cursor, Parameters
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.errors import RecordConflict
from elektraweb.cluster.store.registry import InstanceFields, Registry
from elektraweb.cluster.store.users import User, Users
from elektraweb.wire import KeyPair

WAIT_STEPS = 400
"""How often the paused transaction looks whether the other has caught up (every 25 ms)."""


class PausingAfter:
    """A `Connection` that calls `pause` right after a statement containing `marker` ran."""

    def __init__(self, inner: Connection, marker: str, pause: Callable[[], None]) -> None:
        self._inner, self._marker, self._pause = inner, marker, pause
        self.dialect = inner.dialect

    def execute(self, sql: str, parameters: Parameters = ()) -> Cursor:
        cursor = self._inner.execute(sql, parameters)
        if self._marker in sql:
            self._pause()
        return cursor

    def executemany(self, sql: str, rows: Iterable[Parameters]) -> None:
        self._inner.executemany(sql, rows)

    def begin(self) -> None:
        self._inner.begin()

    @property
    def in_transaction(self) -> bool:
        return self._inner.in_transaction

    def close(self) -> None:
        self._inner.close()


@pytest.fixture
def replicas(postgres_dsn: str) -> Iterator[tuple[Database, Database]]:
    first, second = Database.open(postgres_dsn), Database.open(postgres_dsn)
    yield first, second
    first.close()
    second.close()


def _waiting_for_a_lock(database: Database) -> bool:
    row = database.connection.execute(
        "SELECT count(*) AS waiting FROM pg_locks WHERE NOT granted"
    ).fetchone()
    return row is not None and row["waiting"] > 0


@pytest.mark.parametrize("change", ["demote", "remove"])
def test_two_replicas_taking_the_last_two_admins_at_once_leave_one(
    replicas: tuple[Database, Database], postgres_dsn: str, change: str
) -> None:
    first, second = replicas
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    for name in ("one", "two"):
        asyncio.run(Users(first, hasher).add(name, "password-of-" + name, "admin"))
    first_checked, second_checked = threading.Event(), threading.Event()
    monitor = Database.open(postgres_dsn)

    def hold_until_the_second_checked_or_waits() -> None:
        first_checked.set()
        for _ in range(WAIT_STEPS):
            if second_checked.is_set() or _waiting_for_a_lock(monitor):
                return
            threading.Event().wait(0.025)
        raise AssertionError("the second replica neither checked nor waited")

    first.connection = PausingAfter(
        first.connection, "AS admins", hold_until_the_second_checked_or_waits
    )
    second.connection = PausingAfter(second.connection, "AS admins", second_checked.set)
    outcomes: dict[str, User | RecordConflict] = {}

    def take(database: Database, name: str) -> None:
        users = Users(database, hasher)
        try:
            if change == "demote":
                outcomes[name] = asyncio.run(users.update(name, password=None, role="viewer"))
            else:
                outcomes[name] = users.remove(name)
        except RecordConflict as refused:
            outcomes[name] = refused

    threads = [threading.Thread(target=take, args=(first, "one"))]
    threads[0].start()
    assert first_checked.wait(10)
    threads.append(threading.Thread(target=take, args=(second, "two")))
    threads[1].start()
    for thread in threads:
        thread.join()
    monitor.close()

    assert isinstance(outcomes["one"], User)
    refused = outcomes["two"]
    assert isinstance(refused, RecordConflict) and refused.code == "last-admin"
    assert [user.name for user in Users(first).users() if user.role == "admin"] == ["two"]


def test_two_replicas_joining_one_instance_to_two_clusters_at_once_leave_it_in_one(
    replicas: tuple[Database, Database],
) -> None:
    first, second = replicas
    registry = Registry(first)
    web, db = registry.add_cluster("web"), registry.add_cluster("db")
    instance = registry.add_instance(
        InstanceFields("host", "tcp://127.0.0.1:40001", KeyPair.generate().public)
    )
    # The second replica joins the instance to `db` while the first is between its check and
    # its write (nothing is locked yet: it has only read).
    first.connection = PausingAfter(
        first.connection,
        "SELECT * FROM instances WHERE id",
        lambda: None if joined else joined.append(Registry(second).join(db.id, instance.id)),
    )
    joined: list[object] = []
    with pytest.raises(RecordConflict) as refused:
        registry.join(web.id, instance.id)
    assert refused.value.code == "already-member"
    assert joined and Registry(second).members(db.id)[0].id == instance.id
    assert Registry(second).members(web.id) == []
