"""Changes of one instance or cluster made at once on two clusterd replicas of one database,
on either backend (docs/architecture.md, The rule on check-then-write): the first replica is
paused right after its check until the second has finished or waits for it
(`support.interleaving`). Whatever the order, the registry ends as some one-after-the-other
order of the two would leave it, each refusal names what changed, and a cluster's version
moves on with every change of its members (what every replica's cached reads are keyed on)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from elektraweb.cluster.store.applied_keys import AppliedKeys
from elektraweb.cluster.store.clusters import Cluster
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.enrollment import EnrollmentTokens
from elektraweb.cluster.store.errors import RecordConflict, RecordNotFound, TokenRefused
from elektraweb.cluster.store.instances import Instance, InstanceFields
from elektraweb.cluster.store.registry import Registry
from elektraweb.wire import KeyPair
from support.interleaving import Step, interleave, one_won

READS_THE_INSTANCE = "SELECT * FROM instances WHERE id"
READS_THE_MEMBERS = "SELECT * FROM instances WHERE cluster_id"


@pytest.fixture
def replicas(database_location: Path | str) -> Iterator[tuple[Database, Database]]:
    first, second = Database.open(database_location), Database.open(database_location)
    yield first, second
    first.close()
    second.close()


def _host(port: int) -> InstanceFields:
    return InstanceFields(f"host-{port}", f"tcp://127.0.0.1:{port}", KeyPair.generate().public)


def _on(database: Database, marker: str, act: Callable[[Registry], object]) -> Step:
    """The step of doing `act` with the registry of `database`, checked after `marker`."""
    registry = Registry(database)
    return Step(database, marker, lambda: act(registry))


def _tokens(database: Database) -> EnrollmentTokens:
    return EnrollmentTokens(database, Registry(database))


def _setup(database: Database) -> tuple[Registry, Cluster, Cluster, Instance]:
    registry = Registry(database)
    web, db = registry.add_cluster("web"), registry.add_cluster("db")
    return registry, web, db, registry.add_instance(_host(40001))


def _cluster_of(registry: Registry, instance_id: int) -> int | None:
    return registry.instance(instance_id).cluster_id


def test_two_replicas_taking_one_member_out_at_once_take_it_out_once(
    replicas: tuple[Database, Database], database_location: Path | str
) -> None:
    registry, web, _, host = _setup(replicas[0])
    registry.join(web.id, host.id)
    version = registry.cluster_version(web.id)
    steps = [
        _on(database, READS_THE_INSTANCE, lambda r: r.leave(web.id, host.id))
        for database in replicas
    ]
    interleave(steps, database_location)

    assert isinstance(steps[0].outcome, Instance)
    refused = steps[1].outcome
    assert isinstance(refused, RecordNotFound), refused
    assert "is not a member of cluster 'web'" in refused.message
    assert registry.member_ids(web.id) == ()
    assert registry.cluster_version(web.id) == (version or 0) + 1


def test_a_member_taken_out_and_into_another_cluster_meanwhile_stays_where_it_went(
    replicas: tuple[Database, Database], database_location: Path | str
) -> None:
    first, second = replicas
    registry, web, db, host = _setup(first)
    registry.join(web.id, host.id)
    elsewhere = Registry(second)

    def leave_and_join_db() -> Instance:
        elsewhere.leave(web.id, host.id)
        return elsewhere.join(db.id, host.id)

    steps = [
        Step(first, READS_THE_INSTANCE, lambda: registry.leave(web.id, host.id)),
        Step(second, READS_THE_INSTANCE, leave_and_join_db),
    ]
    interleave(steps, database_location)

    assert isinstance(steps[0].outcome, Instance)
    joined_db = isinstance(steps[1].outcome, Instance)
    # Whichever way it went, the instance is where the last change that succeeded put it.
    assert _cluster_of(registry, host.id) == (db.id if joined_db else None)
    assert registry.member_ids(db.id) == ((host.id,) if joined_db else ())


def _cached(registry: Registry, cluster_id: int) -> tuple[int | None, tuple[int, ...]]:
    """What a replica caches of a cluster's members: keyed on the version read first."""
    version = registry.cluster_version(cluster_id)
    return version, registry.member_ids(cluster_id)


def _still_true(
    registry: Registry, cluster_id: int, cached: tuple[int | None, tuple[int, ...]]
) -> bool:
    """Whether the cache is still good by its key, and if so, whether it still is true."""
    version, members = cached
    return version != registry.cluster_version(cluster_id) or members == registry.member_ids(
        cluster_id
    )


