"""Everything a request handler may use, built once per clusterd from its `Config`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from elektraweb.cluster.audit import AuditLog
from elektraweb.cluster.cluster_keys import ClusterKeys
from elektraweb.cluster.cluster_service import ClusterConfig
from elektraweb.cluster.config import Config
from elektraweb.cluster.credentials import Credentials
from elektraweb.cluster.database import Database
from elektraweb.cluster.gateway import InstanceGateway
from elektraweb.cluster.registry import Registry
from elektraweb.cluster.users import Users

ClusterConfigFactory = Callable[["Services"], ClusterConfig]


@dataclass
class Services:
    config: Config
    database: Database
    registry: Registry
    cluster_keys: ClusterKeys
    users: Users
    credentials: Credentials
    audit: AuditLog
    gateway: InstanceGateway
    cluster_config: ClusterConfig | None = None

    @classmethod
    def open(
        cls,
        config: Config,
        gateway: InstanceGateway,
        cluster_config: ClusterConfigFactory | None = None,
    ) -> Services:
        """Open the state directory's database and build the stores on it."""
        database = Database.open(config.database_path)
        services = cls(
            config=config,
            database=database,
            registry=Registry(database),
            cluster_keys=ClusterKeys(database),
            users=Users(database),
            credentials=Credentials(database, config.session_seconds),
            audit=AuditLog(database, config.audit_value_limit),
            gateway=gateway,
        )
        if cluster_config is not None:
            services.cluster_config = cluster_config(services)
        return services
