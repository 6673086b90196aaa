"""The instance feed over the in-process transport: a change made on a member's host reaches
clusterd as the event elektrad publishes, and drift restores it, with no test calling the
cluster service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.config import Config
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.instances.feed import InstanceFeed
from elektraweb.cluster.instances.wire_gateway import WireGateway
from elektraweb.cluster.services import ClusterServiceFactory, Services
from elektraweb.wire import KeyPair
from support.inprocess import InProcessNetwork

from .conftest import DRIFT_KEY as KEY
from .conftest import ClusterSync
from .waiting import eventually, next_event


@pytest.fixture
def feed(hub: EventHub, gateway: WireGateway, network: InProcessNetwork) -> InstanceFeed:
    return InstanceFeed(hub, gateway, KeyPair.generate(), subscribe=network.subscribe)


@pytest.fixture
def cluster_service(hub: EventHub, feed: InstanceFeed) -> ClusterServiceFactory:
    def configuration(services: Services) -> ConvergingClusterService:
        service = ConvergingClusterService(services, hub=hub)
        feed.attach(service)
        return service

    return configuration


@pytest.fixture
async def server(
    config: Config,
    gateway: WireGateway,
    cluster_service: ClusterServiceFactory,
    feed: InstanceFeed,
) -> AsyncIterator[Server]:
    clusterd = Server(
        config, gateway=gateway, cluster_service=cluster_service, extensions=[feed.extension]
    )
    await clusterd.start()
    yield clusterd
    await clusterd.stop()


async def test_a_local_change_on_a_member_comes_through_the_feed_and_is_restored(
    cluster_sync: ClusterSync,
    member: dict[str, Any],
    feed: InstanceFeed,
    hub: EventHub,
) -> None:
    await eventually(lambda: feed.events_online(member["id"]))
    topics = [f"instance/{member['id']}/{KEY}", f"cluster/{member['cluster']}/drift/"]
    with hub.subscribe(topics) as events:
        await member["daemon"].kdb_set(KEY, "1")  # `kdb set` on the host
        # The drift check that the link's first status started may find the change before
        # the feed passes it on, and the restore is published too: wait for the two.
        changed = drift = None
        while changed is None or drift is None:
            event = await next_event(events)
            if event.topic.startswith("cluster/"):
                drift = drift or event
            elif event.data["origin"] == "external":
                changed = event
    assert changed.data["origin"] == "external"
    assert changed.data["new"] == {"value": "1", "meta": {}}
    assert drift.data["found"] == {"value": "1", "meta": {}}
    assert drift.data["restored"] is True
    assert member["daemon"].keys[KEY] == ("8080", {})
    await eventually(lambda: cluster_sync(member["cluster"])["state"] == "in-sync")
