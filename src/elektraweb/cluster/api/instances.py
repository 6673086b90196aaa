"""Routes of the instance registry: list, add (after checking the daemon holds its key), change,
remove, and ask an instance for its version."""

from __future__ import annotations

import dataclasses

from elektraweb.cluster.api.errors import BadGateway, Conflict
from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.routing import Call, Route
from elektraweb.cluster.api.schema import (
    BOOLEAN,
    INTEGER,
    NULLABLE_STRING,
    STRING,
    Schema,
    array,
    enum,
    nullable,
    obj,
)
from elektraweb.cluster.api.targets import instance_target
from elektraweb.cluster.clusters import membership
from elektraweb.cluster.clusters.sync_state import STATES
from elektraweb.cluster.instances.gateway import GATEWAY_ERRORS, api_error
from elektraweb.cluster.services import Services
from elektraweb.cluster.store.instances import VISIBILITIES, Instance, InstanceFields
from elektraweb.wire.json_value import Encodable

TAG = "instances"
LINK_STATUS = obj(
    {"online": BOOLEAN},
    {
        "offline_since": NULLABLE_STRING,
        "last_error": NULLABLE_STRING,
        "last_seen": NULLABLE_STRING,
        "protocol": nullable(INTEGER),
        "elektra": NULLABLE_STRING,
        "hostname": NULLABLE_STRING,
        "mounts": nullable(array(obj({}, extra=True))),
    },
    extra=True,
)
_SYNC = {
    "state": enum(*STATES),
    "pending": INTEGER,
    "rejected": obj({}, extra=obj({"code": STRING, "message": STRING}, extra=True)),
    "drift": array(STRING),
}
MEMBER_SYNC = obj(_SYNC)
"""A member's sync state (docs/clusters.md, Sync state)."""
_REGISTERED = {
    "id": INTEGER,
    "name": STRING,
    "endpoint": STRING,
    "public_key": STRING,
    "description": STRING,
    "visibility": STRING,
    "cluster": nullable(INTEGER),
    "state": enum("pending", "accepted"),
}
INSTANCE = obj(
    {
        **_REGISTERED,
        "status": LINK_STATUS,
        "sync": nullable(obj({"cluster": INTEGER, **_SYNC})),
    },
    extra=True,
)
REMOVED_INSTANCE = obj(_REGISTERED, extra=True)
"""What was registered: a removed instance has no link and no sync state."""
_EDITABLE: dict[str, Schema] = {
    "name": STRING,
    "endpoint": STRING,
    "public_key": STRING,
    "description": STRING,
    "visibility": enum(*VISIBILITIES),
    "offline": {**BOOLEAN, "description": "Register without asking the daemon first."},
}
NEW_INSTANCE = obj(
    {"name": STRING, "endpoint": STRING, "public_key": STRING},
    {name: _EDITABLE[name] for name in ("description", "visibility", "offline")},
)
CHANGED_INSTANCE = obj({}, _EDITABLE)


def instance_json(services: Services, instance: Instance) -> dict[str, Encodable]:
    """A registered instance with its link's live `status` and, as a cluster member, its
    `sync` state (else null)."""
    cluster_service = services.cluster_service
    sync = None if cluster_service is None else cluster_service.member_status(instance)
    return {**instance.to_json(), "status": services.gateway.status(instance), "sync": sync}


async def _identify(call: Call, fields: InstanceFields) -> None:
    """Refuse the instance unless the daemon at its endpoint answers with its public key."""
    services = call.services
    try:
        version = await services.gateway.identify(
            fields.endpoint, fields.public_key, timeout=services.config.instance_timeout
        )
    except GATEWAY_ERRORS as error:
        raise api_error(error, endpoint=fields.endpoint) from error
    answered = version.get("instance")
    if answered is not None and answered != fields.public_key:
        raise BadGateway(
            f"the daemon at {fields.endpoint} has public key {answered}, not {fields.public_key}",
            endpoint=fields.endpoint,
        )


async def list_instances(call: Call) -> ApiResponse:
    services = call.services
    registered = services.registry.instances(with_pending=True)
    return ApiResponse(200, [instance_json(services, i) for i in registered])


