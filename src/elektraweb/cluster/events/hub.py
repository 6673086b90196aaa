"""The in-process event hub: everything clusterd publishes, fanned out to whoever subscribed.

Topics are `/`-separated paths (`instance/<id>/<key>`, `cluster/<id>/<key>`, `registry/...`,
`audit/...`) and subscriptions are topic prefixes, matched on the UTF-8 bytes exactly as ZeroMQ
matches them, so a browser on `/zmq/events` and an in-process consumer see the same thing.

Each subscription has its own bounded queue. Publishing never waits: when a subscriber's queue
is full, the events in it are discarded and replaced by one `resync` event (topic `resync`,
whatever the prefixes), instead of slowing the publisher or anyone else. A subscriber that
silently missed events would show stale state; one that is cut off reconnects and reloads
everything, which is what made it slow in the first place; one told to resync re-reads what it
shows, once, and carries on.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType

from elektraweb.wire.json_value import EncodableObject

DEFAULT_QUEUE_LIMIT = 1024
RESYNC_TOPIC = "resync"


@dataclass(frozen=True, slots=True)
class Publication:
    """One message published on the hub under a topic; `payload` is `data` as compact UTF-8
    JSON, encoded once."""

    topic: str
    data: EncodableObject
    payload: bytes = field(repr=False)

    @property
    def topic_bytes(self) -> bytes:
        return self.topic.encode()


class Subscription:
    """A bounded queue of the hub's events whose topics start with one of its prefixes.

    Iterate it with `async for`; iteration ends when the subscription or the hub closes.
    Prefixes form a set, as each ZeroMQ publisher keeps them per peer.
    """

    def __init__(self, hub: EventHub, prefixes: Iterable[str | bytes], limit: int) -> None:
        self._hub = hub
        self._limit = limit
        self._prefixes: set[bytes] = {_as_bytes(prefix) for prefix in prefixes}
        self._events: deque[Publication] = deque()
        self._wakeup = asyncio.Event()
        self._closed = False

    @property
    def prefixes(self) -> frozenset[bytes]:
        return frozenset(self._prefixes)

    @property
    def closed(self) -> bool:
        return self._closed

    def subscribe(self, prefix: str | bytes) -> None:
        self._prefixes.add(_as_bytes(prefix))

    def unsubscribe(self, prefix: str | bytes) -> None:
        """Drop one prefix; dropping one that was never subscribed does nothing, as in ZeroMQ."""
        self._prefixes.discard(_as_bytes(prefix))

    def matches(self, topic: bytes) -> bool:
        return any(topic.startswith(prefix) for prefix in self._prefixes)

    def close(self) -> None:
        """Stop receiving; events already queued are still delivered."""
        if not self._closed:
            self._closed = True
            self._hub._forget(self)
            self._wakeup.set()

    def _offer(self, event: Publication) -> bool:
        """Queue an event without waiting; on overflow, queue one `resync` event instead of
        everything waiting (and of `event`) and say so."""
        if len(self._events) >= self._limit:
            dropped = 1 + sum(_events_in(queued) for queued in self._events)
            self._events.clear()
            self._events.append(_publication(RESYNC_TOPIC, {"dropped": dropped}))
            self._wakeup.set()
            return False
        self._events.append(event)
        self._wakeup.set()
        return True

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Publication:
        while True:
            if self._events:
                return self._events.popleft()
            if self._closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class EventHub:
    """Publish events by topic to every matching subscription, without ever blocking.

    Use it from the event loop's thread; another thread hands events over with
    `loop.call_soon_threadsafe(hub.publish, topic, event)`.
    """

    def __init__(self, *, queue_limit: int = DEFAULT_QUEUE_LIMIT) -> None:
        if queue_limit < 1:
            raise ValueError(f"queue_limit must be at least 1, got {queue_limit}")
        self._queue_limit = queue_limit
        self._subscriptions: set[Subscription] = set()
        self._closed = False
        self._forwarders: list[Callable[[Publication], None]] = []
        self.overflow_count = 0
        """How often a subscription fell behind and was sent `resync` instead of its queue."""

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    def publish(self, topic: str, event: EncodableObject) -> None:
        """Deliver `event` to every subscription with a matching prefix; never waits.

        Raises ValueError for an empty topic or a NaN, TypeError when the event is no JSON
        object, so a bad event fails where it is made, not at each subscriber. Publishing
        after `close()` does nothing.
        """
        if not isinstance(topic, str) or not topic:
            raise ValueError(f"event topic must be a non-empty string, got {topic!r}")
        if not isinstance(event, Mapping):
            raise TypeError(f"event for topic {topic!r} must be a JSON object, got {event!r}")
        if self._closed:
            return
        published = _publication(topic, event)
        self.deliver(published)
        for forward in self._forwarders:
            forward(published)

    def wanted(self, topic: str) -> bool:
        """Whether a publication under `topic` would reach anyone (a subscription or a
        forwarder): a publisher of many events skips building those nobody receives."""
        if self._forwarders:
            return not self._closed
        topic_bytes = topic.encode()
        return any(subscription.matches(topic_bytes) for subscription in self._subscriptions)

    def forward_to(self, forward: Callable[[Publication], None]) -> None:
        """Hand every publication made here (not those `deliver`ed) to `forward` as well: how
        a replica's events reach the other replicas (`cluster.replicas`)."""
        self._forwarders.append(forward)

    def deliver(self, published: Publication) -> None:
        """Offer a publication to the matching subscriptions only, never to a forwarder: one
        that another replica published arrives this way."""
        if self._closed:
            return
        topic_bytes = published.topic_bytes
        for subscription in list(self._subscriptions):
            if subscription.matches(topic_bytes) and not subscription._offer(published):
                self.overflow_count += 1

    def resync(self, dropped: int = 0) -> None:
        """Tell every subscription, whatever its prefixes, to re-read what it shows: events
        may have been missed (a replica's link to the others broke)."""
        if self._closed:
            return
        notice = _publication(RESYNC_TOPIC, {"dropped": dropped})
        for subscription in list(self._subscriptions):
            subscription._offer(notice)

    def subscribe(
        self, prefixes: Iterable[str | bytes] = (), *, queue_limit: int | None = None
    ) -> Subscription:
        """A new subscription to topics starting with any of `prefixes` (`""` is everything)."""
        if self._closed:
            raise RuntimeError("EventHub is closed; cannot subscribe")
        subscription = Subscription(self, prefixes, queue_limit or self._queue_limit)
        self._subscriptions.add(subscription)
        return subscription

    def close(self) -> None:
        """Close every subscription; their iterators end after the events already queued."""
        self._closed = True
        for subscription in list(self._subscriptions):
            subscription.close()

    def _forget(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)


def _events_in(queued: Publication) -> int:
    """How many published events `queued` stands for: a `resync` counts those it replaced."""
    dropped = queued.data.get("dropped") if queued.topic == RESYNC_TOPIC else None
    return dropped if isinstance(dropped, int) else 1


def received_publication(topic: str, payload: bytes) -> Publication:
    """A publication as another replica encoded it; raises ValueError unless `payload` is a
    JSON object."""
    data = json.loads(payload)
    if not isinstance(data, dict):
        raise ValueError(f"the payload of {topic!r} is no JSON object")
    return Publication(topic=topic, data=data, payload=payload)


def _publication(topic: str, data: EncodableObject) -> Publication:
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return Publication(topic=topic, data=data, payload=payload.encode())


def _as_bytes(prefix: str | bytes) -> bytes:
    return prefix.encode() if isinstance(prefix, str) else prefix
