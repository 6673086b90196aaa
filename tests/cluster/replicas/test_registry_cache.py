"""Each replica's cache of the registry's rows (docs/architecture.md, The registry's cache), on a
real PostgreSQL with the real relay: replica a's change is served by replica b as soon as b has
heard its notice, and after b's relay connection broke b reads the database again rather than
trust what it cached before the break. Replica a is a registry on a connection of its own;
replica b a registry whose database hears the others through an `EventRelay`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.replicas.relay import EventRelay
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.errors import RecordNotFound
from elektraweb.cluster.store.instances import InstanceFields
from elektraweb.cluster.store.registry import Registry

from .test_relay import terminate

HEAR_DEADLINE = 10.0
KEY = "rq7y>%Fo6p%bw.Q)hS(TsrD:j-v/c]QwcN.2XbKJ"
WEB = InstanceFields("web", "tcp://127.0.0.1:40001", KEY)


@dataclass
class Replicas:
    a: Registry
    b: Registry
    a_database: Database
    b_heard: asyncio.Queue[str]
    """The registry tables b was told of, as its cache was."""


@pytest.fixture
async def replicas(postgres_dsn: str) -> AsyncIterator[Replicas]:
    here, there = Database.open(postgres_dsn), Database.open(postgres_dsn)
    heard: asyncio.Queue[str] = asyncio.Queue()
    there.on_change(heard.put_nowait)
    hub = EventHub()
    relay = EventRelay(postgres_dsn, hub, "b")
    relay.on_database_change(there.changed_elsewhere)
    await relay.start()
    while not heard.empty():  # told of every table at the start: nothing was heard before
        heard.get_nowait()
    try:
        yield Replicas(Registry(here), Registry(there), here, heard)
    finally:
        await relay.close()
        hub.close()
        here.close()
        there.close()


async def heard(replicas: Replicas, table: str) -> None:
    """Wait until b has been told that `table` changed."""
    async with asyncio.timeout(HEAR_DEADLINE):
        while await replicas.b_heard.get() != table:
            pass


def renamed_behind_the_registry(database: Database, instance_id: int, name: str) -> None:
    """Change the row as no registry does: without telling any replica."""
    database.connection.execute("UPDATE instances SET name = ? WHERE id = ?", (name, instance_id))


async def test_b_serves_its_cached_row_and_as_a_changes_once_it_heard_them(
    replicas: Replicas,
) -> None:
    instance = replicas.a.add_instance(WEB)
    await heard(replicas, "instances")
    assert replicas.b.instance(instance.id).name == "web"
    # Cached: a change nobody announces is not seen, so b made no round trip for it.
    renamed_behind_the_registry(replicas.a_database, instance.id, "unannounced")
    assert replicas.b.instance(instance.id).name == "web"

    replicas.a.update_instance(instance.id, InstanceFields("web-2", WEB.endpoint, KEY))
    await heard(replicas, "instances")
    assert replicas.b.instance(instance.id).name == "web-2"

    replicas.a.remove_instance(instance.id)
    await heard(replicas, "instances")
    with pytest.raises(RecordNotFound):
        replicas.b.instance(instance.id)


async def test_a_cluster_and_its_members_follow_a_join_on_the_other_replica(
    replicas: Replicas,
) -> None:
    cluster = replicas.a.add_cluster("shop")
    instance = replicas.a.add_instance(WEB)
    await heard(replicas, "instances")
    assert replicas.b.cluster(cluster.id).members == ()
    assert replicas.b.members(cluster.id) == []
    assert replicas.b.instance(instance.id).cluster_id is None

    replicas.a.join(cluster.id, instance.id)
    # No await in between: b's relay cannot have handed b the join's notice yet. A read that
    # must not trust the cache (releasing a member's stray locks) sees the join already.
    assert replicas.b.instance(instance.id).cluster_id is None
    assert replicas.b.instance(instance.id, cached=False).cluster_id == cluster.id
    await heard(replicas, "instances")
    assert replicas.b.cluster(cluster.id).members == (instance.id,)
    assert [member.id for member in replicas.b.members(cluster.id)] == [instance.id]
    assert replicas.b.instance(instance.id).cluster_id == cluster.id

    replicas.a.remove_cluster(cluster.id)
    await heard(replicas, "clusters")
    with pytest.raises(RecordNotFound):
        replicas.b.cluster(cluster.id)
    assert replicas.b.instance(instance.id).cluster_id is None


async def test_after_its_relay_connection_broke_b_reads_the_registry_again(
    replicas: Replicas, postgres_dsn: str
) -> None:
    instance = replicas.a.add_instance(WEB)
    await heard(replicas, "instances")
    assert replicas.b.instance(instance.id).name == "web"
    # A change whose notice b never gets, as one committed while b does not listen.
    renamed_behind_the_registry(replicas.a_database, instance.id, "renamed-meanwhile")

    await terminate(postgres_dsn, "clusterd b events in")
    await heard(replicas, "instances")  # told once its relay listens again: anything may have

    assert replicas.b.instance(instance.id).name == "renamed-meanwhile"
