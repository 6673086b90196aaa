"""The instance feed against real elektrad processes: changes made on the host reach the hub."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from elektraweb.cluster.audit.log import AuditLog
from elektraweb.cluster.events.hub import (
    RESYNC_TOPIC,
    EventHub,
    Subscription,
    received_publication,
)
from elektraweb.cluster.instances.feed import InstanceFeed
from elektraweb.cluster.instances.wire_gateway import WireGateway
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.instances import Instance, InstanceFields
from elektraweb.cluster.store.registry import Registry
from elektraweb.wire import AnyEvent, Event, KeyPair, KeyState, SubtreeEvent
from support.processes import QUICK_LINK, Elektrad, ElektradPublishingApart


@dataclass
class Recorder:
    """A feed listener that remembers what it was told."""

    events: list[tuple[Instance, AnyEvent]] = field(default_factory=list)
    statuses: list[tuple[int, bool]] = field(default_factory=list)

    def on_event(self, instance: Instance, event: AnyEvent) -> None:
        self.events.append((instance, event))

    async def on_status(self, instance: Instance, online: bool) -> None:
        self.statuses.append((instance.id, online))


@dataclass
class Setup:
    database: Database
    registry: Registry
    hub: EventHub
    feed: InstanceFeed
    recorder: Recorder
    keys: KeyPair


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    keys = KeyPair.generate()
    database = Database.open(tmp_path / "clusterd.sqlite3")
    hub = EventHub()
    gateway = WireGateway(keys, options=QUICK_LINK)
    feed = InstanceFeed(hub, gateway, keys)
    recorder = Recorder()
    feed.attach(recorder)
    registry = Registry(database)
    await feed.start(registry)
    yield Setup(database, registry, hub, feed, recorder, keys)
    await feed.close()
    await gateway.close()
    hub.close()
    database.close()


@pytest.fixture
async def elektrad(tmp_path: Path, setup: Setup) -> AsyncIterator[Elektrad]:
    daemon = Elektrad(tmp_path / "web-1", setup.keys.public)
    await daemon.start()
    yield daemon
    await daemon.stop()


async def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def next_event(subscription: Subscription, topic: str, timeout: float = 10.0) -> Any:
    async with asyncio.timeout(timeout):
        async for event in subscription:
            if event.topic == topic:
                return event.data
    raise AssertionError(f"the hub closed before {topic}")


async def registered(setup: Setup, elektrad: Elektrad) -> Instance:
    """`elektrad` registered as web-1, and the feed brought up to date."""
    instance = setup.registry.add_instance(
        InstanceFields("web-1", elektrad.endpoint, elektrad.public_key)
    )
    await setup.feed.sync()
    return instance


async def test_a_change_on_the_host_is_republished_and_handed_to_listeners(
    setup: Setup, elektrad: Elektrad
) -> None:
    with setup.hub.subscribe([""]) as subscription:
        instance = await registered(setup, elektrad)
        status_topic = f"registry/instance/{instance.id}/status"
        status = await next_event(subscription, status_topic)
        while not status["online"]:
            status = await next_event(subscription, status_topic)
        await eventually(lambda: setup.feed.events_online(instance.id))

        await elektrad.kdb("set", "system:/app/port", "9090")
        event = await next_event(subscription, f"instance/{instance.id}/system:/app/port")

    assert event["instance"] == instance.id
    assert event["key"] == "system:/app/port"
    assert (event["old"], event["new"]["value"]) == (None, "9090")
    assert event["origin"] == "external"
    assert event["seq"] >= 1
    await eventually(lambda: bool(setup.recorder.events))
    told_instance, told_event = setup.recorder.events[0]
    assert told_instance == instance
    assert (told_event.key, told_event.origin) == ("system:/app/port", "external")
    assert setup.recorder.statuses == [(instance.id, True)]


async def test_listeners_hear_every_change_in_order_whether_or_not_anyone_subscribes(
    setup: Setup, elektrad: Elektrad
) -> None:
    """Events nobody subscribed to are not built for the hub, but drift is still noticed:
    the listeners are told each change as it arrives, and a subscriber that comes later gets
    the changes from then on."""
    instance = await registered(setup, elektrad)
    await eventually(lambda: setup.feed.events_online(instance.id))
    for count, value in enumerate(("1", "2", "3"), start=1):
        await elektrad.kdb("set", "system:/app/level", value)
        # One change at a time: the host's file watch may fold changes made together.
        await eventually(partial(lambda at_least: len(setup.recorder.events) >= at_least, count))

    with setup.hub.subscribe([f"instance/{instance.id}/"]) as subscription:
        await elektrad.kdb("set", "system:/app/level", "4")
        event = await next_event(subscription, f"instance/{instance.id}/system:/app/level")

    assert (event["old"]["value"], event["new"]["value"]) == ("3", "4")
    await eventually(lambda: len(setup.recorder.events) >= 4)
    assert [
        (told.key, told.new.value if told.new else None)
        for _, told in setup.recorder.events
        if isinstance(told, Event)
    ] == [("system:/app/level", value) for value in ("1", "2", "3", "4")]


async def test_a_bulk_import_on_the_host_reaches_the_hub_as_one_event(
    setup: Setup, elektrad: Elektrad
) -> None:
    with setup.hub.subscribe([""]) as subscription:
        instance = await registered(setup, elektrad)
        await eventually(lambda: setup.feed.events_online(instance.id))
        lines = "".join(f"k{index} = {index}\n" for index in range(500))
        await elektrad.kdb("import", "system:/bulk", "ini", stdin=lines)
        bulk = await next_event(subscription, f"instance/{instance.id}/system:/bulk")
        await elektrad.kdb("set", "system:/after", "1")
        async with asyncio.timeout(10):
            following = await anext(subscription)
            while not following.topic.startswith("instance/"):
                following = await anext(subscription)

    # One event for the 500 keys, then the next change: nothing key by key in between.
    assert following.topic == f"instance/{instance.id}/system:/after"
    assert bulk == {
        "instance": instance.id,
        "subtree": "system:/bulk",
        "created": 500,
        "changed": 0,
        "removed": 0,
        "origin": "external",
        "seq": bulk["seq"],
    }
    await eventually(lambda: len(setup.recorder.events) == 2)
    assert setup.recorder.events[0][1] == SubtreeEvent(
        "system:/bulk", 500, 0, 0, "external", seq=bulk["seq"]
    )


async def test_events_are_followed_where_the_instance_says_it_publishes(
    tmp_path: Path, setup: Setup
) -> None:
    """An elektrad started with `--events` at another port than its request port + 2."""
    elektrad = await ElektradPublishingApart(tmp_path / "web-1", setup.keys.public).start()
    try:
        with setup.hub.subscribe([""]) as subscription:
            instance = setup.registry.add_instance(
                InstanceFields("web-1", elektrad.endpoint, elektrad.public_key)
            )
            await setup.feed.sync()
            status_topic = f"registry/instance/{instance.id}/status"
            status = await next_event(subscription, status_topic)
            while status["events"] is None:  # until the daemon has answered `version`
                status = await next_event(subscription, status_topic)
            assert status["events"] == elektrad.events_endpoint
            await eventually(lambda: setup.feed.events_online(instance.id))

            await elektrad.kdb("set", "system:/app/port", "9090")
            event = await next_event(subscription, f"instance/{instance.id}/system:/app/port")
    finally:
        await elektrad.stop()

    assert (event["instance"], event["key"]) == (instance.id, "system:/app/port")
    assert (event["new"]["value"], event["origin"]) == ("9090", "external")


async def test_online_and_offline_are_published_and_told(setup: Setup, elektrad: Elektrad) -> None:
    instance = setup.registry.add_instance(
        InstanceFields("web-1", elektrad.endpoint, elektrad.public_key)
    )
    await setup.feed.sync()
    await eventually(lambda: setup.recorder.statuses == [(instance.id, True)])
    with setup.hub.subscribe([f"registry/instance/{instance.id}/status"]) as subscription:
        await elektrad.stop()
        status = await next_event(subscription, f"registry/instance/{instance.id}/status")
        while status["online"]:
            status = await next_event(subscription, f"registry/instance/{instance.id}/status")
    assert status["instance"] == instance.id
    assert status["offline_since"] is not None
    await eventually(lambda: len(setup.recorder.statuses) == 2)
    assert setup.recorder.statuses == [(instance.id, True), (instance.id, False)]


async def test_sync_follows_the_registry(setup: Setup, elektrad: Elektrad) -> None:
    instance = setup.registry.add_instance(
        InstanceFields("web-1", elektrad.endpoint, elektrad.public_key)
    )
    assert not setup.feed.events_online(instance.id)
    await setup.feed.sync()
    await eventually(lambda: setup.feed.events_online(instance.id))
    setup.registry.remove_instance(instance.id)
    await setup.feed.sync()
    assert not setup.feed.events_online(instance.id)


async def test_a_sync_naming_one_instance_leaves_the_others_as_they_are(
    setup: Setup, elektrad: Elektrad
) -> None:
    """What a registry change does (it names its instance): the rest is not read again."""
    followed = setup.registry.add_instance(
        InstanceFields("web-1", elektrad.endpoint, elektrad.public_key)
    )
    await setup.feed.sync(followed.id)
    await eventually(lambda: setup.feed.events_online(followed.id))
    other = setup.registry.add_instance(
        InstanceFields("web-2", "tcp://127.0.0.1:9", KeyPair.generate().public)
    )
    setup.registry.remove_instance(followed.id)

    await setup.feed.sync(other.id)
    assert setup.feed.events_online(followed.id)  # its removal was not named yet
    await setup.feed.sync(followed.id)
    assert not setup.feed.events_online(followed.id)


async def test_a_replica_follows_only_the_instances_whose_lease_it_holds(
    setup: Setup, elektrad: Elektrad
) -> None:
    held: set[int] = set()
    gateway = WireGateway(setup.keys, options=QUICK_LINK)
    feed = InstanceFeed(setup.hub, gateway, setup.keys, owns=held.__contains__)
    recorder = Recorder()
    feed.attach(recorder)
    await feed.start(setup.registry)
    try:
        instance = setup.registry.add_instance(
            InstanceFields("web-1", elektrad.endpoint, elektrad.public_key)
        )
        # Added through another replica: its audit event is how this one learns of it.
        added = received_publication(f"audit/instance/{instance.id}", b'{"action":"instance.add"}')
        feed.published_elsewhere(added)
        await feed.sync()
        assert not feed.events_online(instance.id)

        held.add(instance.id)  # the lease is taken: following starts, and the listeners hear
        await feed.leases_changed()  # of it as of a link coming up (catching up the member)
        await eventually(lambda: feed.events_online(instance.id))
        await eventually(lambda: recorder.statuses == [(instance.id, True)])

        held.clear()  # the lease is given up: following stops first
        await feed.leases_changed()
        assert not feed.events_online(instance.id)

        held.add(instance.id)
        setup.registry.remove_instance(instance.id)
        feed.published_elsewhere(
            received_publication(f"audit/instance/{instance.id}", b'{"action":"instance.remove"}')
        )
        await feed.leases_changed()
        assert not feed.events_online(instance.id)
    finally:
        await feed.close()
        await gateway.close()


async def test_an_instance_added_on_another_replica_is_followed_by_the_lease_holder(
    setup: Setup, elektrad: Elektrad
) -> None:
    # The fixture's feed holds every lease, like a single clusterd.
    instance = setup.registry.add_instance(
        InstanceFields("web-1", elektrad.endpoint, elektrad.public_key)
    )
    setup.feed.published_elsewhere(
        received_publication(f"audit/instance/{instance.id}", b'{"action":"instance.add"}')
    )
    await eventually(lambda: setup.feed.events_online(instance.id))


async def test_listeners_are_told_the_instance_as_the_last_registry_change_left_it(
    setup: Setup, elektrad: Elektrad
) -> None:
    audit = AuditLog(setup.database)
    audit.subscribe(setup.feed.audited)
    instance = await registered(setup, elektrad)
    await eventually(lambda: setup.feed.events_online(instance.id))

    async def told_after_a_change_on_the_host(value: str) -> Instance:
        await elektrad.kdb("set", "system:/app/name", value)
        await eventually(
            lambda: any(
                isinstance(event, Event)
                and event.key == "system:/app/name"
                and event.new == KeyState(value, {})
                for _, event in setup.recorder.events
            )
        )
        return setup.recorder.events[-1][0]

    assert (await told_after_a_change_on_the_host("1")).name == "web-1"
    # Renamed through this replica: the audit entry comes with the change.
    fields = InstanceFields("web-renamed", elektrad.endpoint, elektrad.public_key)
    renamed = setup.registry.update_instance(instance.id, fields)
    audit.record(
        user="admin",
        action="instance.change",
        target_type="instance",
        target_id=instance.id,
        after=renamed.to_json(),
        result={"ok": True},
    )
    assert await told_after_a_change_on_the_host("2") == renamed
    # Renamed and moved into a cluster through another replica: their publications tell.
    fields = InstanceFields("web-elsewhere", elektrad.endpoint, elektrad.public_key)
    setup.registry.update_instance(instance.id, fields)
    setup.feed.published_elsewhere(
        received_publication(f"audit/instance/{instance.id}", b'{"action":"instance.change"}')
    )
    assert (await told_after_a_change_on_the_host("3")).name == "web-elsewhere"
    cluster = setup.registry.add_cluster("web")
    setup.registry.join(cluster.id, instance.id)
    setup.feed.published_elsewhere(
        received_publication(f"audit/cluster/{cluster.id}", b'{"action":"member.add"}')
    )
    assert (await told_after_a_change_on_the_host("4")).cluster_id == cluster.id
    # A resync (publications may have been missed) reads everything again.
    setup.registry.leave(cluster.id, instance.id)
    setup.feed.published_elsewhere(received_publication(RESYNC_TOPIC, b"{}"))
    assert (await told_after_a_change_on_the_host("5")).cluster_id is None
