"""Events relayed between replicas over a real PostgreSQL's LISTEN/NOTIFY: a publication on one
replica's hub reaches the others' once and in order, large ones included, never twice at home."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest

from elektraweb.cluster.events.hub import RESYNC_TOPIC, EventHub, Publication, Subscription
from elektraweb.cluster.replicas.relay import NOTIFICATION_LIMIT, EventRelay

RECEIVE_DEADLINE = 10.0


@pytest.fixture
async def hubs(postgres_dsn: str) -> AsyncIterator[tuple[EventHub, EventHub, list[Publication]]]:
    """Two replicas' hubs, relayed; the list collects what the second's remote listener hears."""
    first, second = EventHub(), EventHub()
    heard: list[Publication] = []
    relays = [EventRelay(postgres_dsn, first, "a"), EventRelay(postgres_dsn, second, "b")]
    relays[1].on_remote(heard.append)
    for relay in relays:
        await relay.start()
    yield first, second, heard
    for relay in relays:
        await relay.close()
    first.close()
    second.close()


async def received(subscription: Subscription, count: int) -> list[Publication]:
    async with asyncio.timeout(RECEIVE_DEADLINE):
        return [await anext(subscription) for _ in range(count)]


async def test_publications_arrive_once_in_order_large_ones_included(
    hubs: tuple[EventHub, EventHub, list[Publication]],
) -> None:
    first, second, heard = hubs
    at_home, elsewhere = first.subscribe(["instance/1/"]), second.subscribe(["instance/1/"])
    large = "x" * (3 * NOTIFICATION_LIMIT)
    sent = [
        {"seq": seq, "new": {"value": large if seq % 5 == 0 else f"v{seq}", "meta": {}}}
        for seq in range(40)
    ]
    for data in sent:
        first.publish("instance/1/user:/app/key", data)
        if data["seq"] == 20:
            first.publish("instance/2/user:/other", {"seq": 99})  # not subscribed to

    arrived = await received(elsewhere, len(sent))
    assert [publication.data for publication in arrived] == sent
    assert [publication.topic for publication in arrived] == ["instance/1/user:/app/key"] * 40
    assert arrived[0].payload == (await received(at_home, 1))[0].payload  # the same bytes
    # The remote listener heard every one, the unsubscribed topic as well, in order.
    assert [publication.data["seq"] for publication in heard] == [*range(21), 99, *range(21, 40)]

    # Back the other way: the first replica sees the second's publication right after its
    # own 39 left, and none of its own a second time.
    second.publish("instance/1/user:/app/key", {"seq": "from b"})
    home = await received(at_home, len(sent))
    assert [publication.data for publication in home] == [*sent[1:], {"seq": "from b"}]
    assert at_home.closed is False
    assert [publication.data for publication in await received(elsewhere, 1)] == [{"seq": "from b"}]


async def test_a_unicode_payload_over_the_limit_in_bytes_not_characters_arrives(
    hubs: tuple[EventHub, EventHub, list[Publication]],
) -> None:
    first, second, _ = hubs
    elsewhere = second.subscribe(["cluster/"])
    # Fewer characters than the limit, more bytes: it must go through the table.
    value = "ü" * (NOTIFICATION_LIMIT - 100)
    first.publish("cluster/1/system:/ü", {"value": value})
    (arrived,) = await received(elsewhere, 1)
    assert (arrived.topic, arrived.data) == ("cluster/1/system:/ü", {"value": value})


async def terminate(dsn: str, application_name: str) -> None:
    """End a replica's connection from the server's side, as a database restart or a network
    cut would, and wait until its backend has gone."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
        ended = await (
            await connection.execute(
                "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s",
                (application_name,),
            )
        ).fetchall()
        assert [terminated for _, terminated in ended] == [True]
        async with asyncio.timeout(RECEIVE_DEADLINE):
            while await (
                await connection.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (ended[0][0],)
                )
            ).fetchone():
                await asyncio.sleep(0.05)


async def test_a_replica_that_stopped_hearing_the_others_tells_its_subscribers_to_resync(
    hubs: tuple[EventHub, EventHub, list[Publication]], postgres_dsn: str
) -> None:
    first, second, heard = hubs
    elsewhere = second.subscribe(["instance/"])
    await terminate(postgres_dsn, "clusterd b events in")
    # The resync comes once it listens again: from then on nothing is missed.
    (notice,) = await received(elsewhere, 1)
    assert notice.topic == RESYNC_TOPIC
    # The remote listeners (the instance feed) are told too, and read everything again.
    assert [publication.topic for publication in heard] == [RESYNC_TOPIC]
    first.publish("instance/1/user:/after", {"seq": 1})
    assert [publication.data for publication in await received(elsewhere, 1)] == [{"seq": 1}]


async def test_a_publication_that_could_not_be_sent_makes_the_others_resync(
    hubs: tuple[EventHub, EventHub, list[Publication]], postgres_dsn: str
) -> None:
    first, second, _ = hubs
    at_home, elsewhere = first.subscribe(["instance/"]), second.subscribe(["instance/"])
    first.publish("instance/1/user:/sent", {"seq": 0})
    assert [publication.data for publication in await received(elsewhere, 1)] == [{"seq": 0}]
    await terminate(postgres_dsn, "clusterd a events out")
    first.publish("instance/1/user:/lost", {"seq": 1})
    first.publish("instance/1/user:/next", {"seq": 2})
    arrived = await received(elsewhere, 2)
    assert [(publication.topic, publication.data) for publication in arrived] == [
        (RESYNC_TOPIC, {"dropped": 0}),
        ("instance/1/user:/next", {"seq": 2}),
    ]
    # At home nothing was lost, and no resync was needed.
    assert [publication.data["seq"] for publication in await received(at_home, 3)] == [0, 1, 2]
