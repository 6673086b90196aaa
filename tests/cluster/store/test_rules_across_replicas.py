"""Rules that a check and then a write keep hold across clusterd replicas on one PostgreSQL
database (docs/architecture.md, clusterd's database): two connections, as two replicas have,
interleaved at the worst moment, the first paused right after its check until the second has
either finished or is seen waiting for it (`support.interleaving`). Exactly one of them wins.
The registry's rules: test_membership_races.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

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
