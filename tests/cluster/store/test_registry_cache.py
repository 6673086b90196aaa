"""The registry's cache on SQLite, where one clusterd owns the file: a change made through the
registry is seen by the very next read, and so is a change of a cluster's members."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.errors import RecordNotFound
from elektraweb.cluster.store.instances import InstanceFields
from elektraweb.cluster.store.registry import Registry

KEY = "rq7y>%Fo6p%bw.Q)hS(TsrD:j-v/c]QwcN.2XbKJ"
WEB = InstanceFields("web", "tcp://127.0.0.1:40001", KEY)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "clusterd.sqlite")
    yield database
    database.close()


def test_an_update_and_a_removal_are_seen_at_once(database: Database) -> None:
    registry = Registry(database)
    instance = registry.add_instance(WEB)
    assert registry.instance(instance.id).name == "web"
    # Cached: a change made behind the registry's back is not read again.
    unannounced = "UPDATE instances SET name = 'unannounced' WHERE id = ?"
    database.connection.execute(unannounced, (instance.id,))
    assert registry.instance(instance.id).name == "web"

    registry.update_instance(instance.id, InstanceFields("web-2", WEB.endpoint, KEY))
    assert registry.instance(instance.id).name == "web-2"
    registry.remove_instance(instance.id)
    with pytest.raises(RecordNotFound):
        registry.instance(instance.id)


def test_a_join_and_a_leave_are_seen_at_once_in_the_cluster_and_its_members(
    database: Database,
) -> None:
    registry = Registry(database)
    cluster, instance = registry.add_cluster("shop"), registry.add_instance(WEB)
    assert registry.members(cluster.id) == []

    registry.join(cluster.id, instance.id)
    assert registry.cluster(cluster.id).members == (instance.id,)
    assert [member.name for member in registry.members(cluster.id)] == ["web"]
    assert registry.instance(instance.id).cluster_id == cluster.id

    registry.leave(cluster.id, instance.id)
    assert registry.cluster(cluster.id).members == ()
    assert registry.members(cluster.id) == []
    registry.update_cluster(cluster.id, "shop-2", "")
    assert registry.cluster(cluster.id).name == "shop-2"
