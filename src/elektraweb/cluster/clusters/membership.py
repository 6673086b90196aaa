"""Telling the cluster service that a member joined or left.

The registry change stands even if the instance cannot be reached right now (the cluster
service brings it up to date when it returns), so a failure here is reported, never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import NotRequired, TypedDict, TypeVar

from elektraweb.cluster.api.errors import ApiError
from elektraweb.cluster.clusters.service import JoinedJSON
from elektraweb.cluster.instances.gateway import GATEWAY_ERRORS, api_error
from elektraweb.cluster.services import Services
from elektraweb.cluster.store.clusters import Cluster
from elektraweb.cluster.store.instances import Instance
from elektraweb.wire.json_value import EncodableObject

log = logging.getLogger(__name__)

Report = TypeVar("Report")


class StepJSON(TypedDict):
    """How a step that may fail went: ``{"ok": true}``, or the failure's API error object."""

    ok: bool
    error: NotRequired[EncodableObject]


async def _reported(step: Awaitable[Report], what: str) -> Report | StepJSON:
    try:
        return await step
    except (*GATEWAY_ERRORS, ApiError) as error:
        problem = error if isinstance(error, ApiError) else api_error(error)
        log.warning("could not %s: %s", what, problem.message)
        return {"ok": False, "error": problem.body()["error"]}


async def joined(
    services: Services, cluster: Cluster, instance: Instance
) -> JoinedJSON | StepJSON | None:
    """Apply the cluster's state to its new member; the cluster service's report, or None."""
    if services.cluster_service is None:
        return None
    return await _reported(
        services.cluster_service.member_joined(cluster, instance),
        f"apply cluster {cluster.id} to its new member {instance.id}",
    )


async def left(services: Services, cluster: Cluster, instance: Instance) -> StepJSON | None:
    """Unlock the cluster's keys on a former member; ``{"ok": true}`` or the failure."""
    if services.cluster_service is None:
        return None
    failure = await _reported(
        services.cluster_service.member_left(cluster, instance),
        f"unlock instance {instance.id} after it left cluster {cluster.id}",
    )
    return failure or {"ok": True}
