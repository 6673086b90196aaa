"""A cluster's desired state in the database moves the cluster's version with every change,
and only then (replicas' cached reads key on it)."""

from __future__ import annotations

from elektraweb.cluster.store.cluster_keys import ClusterKeys
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.registry import Registry
from elektraweb.kdb.key import Key


def test_the_version_moves_with_each_change_and_not_for_removing_nothing(
    database: Database,
) -> None:
    registry, keys = Registry(database), ClusterKeys(database)
    cluster = registry.add_cluster("prod")
    start = registry.cluster_version(cluster.id)
    assert start is not None

    keys.remove(cluster.id, [])
    assert registry.cluster_version(cluster.id) == start

    keys.put(cluster.id, Key("system:/app/port", "8080"))
    assert registry.cluster_version(cluster.id) == start + 1
    keys.remove(cluster.id, ["system:/app/port"])
    assert registry.cluster_version(cluster.id) == start + 2
    assert keys.key(cluster.id, "system:/app/port") is None