@pytest.mark.parametrize("paused", ["removal", "join"])
def test_an_instance_removed_while_another_replica_joins_it_leaves_no_member_behind(
    replicas: tuple[Database, Database], database_location: Path | str, paused: str
) -> None:
    _, web, _, host = _setup(replicas[0])
    caches: list[tuple[int | None, tuple[int, ...]]] = []

    def join(database: Database) -> Callable[[], Instance]:
        def act() -> Instance:
            registry = Registry(database)
            joined = registry.join(web.id, host.id)
            AppliedKeys(database).applied(web.id, host.id, "system:/app/port", "r1", {}, "r1")
            caches.append(_cached(registry, web.id))
            return joined

        return act

    def remove(database: Database) -> Callable[[], object]:
        return lambda: Registry(database).remove_instance(host.id)

    order = (remove, join) if paused == "removal" else (join, remove)
    steps = [
        Step(database, READS_THE_INSTANCE, act(database))
        for act, database in zip(order, replicas, strict=True)
    ]
    interleave(steps, database_location)

    outcomes = {act.__name__: step.outcome for act, step in zip(order, steps, strict=True)}
    removed = outcomes["remove"]
    assert isinstance(removed, tuple) and isinstance(removed[0], Instance), removed
    joined = outcomes["join"]
    assert isinstance(joined, Instance | RecordNotFound), joined
    # The cluster it was in as it was removed, whose locks its daemon holds: web if the join
    # came first, whatever the removal's request had read of it before.
    in_cluster = removed[1]
    assert (None if in_cluster is None else in_cluster.name) == (
        "web" if isinstance(joined, Instance) else None
    )
    registry = Registry(replicas[0])
    with pytest.raises(RecordNotFound):
        registry.instance(host.id)
    assert registry.member_ids(web.id) == ()
    assert AppliedKeys(replicas[0]).of_cluster(web.id) == {}
    # A replica that read the members after the join sees that they changed since.
    assert all(_still_true(registry, web.id, cached) for cached in caches)


@pytest.mark.parametrize("paused", ["removal", "join"])
def test_a_cluster_removed_while_another_replica_joins_an_instance_releases_it(
    replicas: tuple[Database, Database], database_location: Path | str, paused: str
) -> None:
    first, _ = replicas
    _, web, _, host = _setup(first)

    def join(database: Database) -> Step:
        return Step(database, READS_THE_INSTANCE, lambda: Registry(database).join(web.id, host.id))

    def remove(database: Database) -> Step:
        return Step(database, READS_THE_MEMBERS, lambda: Registry(database).remove_cluster(web.id))

    makers = (remove, join) if paused == "removal" else (join, remove)
    steps = [make(database) for make, database in zip(makers, replicas, strict=True)]
    interleave(steps, database_location)

    removal, joining = (steps[0], steps[1]) if paused == "removal" else (steps[1], steps[0])
    assert isinstance(removal.outcome, tuple), removal.outcome
    released = [member.id for member in removal.outcome[1]]
    if isinstance(joining.outcome, Instance):
        assert released == [host.id]  # told, so that its daemon drops the cluster's locks
    else:
        assert isinstance(joining.outcome, RecordNotFound), joining.outcome
        assert joining.outcome.message == f"there is no cluster with id {web.id}"
        assert released == []
    registry = Registry(first)
    assert _cluster_of(registry, host.id) is None
    assert [cluster.name for cluster in registry.clusters()] == ["db"]


def test_two_replicas_accepting_one_enrolled_instance_accept_it_once(
    replicas: tuple[Database, Database], database_location: Path | str
) -> None:
    registry = Registry(replicas[0])
    pending = registry.add_instance(_host(40002), state="pending")
    steps = [
        _on(database, READS_THE_INSTANCE, lambda r: r.accept(pending.id)) for database in replicas
    ]
    interleave(steps, database_location)

    _, refused = one_won(steps, Instance, RecordConflict)
    assert refused.code == "not-pending"
    assert registry.instance(pending.id).state == "accepted"


def test_an_enrolled_instance_rejected_while_another_replica_accepts_it_is_one_or_the_other(
    replicas: tuple[Database, Database], database_location: Path | str
) -> None:
    first, second = replicas
    pending = Registry(first).add_instance(_host(40003), state="pending")
    steps = [
        Step(first, READS_THE_INSTANCE, lambda: Registry(first).reject(pending.id)),
        Step(second, READS_THE_INSTANCE, lambda: Registry(second).accept(pending.id)),
    ]
    interleave(steps, database_location)

    rejected, accepted = (step.outcome for step in steps)
    registry = Registry(first)
    if isinstance(accepted, Instance):  # accepted first: the rejection is refused
        assert isinstance(rejected, RecordConflict) and rejected.code == "not-pending"
        assert registry.instance(pending.id).state == "accepted"
    else:  # rejected first: there is nothing left to accept
        assert isinstance(rejected, Instance) and isinstance(accepted, RecordNotFound)
        assert registry.instances(with_pending=True) == []


