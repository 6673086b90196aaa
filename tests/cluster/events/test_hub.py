"""EventHub: prefix subscriptions, bounded queues, closing."""

import asyncio
import json

import pytest

from elektraweb.cluster.events.hub import (
    RESYNC_TOPIC,
    EventHub,
    Publication,
    Subscription,
    received_publication,
)


async def next_event(subscription: Subscription) -> Publication:
    return await asyncio.wait_for(anext(subscription), timeout=5)


async def drain(subscription: Subscription) -> list[str]:
    """Close the subscription and return the topics that were already waiting in it."""
    subscription.close()
    return [event.topic async for event in subscription]


async def test_subscriber_gets_events_whose_topic_starts_with_its_prefix() -> None:
    hub = EventHub()
    subscription = hub.subscribe(["instance/a/"])
    hub.publish("instance/a/user:/app/port", {"value": "8080"})
    hub.publish("instance/ab/user:/x", {"value": "no"})
    hub.publish("cluster/a/user:/x", {"value": "no"})
    hub.publish("instance/a/", {"value": "exact prefix"})
    assert await drain(subscription) == ["instance/a/user:/app/port", "instance/a/"]


async def test_event_carries_data_and_its_json_payload() -> None:
    hub = EventHub()
    subscription = hub.subscribe([""])
    hub.publish("registry/instances/a", {"op": "added", "name": "hôte"})
    event = await next_event(subscription)
    assert event.data == {"op": "added", "name": "hôte"}
    assert json.loads(event.payload) == {"op": "added", "name": "hôte"}
    assert "hôte".encode() in event.payload


async def test_empty_prefix_matches_everything_and_no_prefix_matches_nothing() -> None:
    hub = EventHub()
    everything = hub.subscribe([""])
    nothing = hub.subscribe()
    hub.publish("audit/1", {})
    hub.publish("cluster/c/user:/k", {})
    assert await drain(everything) == ["audit/1", "cluster/c/user:/k"]
    assert await drain(nothing) == []


async def test_subscribe_and_unsubscribe_change_what_arrives() -> None:
    hub = EventHub()
    subscription = hub.subscribe()
    subscription.subscribe("audit/")
    subscription.subscribe("audit/")
    hub.publish("audit/1", {})
    subscription.unsubscribe("audit/")
    subscription.unsubscribe("never-subscribed/")
    hub.publish("audit/2", {})
    assert await drain(subscription) == ["audit/1"]


async def test_prefixes_match_utf8_bytes_like_zeromq() -> None:
    hub = EventHub()
    subscription = hub.subscribe([b"instance/h\xc3"])
    hub.publish("instance/hé/k", {})
    hub.publish("instance/h/k", {})
    assert await drain(subscription) == ["instance/hé/k"]


async def test_waiting_subscriber_wakes_up_on_publish() -> None:
    hub = EventHub()
    subscription = hub.subscribe(["cluster/"])
    waiter = asyncio.create_task(next_event(subscription))
    await asyncio.sleep(0)
    hub.publish("cluster/c/user:/k", {"value": "1"})
    assert (await waiter).topic == "cluster/c/user:/k"


async def test_slow_subscriber_is_told_to_resync_without_holding_back_others() -> None:
    hub = EventHub(queue_limit=3)
    slow = hub.subscribe(["audit/"])
    fast = hub.subscribe([""])
    received = []
    for number in range(5):
        hub.publish(f"audit/{number}", {"n": number})
        received.append((await next_event(fast)).data["n"])
    assert received == list(range(5))
    assert hub.overflow_count == 1
    # The three queued events and the one that did not fit made way for one resync, which
    # comes whatever the prefixes; what is published afterwards follows it.
    resync = await next_event(slow)
    assert (resync.topic, resync.data) == (RESYNC_TOPIC, {"dropped": 4})
    assert json.loads(resync.payload) == {"dropped": 4}
    assert await drain(slow) == ["audit/4"]


