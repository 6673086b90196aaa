"""EventHub: prefix subscriptions, bounded queues, closing."""

import asyncio
import json

import pytest

from elektraweb.cluster.events.hub import EventHub, Publication, SubscriberTooSlow, Subscription


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


async def test_slow_subscriber_is_cut_off_without_holding_back_others() -> None:
    hub = EventHub(queue_limit=3)
    slow = hub.subscribe([""])
    fast = hub.subscribe([""])
    received = []
    for number in range(10):
        hub.publish(f"audit/{number}", {"n": number})
        received.append((await next_event(fast)).data["n"])
    assert received == list(range(10))
    assert hub.overflow_count == 1
    assert hub.subscriber_count == 1
    with pytest.raises(SubscriberTooSlow, match="more than 3 events"):
        await next_event(slow)


async def test_overflow_wakes_whoever_waits_for_it() -> None:
    hub = EventHub()
    subscription = hub.subscribe([""], queue_limit=1)
    watcher = asyncio.create_task(subscription.wait_overflowed())
    hub.publish("audit/1", {})
    await asyncio.sleep(0)
    assert not watcher.done()
    hub.publish("audit/2", {})
    await asyncio.wait_for(watcher, timeout=5)


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
