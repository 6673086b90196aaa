"""Everything a request handler may use, built once per clusterd from its `Config`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from elektraweb.cluster.api.login_throttle import LoginThrottle
from elektraweb.cluster.audit.history import History
from elektraweb.cluster.audit.log import AuditLog
from elektraweb.cluster.clusters.service import ClusterService
from elektraweb.cluster.config import Config
from elektraweb.cluster.instances.gateway import InstanceGateway
from elektraweb.cluster.store.cluster_keys import ClusterKeys
from elektraweb.cluster.store.credentials import Credentials
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.enrollment import EnrollmentTokens
from elektraweb.cluster.store.login_failures import LoginFailures
from elektraweb.cluster.store.registry import Registry
from elektraweb.cluster.store.users import Users

ClusterServiceFactory = Callable[["Services"], ClusterService]


@dataclass
class Services:
    config: Config
    database: Database
    registry: Registry
    cluster_keys: ClusterKeys
    users: Users
    credentials: Credentials
    enrollment: EnrollmentTokens
    audit: AuditLog
    history: History
    gateway: InstanceGateway
    login_throttle: LoginThrottle
    cluster_service: ClusterService | None = None

    @classmethod
    def open(
        cls,
        config: Config,
        gateway: InstanceGateway,
        cluster_service: ClusterServiceFactory | None = None,
    ) -> Services:
        """Open the state directory's database and build the stores on it."""
        database = Database.open(config.database)
        registry = Registry(database)
        services = cls(
            config=config,
            database=database,
            registry=registry,
            cluster_keys=ClusterKeys(database),
            users=Users(database),
            credentials=Credentials(database, config.session_seconds),
            enrollment=EnrollmentTokens(database, registry),
            audit=AuditLog(database, config.audit_value_limit),
            history=History(database),
            gateway=gateway,
            login_throttle=LoginThrottle(LoginFailures(database), config.login_throttle),
        )
        if cluster_service is not None:
            services.cluster_service = cluster_service(services)
        return services


SERVICES = web.AppKey("services", Services)
"""Where the app keeps its `Services`, for the parts that hook into its start and stop."""

Extension = Callable[[web.Application], None]
"""A part of clusterd that hooks into the app (its start and stop, its routes)."""