async def test_a_subscriber_still_behind_gets_one_resync_counting_everything_dropped() -> None:
    hub = EventHub()
    subscription = hub.subscribe([""], queue_limit=2)
    for number in range(6):
        hub.publish(f"audit/{number}", {})
    # [0, 1], then 2 overflows: [resync 3], [resync 3, 3], then 4 overflows again: one resync
    # for all that was lost, never two in a row: [resync 5], [resync 5, 5].
    events = [event async for event in _closed(subscription)]
    assert [event.topic for event in events] == [RESYNC_TOPIC, "audit/5"]
    assert events[0].data == {"dropped": 5}
    assert hub.overflow_count == 2


def _closed(subscription: Subscription) -> Subscription:
    subscription.close()
    return subscription


async def test_closing_the_hub_ends_iteration_after_queued_events() -> None:
    hub = EventHub()
    subscription = hub.subscribe([""])
    hub.publish("audit/1", {})
    hub.close()
    hub.publish("audit/2", {})
    assert [event.topic async for event in subscription] == ["audit/1"]
    with pytest.raises(RuntimeError, match="closed"):
        hub.subscribe([""])


async def test_closed_subscription_leaves_the_hub() -> None:
    hub = EventHub()
    with hub.subscribe([""]) as subscription:
        assert hub.subscriber_count == 1
    assert subscription.closed
    assert hub.subscriber_count == 0


@pytest.mark.parametrize(
    ("topic", "event", "error", "message"),
    [
        ("", {}, ValueError, "non-empty string"),
        ("audit/1", ["not", "an", "object"], TypeError, "JSON object"),
        ("audit/1", {"when": object()}, TypeError, "not JSON serializable"),
        ("audit/1", {"ratio": float("nan")}, ValueError, "not JSON compliant"),
    ],
)
def test_bad_events_fail_at_the_publisher(
    topic: str, event: object, error: type[Exception], message: str
) -> None:
    hub = EventHub()
    with pytest.raises(error, match=message):
        hub.publish(topic, event)  # type: ignore[arg-type]


async def test_own_publications_are_forwarded_and_delivered_ones_are_not() -> None:
    # How replicas relay (cluster.replicas): what arrives from elsewhere goes back nowhere.
    hub, forwarded = EventHub(), list[Publication]()
    hub.forward_to(forwarded.append)
    subscription = hub.subscribe(["instance/"])
    hub.publish("instance/1/user:/a", {"value": "here"})
    hub.deliver(received_publication("instance/1/user:/b", b'{"value":"elsewhere"}'))
    assert [event.topic for event in forwarded] == ["instance/1/user:/a"]
    assert await drain(subscription) == ["instance/1/user:/a", "instance/1/user:/b"]
    with pytest.raises(ValueError, match="no JSON object"):
        received_publication("instance/1/user:/c", b"[1]")


def test_a_topic_is_wanted_while_a_subscription_matches_it_or_replicas_listen() -> None:
    # What lets a publisher of many events (the instance feed, a cluster's status) skip
    # building those nobody would receive.
    hub = EventHub()
    assert not hub.wanted("instance/1/user:/a")
    with hub.subscribe(["instance/1/"]):
        assert hub.wanted("instance/1/user:/a")
        assert not hub.wanted("instance/2/user:/a")
    assert not hub.wanted("instance/1/user:/a")
    hub.forward_to(lambda publication: None)  # another replica's subscribers may want it
    assert hub.wanted("instance/2/user:/a")


async def test_resync_reaches_every_subscriber_whatever_its_prefixes() -> None:
    hub = EventHub()
    instances, clusters = hub.subscribe(["instance/"]), hub.subscribe(["cluster/"])
    hub.resync()
    assert await drain(instances) == [RESYNC_TOPIC]
    assert await drain(clusters) == [RESYNC_TOPIC]
