"""Writes of one cluster's desired state made at once on two clusterd replicas of one database,
on either backend (docs/architecture.md, The rule on check-then-write): a compare-and-set
write checks the desired state it read, so the second of two writes expecting the same
revision is refused, never stored over the first (a lost update). Two real stores on one SQLite
file or PostgreSQL database, the first paused right after reading the desired state until the
second has finished or waits for it (`support.interleaving`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from elektraweb.cluster.api.errors import ApiError
from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.config import Config
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.instances.wire_gateway import WireGateway
from elektraweb.cluster.services import Services
from elektraweb.cluster.store.clusters import Cluster
from elektraweb.wire import KeyPair
from elektraweb.wire.replies import OperationArgs
from support.backends import config_on_backend
from support.interleaving import Step, interleave

__all__ = ["config_on_backend"]

KEY = "system:/app/port"
READS_THE_STATE = "FROM cluster_keys WHERE cluster_id = ? ORDER BY name"


@pytest.fixture
def replicas(config: Config) -> Iterator[tuple[Services, Services]]:
    opened = [
        Services.open(
            config,
            WireGateway(KeyPair.generate()),
            lambda services: ConvergingClusterService(services, hub=EventHub(), status_interval=0),
        )
        for _ in range(2)
    ]
    yield opened[0], opened[1]
    for services in opened:
        services.database.close()


def _call(services: Services, cluster: Cluster, op: str, args: OperationArgs) -> object:
    assert services.cluster_service is not None
    return asyncio.run(services.cluster_service.call(cluster, op, args))


def test_two_replicas_setting_one_key_expecting_one_revision_set_it_once(
    replicas: tuple[Services, Services], database_location: Path | str
) -> None:
    first, _ = replicas
    cluster = first.registry.add_cluster("web")
    _call(first, cluster, "set", {"key": KEY, "value": "8080"})
    seen = first.cluster_keys.state(cluster.id).revision(KEY)

    def write(services: Services, value: str) -> Step:
        args: OperationArgs = {"key": KEY, "value": value, "expect": seen}
        return Step(
            services.database, READS_THE_STATE, lambda: _call(services, cluster, "set", args)
        )

    steps = [
        write(services, value) for services, value in zip(replicas, ("8081", "8082"), strict=True)
    ]
    interleave(steps, database_location)

    assert isinstance(steps[0].outcome, dict), steps[0].outcome
    refused = steps[1].outcome
    assert isinstance(refused, ApiError) and refused.status == 409, refused
    assert KEY in refused.message
    stored = first.cluster_keys.key(cluster.id, KEY)
    assert stored is not None and stored.value == "8081"
