"""Routes of clusters and their members. A new member receives the cluster's state and a member
that leaves is unlocked, through the cluster service when one is configured."""

from __future__ import annotations

from elektraweb.cluster.api.instances import INSTANCE, MEMBER_SYNC, instance_json
from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.routing import Call, Route
from elektraweb.cluster.api.schema import ANY, INTEGER, STRING, array, enum, nullable, obj
from elektraweb.cluster.clusters import membership
from elektraweb.cluster.clusters.sync_state import STATES
from elektraweb.cluster.services import Services
from elektraweb.cluster.store.clusters import Cluster
from elektraweb.wire.json_value import Encodable

TAG = "clusters"
_STORED = {"id": INTEGER, "name": STRING, "description": STRING, "members": array(INTEGER)}
CLUSTER_SYNC = obj({"state": enum(*STATES), "keys": INTEGER, "members": obj({}, extra=MEMBER_SYNC)})
"""The cluster's sync state: the worst member's, and each member's by id."""
CLUSTER = obj({**_STORED, "sync": nullable(CLUSTER_SYNC)}, extra=True)
STORED_CLUSTER = obj(_STORED, extra=True)
"""A cluster without its sync state: the answers that delete it or change its members."""
NEW_CLUSTER = obj({"name": STRING}, {"description": STRING})
CHANGED_CLUSTER = obj({}, {"name": STRING, "description": STRING})
MEMBERSHIP = obj({"instance": INSTANCE, "cluster": STORED_CLUSTER}, {"apply": ANY, "unlock": ANY})


def cluster_json(services: Services, cluster: Cluster) -> dict[str, Encodable]:
    """A cluster with its members' `sync` state (null without a cluster service)."""
    cluster_service = services.cluster_service
    sync = None if cluster_service is None else cluster_service.cluster_status(cluster)
    return {**cluster.to_json(), "sync": sync}


async def list_clusters(call: Call) -> ApiResponse:
    services = call.services
    clusters = services.registry.clusters()
    return ApiResponse(200, [cluster_json(services, cluster) for cluster in clusters])


async def add_cluster(call: Call) -> ApiResponse:
    cluster = call.services.registry.add_cluster(
        call.text_field("name"), call.text_field("description", "")
    )
    call.services.audit.record(
        user=call.principal.user,
        action="cluster.add",
        target_type="cluster",
        target_id=cluster.id,
        after=cluster.to_json(),
        result={"ok": True},
    )
    return ApiResponse(201, cluster_json(call.services, cluster))


async def get_cluster(call: Call) -> ApiResponse:
    cluster = call.services.registry.cluster(call.id_param("id"))
    return ApiResponse(200, cluster_json(call.services, cluster))


async def change_cluster(call: Call) -> ApiResponse:
    registry = call.services.registry
    before = registry.cluster(call.id_param("id"))
    after = registry.update_cluster(
        before.id,
        call.text_field("name", before.name),
        call.text_field("description", before.description),
    )
    call.services.audit.record(
        user=call.principal.user,
        action="cluster.change",
        target_type="cluster",
        target_id=before.id,
        before=before.to_json(),
        after=after.to_json(),
        result={"ok": True},
    )
    return ApiResponse(200, cluster_json(call.services, after))


async def remove_cluster(call: Call) -> ApiResponse:
    services = call.services
    cluster, released = services.registry.remove_cluster(call.id_param("id"))
    unlocked = {
        str(member.id): await membership.left(services, cluster, member) for member in released
    }
    services.audit.record(
        user=call.principal.user,
        action="cluster.remove",
        target_type="cluster",
        target_id=cluster.id,
        before=cluster.to_json(),
        result={"ok": True, "released": unlocked},
    )
    return ApiResponse(200, cluster.to_json())


async def list_members(call: Call) -> ApiResponse:
    services = call.services
    cluster = services.registry.cluster(call.id_param("id"))
    members = services.registry.members(cluster.id)
    return ApiResponse(200, [instance_json(services, member) for member in members])


async def add_member(call: Call) -> ApiResponse:
    services = call.services
    cluster_id = call.id_param("id")
    instance = services.registry.join(cluster_id, call.int_field("instance"))
    cluster = services.registry.cluster(cluster_id)
    applied = await membership.joined(services, cluster, instance)
    services.audit.record(
        user=call.principal.user,
        action="member.add",
        target_type="cluster",
        target_id=cluster.id,
        after={"instance": instance.id},
        result={"ok": True, "apply": applied},
    )
    # The cluster without every member's sync state: that is O(members) per join, and a
    # registration burst of 1,000 joins left clusterd ~20 MB larger (docs/benchmarks.md).
    body = {"cluster": cluster.to_json(), "instance": instance_json(services, instance)}
    return ApiResponse(201, {**body, "apply": applied})


async def remove_member(call: Call) -> ApiResponse:
    services = call.services
    cluster = services.registry.cluster(call.id_param("id"))
    instance = services.registry.leave(cluster.id, call.id_param("instanceId"))
    unlocked = await membership.left(services, cluster, instance)
    services.audit.record(
        user=call.principal.user,
        action="member.remove",
        target_type="cluster",
        target_id=cluster.id,
        before={"instance": instance.id},
        result={"ok": True, "unlock": unlocked},
    )
    body = {
        "cluster": services.registry.cluster(cluster.id).to_json(),
        "instance": instance_json(services, instance),
    }
    return ApiResponse(200, {**body, "unlock": unlocked})


ROUTES = (
    Route(
        "GET",
        "/api/clusters",
        list_clusters,
        "viewer",
        "List the clusters",
        TAG,
        response=array(CLUSTER),
    ),
    Route(
        "POST",
        "/api/clusters",
        add_cluster,
        "admin",
        "Create a cluster",
        TAG,
        body=NEW_CLUSTER,
        status=201,
        response=CLUSTER,
        errors=(400, 409),
    ),
    Route(
        "GET",
        "/api/clusters/{id}",
        get_cluster,
        "viewer",
        "One cluster",
        TAG,
        response=CLUSTER,
        errors=(404,),
    ),
    Route(
        "PUT",
        "/api/clusters/{id}",
        change_cluster,
        "admin",
        "Rename or describe a cluster",
        TAG,
        body=CHANGED_CLUSTER,
        response=CLUSTER,
        errors=(400, 404, 409),
    ),
    Route(
        "DELETE",
        "/api/clusters/{id}",
        remove_cluster,
        "admin",
        "Delete a cluster and its configuration; its members are released (unlocked)",
        TAG,
        response=STORED_CLUSTER,
        errors=(404,),
    ),
    Route(
        "GET",
        "/api/clusters/{id}/instances",
        list_members,
        "viewer",
        "The cluster's members",
        TAG,
        response=array(INSTANCE),
        errors=(404,),
    ),
    Route(
        "POST",
        "/api/clusters/{id}/instances",
        add_member,
        "admin",
        "Add an instance to the cluster: {instance: id}; it receives the cluster's state",
        TAG,
        body=obj({"instance": INTEGER}),
        status=201,
        response=MEMBERSHIP,
        errors=(400, 404, 409),
    ),
    Route(
        "DELETE",
        "/api/clusters/{id}/instances/{instanceId}",
        remove_member,
        "admin",
        "Remove a member; the cluster's keys are unlocked on it, their values stay",
        TAG,
        response=MEMBERSHIP,
        errors=(404,),
    ),
)