async def add_instance(call: Call) -> ApiResponse:
    fields = InstanceFields(
        name=call.text_field("name"),
        endpoint=call.text_field("endpoint"),
        public_key=call.text_field("public_key"),
        description=call.text_field("description", ""),
        visibility=call.text_field("visibility", "user"),
    ).validated()
    offline = call.flag_field("offline", False)
    registry = call.services.registry
    registry.check_unique(fields)
    if not offline:
        await _identify(call, fields)
    instance = registry.add_instance(fields)
    call.services.audit.record(
        user=call.principal.user,
        action="instance.add",
        target_type="instance",
        target_id=instance.id,
        after=instance.to_json(),
        result={"ok": True, "checked": not offline},
    )
    return ApiResponse(201, instance_json(call.services, instance))


async def get_instance(call: Call) -> ApiResponse:
    instance = call.services.registry.instance(call.id_param("id"))
    return ApiResponse(200, instance_json(call.services, instance))


async def change_instance(call: Call) -> ApiResponse:
    services = call.services
    before = services.registry.instance(call.id_param("id"))
    changes = {name: call.text_field(name) for name in call.body_object() if name != "offline"}
    current = InstanceFields(
        before.name, before.endpoint, before.public_key, before.description, before.visibility
    )
    fields = dataclasses.replace(current, **changes).validated()
    relinked = (fields.endpoint, fields.public_key) != (before.endpoint, before.public_key)
    if relinked and before.state == "pending":
        raise Conflict(
            f"instance {before.name!r} (id {before.id}) is pending: it keeps the endpoint and key"
            " it enrolled with; reject it, and let the host enroll again",
            code="instance-pending",
            instance=before.id,
        )
    if relinked:
        services.registry.check_unique(fields, except_id=before.id)
        if not call.flag_field("offline", False):
            await _identify(call, fields)
    after = services.registry.update_instance(before.id, fields)
    if relinked:
        await services.gateway.forget(before)
    services.audit.record(
        user=call.principal.user,
        action="instance.change",
        target_type="instance",
        target_id=before.id,
        before=before.to_json(),
        after=after.to_json(),
        result={"ok": True},
    )
    return ApiResponse(200, instance_json(services, after))


async def remove_instance(call: Call) -> ApiResponse:
    services = call.services
    # Removed first, then unlocked for the cluster it was in at that moment: unlocking first
    # waits on the daemon, and a join meanwhile (on any replica) would keep its new cluster's
    # locks on the host.
    instance, cluster = services.registry.remove_instance(call.id_param("id"))
    result: dict[str, Encodable] = {"ok": True}
    if cluster is not None:
        result["unlock"] = await membership.left(services, cluster, instance)
    await services.gateway.forget(instance)
    services.audit.record(
        user=call.principal.user,
        action="instance.remove",
        target_type="instance",
        target_id=instance.id,
        before=instance.to_json(),
        result=result,
    )
    return ApiResponse(200, instance.to_json())


async def instance_version(call: Call) -> ApiResponse:
    target = instance_target(call.services, call.id_param("id"))
    return ApiResponse(200, await target.call("version", {}))


ROUTES = (
    Route(
        "GET",
        "/api/instances",
        list_instances,
        "viewer",
        "List the registered instances, with the enrolled ones waiting for an admin"
        " (state pending)",
        TAG,
        response=array(INSTANCE),
    ),
    Route(
        "POST",
        "/api/instances",
        add_instance,
        "admin",
        "Register an instance; the daemon must answer with the given public key unless"
        " `offline` is true",
        TAG,
        body=NEW_INSTANCE,
        status=201,
        response=INSTANCE,
        errors=(400, 409, 502, 504),
    ),
    Route(
        "GET",
        "/api/instances/{id}",
        get_instance,
        "viewer",
        "One instance",
        TAG,
        response=INSTANCE,
        errors=(404,),
    ),
    Route(
        "PUT",
        "/api/instances/{id}",
        change_instance,
        "admin",
        "Change an instance; a new endpoint or key is checked like a new instance",
        TAG,
        body=CHANGED_INSTANCE,
        response=INSTANCE,
        errors=(400, 404, 409, 502, 504),
    ),
    Route(
        "DELETE",
        "/api/instances/{id}",
        remove_instance,
        "admin",
        "Remove an instance from the registry (and from its cluster)",
        TAG,
        response=REMOVED_INSTANCE,
        errors=(404,),
    ),
    Route(
        "GET",
        "/api/instances/{id}/version",
        instance_version,
        "viewer",
        "The instance's protocol and Elektra version, hostname and mounts",
        TAG,
        response=obj(
            {
                "protocol": INTEGER,
                "elektra": obj({}, extra=True),
                "instance": STRING,
                "hostname": NULLABLE_STRING,
            },
            extra=True,
        ),
        errors=(404, 502, 504),
    ),
)
