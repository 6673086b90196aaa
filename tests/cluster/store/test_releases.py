"""The releases store on a real database (SQLite file and PostgreSQL): a database from before
releases is migrated with its data, one canary per cluster, a canary's hold applies to the other
members only, and a deleted cluster takes its draft and releases with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from elektraweb.cluster.store.database import SCHEMA_VERSION, Database
from elektraweb.cluster.store.errors import RecordConflict, RecordNotFound
from elektraweb.cluster.store.registry import Registry
from elektraweb.cluster.store.releases import Release, Releases
from elektraweb.cluster.store.sqlite import SQLiteConnection
from elektraweb.wire.json_value import Encodable
from support.interleaving import Step, interleave, one_won

PREVIOUS = {"value": "8080", "meta": {}}


def test_a_version_3_database_gets_the_release_tables_and_keeps_its_clusters(
    tmp_path: Path,
) -> None:
    path = tmp_path / "clusterd.sqlite3"
    database = Database.open(path)
    Registry(database).add_cluster("prod")
    # As the clusterd before releases (and enrollment, which came after them) left it.
    assert isinstance(database.connection, SQLiteConnection)
    database.connection.raw.executescript(
        "DROP TABLE cluster_drafts; DROP TABLE cluster_releases; DROP TABLE enrollment_tokens;"
        " ALTER TABLE instances DROP COLUMN state; ALTER TABLE clusters DROP COLUMN version;"
        " DROP TABLE login_failures;"
        " PRAGMA user_version = 3;"
    )
    database.close()

    database = Database.open(path)
    try:
        [cluster] = Registry(database).clusters()
        assert cluster.name == "prod"
        releases = Releases(database)
        [edit] = releases.add_edits(cluster.id, "olga", [("set", "system:/app/port", "9090", {})])
        assert [found.key for found in releases.draft(cluster.id)] == [edit.key]
        version = database.connection.execute("PRAGMA user_version").fetchone()
        assert version == {"user_version": SCHEMA_VERSION}
    finally:
        database.close()


def test_one_canary_at_a_time_holding_back_only_the_other_members(database: Database) -> None:
    registry, releases = Registry(database), Releases(database)
    cluster = registry.add_cluster("prod")
    canary = releases.begin(cluster.id, "olga", "try", [7], {"system:/app/port": PREVIOUS})
    assert releases.held_for(cluster.id, 7) == {}
    assert releases.held_for(cluster.id, 8) == {"system:/app/port": PREVIOUS}
    with pytest.raises(RecordConflict, match="still a canary"):
        releases.begin(cluster.id, "olga", "more", [], {"system:/app/host": None})

    releases.settle(canary.id, "published")
    assert releases.held_for(cluster.id, 8) == {}
    everyone = releases.begin(cluster.id, "olga", "all", [], {"system:/app/host": None})
    assert (everyone.state, everyone.keys) == ("published", ["system:/app/host"])
    assert releases.held_for(cluster.id, 8) == {}

    releases.add_edits(cluster.id, "olga", [("rm", "system:/app/port", None, {})])
    registry.remove_cluster(cluster.id)
    assert releases.draft(cluster.id) == []
    with pytest.raises(RecordNotFound):
        releases.release(cluster.id, canary.id)


def test_a_group_of_edits_is_listed_with_its_group_and_removed_as_one(database: Database) -> None:
    registry, releases = Registry(database), Releases(database)
    cluster = registry.add_cluster("prod")
    [alone] = releases.add_edits(cluster.id, "olga", [("set", "system:/a", "1", {})])
    group: dict[str, Encodable] = {"id": "g1", "op": "rm", "key": "system:/app"}
    moved = releases.add_edits(
        cluster.id, "olga",
        [("rm", "system:/app/port", None, {}), ("set", "system:/app/x", "1", {"k": "v"})],
        group,
    )  # fmt: skip
    assert [edit.group for edit in releases.draft(cluster.id)] == [None, group, group]
    assert releases.draft(cluster.id)[2].meta == {"k": "v"}  # the group is not metadata

    assert releases.remove_edit(cluster.id, moved[1].id) == [edit.id for edit in moved]
    assert releases.draft(cluster.id) == [alone]


def test_two_replicas_beginning_a_canary_at_once_begin_one(database_location: Path | str) -> None:
    replicas = [Database.open(database_location) for _ in range(2)]
    cluster = Registry(replicas[0]).add_cluster("prod")

    def begin(database: Database, message: str) -> Step:
        releases = Releases(database)
        return Step(
            database,
            "FROM cluster_releases WHERE cluster_id",
            lambda: releases.begin(cluster.id, "olga", message, [7], {"system:/app/port": None}),
        )

    steps = [begin(database, message) for database, message in zip(replicas, "ab", strict=True)]
    try:
        interleave(steps, database_location)
        # Refused as the check refuses it, also when the unique index caught it.
        begun, refused = one_won(steps, Release, RecordConflict)
        assert refused.message.startswith(f"release {begun.id} of cluster")
        assert Releases(replicas[0]).in_flight(cluster.id) == begun
    finally:
        for database in replicas:
            database.close()


def test_a_promotion_overtaken_by_a_rollback_on_another_replica_is_refused(
    database_location: Path | str,
) -> None:
    here, there = Database.open(database_location), Database.open(database_location)
    try:
        cluster = Registry(here).add_cluster("prod")
        canary = Releases(here).begin(cluster.id, "olga", "try", [7], {"system:/app/port": None})
        # Both replicas saw a canary; the other rolled it back before this one promotes it.
        Releases(there).settle(canary.id, "rolled-back")
        with pytest.raises(RecordConflict) as refused:
            Releases(here).settle(canary.id, "published")
        assert refused.value.message == (
            f"release {canary.id} is rolled-back: only a canary release is promoted"
        )
        assert Releases(here).release(cluster.id, canary.id).state == "rolled-back"
    finally:
        here.close()
        there.close()
