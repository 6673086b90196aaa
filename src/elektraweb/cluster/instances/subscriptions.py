"""How the instance feed subscribes to a daemon's events: a subscription, the factory that
opens one (over ZeroMQ and CURVE, or in-process in tests), and where a daemon publishes that
has not said where."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from elektraweb.cluster.store.instances import Instance, parse_endpoint
from elektraweb.wire import AnyEvent, EventSubscriber, KeyPair, LinkStatus


class Subscription(Protocol):
    """Everything one daemon publishes (an `EventSubscriber` to every prefix)."""

    status: LinkStatus

    async def start(self) -> None: ...

    def deliver_to(self, on_event: Callable[[AnyEvent], None]) -> None:
        """Call `on_event` with every event from now on, in the order published."""
        ...

    async def close(self) -> None: ...


class SubscriptionFactory(Protocol):
    """Opens the subscription (not started) to the events published at `endpoint` by the
    daemon whose public key is `server_key`; raises ValueError for a key it cannot use."""

    def __call__(self, endpoint: str, *, server_key: str) -> Subscription: ...


def zmq_subscriptions(keypair: KeyPair) -> SubscriptionFactory:
    """The daemon's PUB socket, over CURVE as `keypair`. Its status is watched only until the
    subscription is first connected: the request link's status (the gateway's) tells when the
    daemon goes and comes back, and ZeroMQ reconnects the subscription by itself."""

    def subscribe(endpoint: str, *, server_key: str) -> Subscription:
        return EventSubscriber(
            endpoint, server_key=server_key, keypair=keypair, prefixes=[""], watch_until_online=True
        )

    return subscribe


def unannounced_events_endpoint(instance: Instance) -> str:
    """Where a daemon publishes that has not said where (docs/protocol.md §4): its request
    port + 2."""
    host, _, port = parse_endpoint(instance.endpoint).address.rpartition(":")
    return f"{host}:{int(port) + 2}"
