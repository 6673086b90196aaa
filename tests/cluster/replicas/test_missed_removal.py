"""An instance removed through one replica while another's relay was down: the removal's event
never reaches the other (notifications sent while it does not listen are lost), so once its
relay listens again it reads the registry anew and drops its link to the instance, and stops
following it if it held its lease. Real PostgreSQL (its relay connection ended from the
server's side), elektrad's real service in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.instances.feed import InstanceFeed
from elektraweb.cluster.instances.wire_gateway import WireGateway
from elektraweb.cluster.replicas.relay import EventRelay
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.instances import InstanceFields
from elektraweb.cluster.store.registry import Registry
from elektraweb.wire import KeyPair
from support.inprocess import InProcessNetwork

from .test_relay import terminate

ENDPOINT = "tcp://127.0.0.1:40001"
DROP_DEADLINE = 10.0


@pytest.fixture
async def network(tmp_path: Path) -> AsyncIterator[InProcessNetwork]:
    network = InProcessNetwork(tmp_path)
    yield network
    await network.close()


def open_links(network: InProcessNetwork) -> list[str]:
    return [link.endpoint for link in network.links if not link.closed]


@pytest.mark.parametrize("holds_the_lease", [False, True])
async def test_an_instance_removed_while_the_relay_was_down_loses_its_link_once_it_is_back(
    network: InProcessNetwork, postgres_dsn: str, holds_the_lease: bool
) -> None:
    daemon = await network.start(ENDPOINT)
    here, there = Database.open(postgres_dsn), Database.open(postgres_dsn)
    instance = Registry(here).add_instance(InstanceFields("web", ENDPOINT, daemon.public_key))
    hub = EventHub()
    keypair = KeyPair.generate()
    gateway = WireGateway(keypair, transport=network.transport)
    feed = InstanceFeed(
        hub, gateway, keypair, subscribe=network.subscribe, owns=lambda _: holds_the_lease
    )
    relay = EventRelay(postgres_dsn, hub, "b")
    relay.on_remote(feed.published_elsewhere)
    await relay.start()
    try:
        await feed.start(Registry(there))
        assert open_links(network) == [ENDPOINT]
        assert len(daemon.subscribers) == (1 if holds_the_lease else 0)

        # Removed on replica a; its event, sent while b does not listen, is lost to b (here
        # it is not sent at all: b is told nothing but that it may have missed something).
        Registry(here).remove_instance(instance.id)
        await terminate(postgres_dsn, "clusterd b events in")

        async with asyncio.timeout(DROP_DEADLINE):
            while open_links(network) or daemon.subscribers:
                await asyncio.sleep(0.05)
        assert gateway.linked() == frozenset()
    finally:
        await feed.close()
        await relay.close()
        await gateway.close()
        hub.close()
        here.close()
        there.close()
