"""Where a KDB operation runs: one instance (through the gateway) or one cluster (through the
cluster service). Both answer `call(op, args)` with the daemon link's operations and raise
API errors that name the target."""

from __future__ import annotations

from typing import Any

from elektraweb.cluster.audit import TargetType
from elektraweb.cluster.cluster_service import ClusterConfig
from elektraweb.cluster.errors import NotImplementedYet
from elektraweb.cluster.gateway import GATEWAY_ERRORS, api_error
from elektraweb.cluster.registry import Cluster, Instance
from elektraweb.cluster.services import Services


class InstanceTarget:
    kind: TargetType = "instance"

    def __init__(self, services: Services, instance: Instance) -> None:
        self._services = services
        self.id = instance.id
        self.instance = instance

    async def call(self, op: str, args: dict[str, Any]) -> Any:
        try:
            return await self._services.gateway.call(
                self.instance, op, args, timeout=self._services.config.instance_timeout
            )
        except GATEWAY_ERRORS as error:
            raise api_error(error, instance=self.id) from error

    def check_write(self, op: str, args: dict[str, Any]) -> None:
        """Refuse (423) a write to a key that the instance's cluster owns."""
        cluster_config = self._services.cluster_config
        if cluster_config is not None and self.instance.cluster_id is not None:
            cluster_config.check_member_write(self.instance, op, args)


class ClusterTarget:
    kind: TargetType = "cluster"

    def __init__(self, cluster_config: ClusterConfig, cluster: Cluster) -> None:
        self._cluster_config = cluster_config
        self.id = cluster.id
        self.cluster = cluster

    async def call(self, op: str, args: dict[str, Any]) -> Any:
        try:
            return await self._cluster_config.call(self.cluster, op, args)
        except GATEWAY_ERRORS as error:
            raise api_error(error, cluster=self.id) from error

    def check_write(self, op: str, args: dict[str, Any]) -> None:
        """A cluster owns its keys: nothing to check."""


Target = InstanceTarget | ClusterTarget


def instance_target(services: Services, instance_id: int) -> InstanceTarget:
    return InstanceTarget(services, services.registry.instance(instance_id))


def cluster_target(services: Services, cluster_id: int) -> ClusterTarget:
    cluster = services.registry.cluster(cluster_id)
    if services.cluster_config is None:
        raise NotImplementedYet("cluster configuration is not available in this clusterd")
    return ClusterTarget(services.cluster_config, cluster)
