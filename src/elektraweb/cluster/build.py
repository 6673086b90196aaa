"""The composition root: one clusterd wired from its `Config`, the same for the command and
for the tests (which pass an in-process gateway and subscription, or quicker link options)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from elektraweb.cluster.audit.recovery import PendingAudits
from elektraweb.cluster.clusters.configuration import ConvergingClusterService, lifecycle
from elektraweb.cluster.config import Config
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.events.registry_events import registry_events_extension
from elektraweb.cluster.http.server import Server, StartedCallback
from elektraweb.cluster.http.sockets import zws_extension
from elektraweb.cluster.instances.feed import InstanceFeed
from elektraweb.cluster.instances.subscriptions import SubscriptionFactory
from elektraweb.cluster.instances.wire_gateway import WireGateway
from elektraweb.cluster.replicas.coordinator import (
    Coordinator,
    SingleReplica,
    coordination_extension,
)
from elektraweb.cluster.services import Services
from elektraweb.wire.keys import KeyPair


@dataclass(frozen=True)
class Clusterd:
    """The parts of one clusterd; `server.start()` and `server.stop()` run it."""

    server: Server
    hub: EventHub
    gateway: WireGateway
    feed: InstanceFeed
    coordinator: Coordinator


def build(
    config: Config,
    keypair: KeyPair,
    *,
    gateway: WireGateway | None = None,
    subscribe: SubscriptionFactory | None = None,
    on_started: StartedCallback | None = None,
) -> Clusterd:
    """Every part of clusterd, wired: the daemon link (`gateway`, ZeroMQ by default), the
    instance feed, the cluster service, pending audit entries, and both browser sockets."""
    hub = EventHub(queue_limit=config.event_queue_limit)
    gateway = gateway if gateway is not None else WireGateway(keypair)
    coordinator = coordinator_for(config, hub)
    feed = InstanceFeed(hub, gateway, keypair, subscribe=subscribe, owns=coordinator.holds)
    coordinator.on_leases_changed(feed.leases_changed)
    coordinator.on_remote(feed.published_elsewhere)
    pending_audits = PendingAudits(others_may_send=config.shared_database_url is not None)
    feed.attach(pending_audits)

    def cluster_service(services: Services) -> ConvergingClusterService:
        # The feed tells the cluster service of drift and of members coming back.
        configuration = ConvergingClusterService(services, hub=hub, owns=coordinator.holds)
        feed.attach(configuration)
        return configuration

    server = Server(
        config,
        gateway=gateway,
        cluster_service=cluster_service,
        extensions=[
            zws_extension(hub),
            registry_events_extension(hub),
            feed.extension,
            coordination_extension(coordinator),
            lifecycle,
            pending_audits.extension,
        ],
        on_started=on_started,
    )
    return Clusterd(server, hub, gateway, feed, coordinator)


def coordinator_for(config: Config, hub: EventHub) -> Coordinator:
    """How this clusterd shares the once-per-instance work and its events: with the other
    replicas on its PostgreSQL database, or not at all (a SQLite file)."""
    replica_id = config.replica_id or secrets.token_hex(4)
    if config.shared_database_url is None:
        return SingleReplica(replica_id)
    from elektraweb.cluster.replicas.postgres import PostgresCoordinator

    return PostgresCoordinator(config.shared_database_url, hub, replica_id)
