"""Rules that a check and then a write keep hold across clusterd replicas on one PostgreSQL
database (docs/architecture.md, clusterd's database): two connections, as two replicas have,
interleaved at the worst moment, the first paused right after its check until the second has
either finished or is seen waiting for it (`support.interleaving`). Exactly one of them wins.
The registry's rules: test_membership_races.py.

A member's outcomes (`AppliedKeys`) take the membership lock shared: those of two clusters do
not queue behind each other, while a change of members still waits for them. (On SQLite the
database's single write lock makes every write wait, whatever the lock.)"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from argon2 import PasswordHasher

from elektraweb.cluster.store.applied_keys import AppliedKeys
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.errors import RecordConflict
from elektraweb.cluster.store.instances import Instance, InstanceFields
from elektraweb.cluster.store.registry import Registry
from elektraweb.cluster.store.users import User, Users
from elektraweb.wire import KeyPair
from support.interleaving import Step, interleave


@pytest.fixture
def replicas(postgres_dsn: str) -> Iterator[tuple[Database, Database]]:
    first, second = Database.open(postgres_dsn), Database.open(postgres_dsn)
    yield first, second
    first.close()
    second.close()


@pytest.mark.parametrize("change", ["demote", "remove"])
def test_two_replicas_taking_the_last_two_admins_at_once_leave_one(
    replicas: tuple[Database, Database], postgres_dsn: str, change: str
) -> None:
    first, second = replicas
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    for name in ("one", "two"):
        asyncio.run(Users(first, hasher).add(name, "password-of-" + name, "admin"))

    def take(database: Database, name: str) -> Step:
        users = Users(database, hasher)
        if change == "demote":
            return Step(
                database,
                "AS admins",
                lambda: asyncio.run(users.update(name, password=None, role="viewer")),
            )
        return Step(database, "AS admins", lambda: users.remove(name))

    steps = [take(first, "one"), take(second, "two")]
    interleave(steps, postgres_dsn)

    assert isinstance(steps[0].outcome, User)
    refused = steps[1].outcome
    assert isinstance(refused, RecordConflict) and refused.code == "last-admin"
    assert [user.name for user in Users(first).users() if user.role == "admin"] == ["two"]


def test_two_replicas_joining_one_instance_to_two_clusters_at_once_leave_it_in_one(
    replicas: tuple[Database, Database], postgres_dsn: str
) -> None:
    first, second = replicas
    registry = Registry(first)
    web, db = registry.add_cluster("web"), registry.add_cluster("db")
    instance = registry.add_instance(
        InstanceFields("host", "tcp://127.0.0.1:40001", KeyPair.generate().public)
    )
    steps = [
        Step(first, "SELECT * FROM instances WHERE id", lambda: registry.join(web.id, instance.id)),
        Step(second, "", lambda: Registry(second).join(db.id, instance.id)),
    ]
    interleave(steps, postgres_dsn)

    assert isinstance(steps[0].outcome, Instance)
    refused = steps[1].outcome
    assert isinstance(refused, RecordConflict) and refused.code == "already-member"
    assert refused.subject["cluster"] == web.id
    assert registry.member_ids(web.id) == (instance.id,)
    assert registry.member_ids(db.id) == ()


WRITES_AN_OUTCOME = "INSERT INTO cluster_applied"
READS_THE_INSTANCE = "SELECT * FROM instances WHERE id"


def _members(registry: Registry, *clusters: str) -> list[tuple[int, int]]:
    """One new member in each of the named new clusters: (cluster id, instance id)."""
    pairs = []
    for port, name in enumerate(clusters, start=40001):
        cluster = registry.add_cluster(name)
        fields = InstanceFields(
            f"host-{port}", f"tcp://127.0.0.1:{port}", KeyPair.generate().public
        )
        pairs.append((cluster.id, registry.add_instance(fields, cluster_id=cluster.id).id))
    return pairs


def _finishing(name: str, finished: list[str], act: Callable[[], object]) -> Callable[[], object]:
    """`act`, noting `name` in `finished` once it has committed."""

    def run() -> object:
        outcome = act()
        finished.append(name)
        return outcome

    return run


def _outcome(database: Database, cluster_id: int, instance_id: int) -> None:
    AppliedKeys(database).applied(cluster_id, instance_id, "system:/app/port", "r1", {}, "r1")


def test_outcome_writes_of_two_clusters_do_not_wait_for_each_other(
    replicas: tuple[Database, Database], postgres_dsn: str
) -> None:
    (web, web_host), (db, db_host) = _members(Registry(replicas[0]), "web", "db")
    finished: list[str] = []

    def outcome(database: Database, cluster_id: int, instance_id: int, name: str) -> Step:
        write = _finishing(name, finished, lambda: _outcome(database, cluster_id, instance_id))
        return Step(database, WRITES_AN_OUTCOME, write)

    steps = [outcome(replicas[0], web, web_host, "web"), outcome(replicas[1], db, db_host, "db")]
    # The first holds its transaction open after its write until the second has finished or
    # waits for it: the second commits while the first's is still open.
    interleave(steps, postgres_dsn)

    assert [step.outcome for step in steps] == [None, None]
    assert finished == ["db", "web"]
    assert set(AppliedKeys(replicas[0]).of_cluster(web)[web_host]) == {"system:/app/port"}
    assert set(AppliedKeys(replicas[0]).of_cluster(db)[db_host]) == {"system:/app/port"}


def test_a_leave_waits_for_an_outcome_write_in_progress(
    replicas: tuple[Database, Database], postgres_dsn: str
) -> None:
    ((web, host),) = _members(Registry(replicas[0]), "web")
    finished: list[str] = []
    steps = [
        Step(
            replicas[0],
            WRITES_AN_OUTCOME,
            _finishing("outcome", finished, lambda: _outcome(replicas[0], web, host)),
        ),
        Step(
            replicas[1],
            READS_THE_INSTANCE,
            _finishing("leave", finished, lambda: Registry(replicas[1]).leave(web, host)),
        ),
    ]
    interleave(steps, postgres_dsn)

    assert finished == ["outcome", "leave"]
    assert isinstance(steps[1].outcome, Instance), steps[1].outcome
    # The leave took the outcome written before it with the member.
    assert AppliedKeys(replicas[0]).of_cluster(web) == {}