@pytest.mark.parametrize("how", ["registered", "enrolled"])
def test_one_key_registered_on_two_replicas_at_once_is_refused_naming_the_other(
    replicas: tuple[Database, Database], database_location: Path | str, how: str
) -> None:
    key = KeyPair.generate().public
    secrets = [_tokens(database).create("admin", 60)[1] for database in replicas]

    def register(database: Database, port: int, secret: str) -> Callable[[], Instance]:
        fields = InstanceFields(f"host-{port}", f"tcp://127.0.0.1:{port}", key)
        if how == "registered":
            return lambda: Registry(database).add_instance(fields)
        return lambda: _tokens(database).enroll(secret, fields)[0]

    steps = [
        Step(database, "WHERE endpoint_key", register(database, port, secret))
        for database, port, secret in zip(replicas, (40004, 40005), secrets, strict=True)
    ]
    interleave(steps, database_location)

    registered, conflict = one_won(steps, Instance, RecordConflict)
    assert (conflict.code, conflict.subject["instance"]) == ("duplicate-instance", registered.id)
    assert f"public key {key}" in conflict.message
    assert Registry(replicas[0]).instances(with_pending=True) == [registered]
    if how == "enrolled":  # the refused host's token is left unspent
        used = [token.used is not None for token in _tokens(replicas[0]).tokens()]
        assert sorted(used) == [False, True]


def test_one_cluster_name_given_on_two_replicas_at_once_is_refused_naming_the_other(
    replicas: tuple[Database, Database], database_location: Path | str
) -> None:
    steps = [
        _on(database, "FROM clusters WHERE name", lambda r: r.add_cluster("web"))
        for database in replicas
    ]
    interleave(steps, database_location)

    made, refused = one_won(steps, Cluster, RecordConflict)
    assert (refused.code, refused.subject["cluster"]) == ("duplicate-cluster", made.id)
    assert Registry(replicas[0]).clusters() == [made]


def test_one_enrollment_token_presented_on_two_replicas_at_once_admits_one_host(
    replicas: tuple[Database, Database], database_location: Path | str
) -> None:
    _, secret = _tokens(replicas[0]).create("admin", 60)

    def enroll(database: Database, port: int) -> Step:
        tokens = _tokens(database)
        marker = "FROM enrollment_tokens WHERE token_hash"
        return Step(database, marker, lambda: tokens.enroll(secret, _host(port)))

    steps = [
        enroll(database, port) for database, port in zip(replicas, (40006, 40007), strict=True)
    ]
    interleave(steps, database_location)

    admitted, refused = one_won(steps, tuple, TokenRefused)
    assert refused.code == "token-used"
    assert Registry(replicas[0]).instances(with_pending=True) == [admitted[0]]


def test_a_cluster_removed_while_another_replica_makes_an_enrollment_token_for_it(
    replicas: tuple[Database, Database], database_location: Path | str
) -> None:
    first, second = replicas
    _, web, _, _ = _setup(first)
    tokens = _tokens(first)
    steps = [
        Step(first, "SELECT * FROM clusters WHERE id", lambda: tokens.create("admin", 60, web.id)),
        _on(second, "", lambda registry: registry.remove_cluster(web.id)),
    ]
    interleave(steps, database_location)

    assert isinstance(steps[1].outcome, tuple), steps[1].outcome
    made = steps[0].outcome
    if isinstance(made, RecordNotFound):  # removed first: refused, naming the cluster
        assert made.message == f"there is no cluster with id {web.id}"
    else:  # made first: the cluster's removal took the token with it
        assert isinstance(made, tuple), made
    assert tokens.tokens() == []


WRITES_AN_OUTCOME = "INSERT INTO cluster_applied"


def _record_an_outcome(database: Database, cluster_id: int, instance_id: int) -> None:
    """What a sync stores when the member took a key: one `cluster_applied` row."""
    AppliedKeys(database).applied(cluster_id, instance_id, "system:/app/port", "r1", {}, "r1")


def test_an_outcome_recorded_after_the_member_left_is_not_kept(
    replicas: tuple[Database, Database],
) -> None:
    first, second = replicas
    registry, web, _, host = _setup(first)
    registry.join(web.id, host.id)
    Registry(second).leave(web.id, host.id)  # another replica, while this one's sync ran

    _record_an_outcome(first, web.id, host.id)

    assert AppliedKeys(first).of_cluster(web.id) == {}
    # Joined again, it has nothing of the cluster's keys as far as clusterd knows: they are
    # sent again, not taken as applied.
    registry.join(web.id, host.id)
    assert AppliedKeys(first).of(web.id, host.id) == {}


@pytest.mark.parametrize("paused", ["outcome", "leave"])
def test_a_member_leaving_on_one_replica_while_another_records_its_sync_keeps_no_outcome(
    replicas: tuple[Database, Database], database_location: Path | str, paused: str
) -> None:
    registry, web, _, host = _setup(replicas[0])
    registry.join(web.id, host.id)

    def outcome(database: Database) -> Step:
        return Step(
            database, WRITES_AN_OUTCOME, lambda: _record_an_outcome(database, web.id, host.id)
        )

    def leave(database: Database) -> Step:
        return Step(database, READS_THE_INSTANCE, lambda: Registry(database).leave(web.id, host.id))

    makers = (outcome, leave) if paused == "outcome" else (leave, outcome)
    steps = [make(database) for make, database in zip(makers, replicas, strict=True)]
    interleave(steps, database_location)

    recorded, left = steps if paused == "outcome" else reversed(steps)
    assert isinstance(left.outcome, Instance), left.outcome
    assert recorded.outcome is None, recorded.outcome
    assert _cluster_of(registry, host.id) is None
    assert AppliedKeys(replicas[0]).of_cluster(web.id) == {}
