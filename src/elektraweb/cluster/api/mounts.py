"""An instance's mounts: anyone may list them; mounting and unmounting are for admins only,
audited, and elektrad itself confines them to its ``--mount-dir`` directories
(docs/security.md §1). The kdb write routes can never change the mount table."""

from __future__ import annotations

from collections.abc import Mapping

from elektraweb.cluster.api.errors import ApiError, BadGateway, GatewayTimeout
from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.routing import Call, Route
from elektraweb.cluster.api.schema import BOOLEAN, STRING, array, obj
from elektraweb.cluster.api.targets import InstanceTarget, instance_target
from elektraweb.wire.replies import OperationArgs, OperationReply

TAG = "instance mounts"
MOUNT = obj(
    {"mountpoint": STRING, "file": STRING, "format": STRING},
    {"files": array(STRING), "managed": BOOLEAN},
    extra=True,
)
_ERRORS = (400, 404, 409, 500, 502, 504)


async def list_mounts(call: Call) -> ApiResponse:
    target = instance_target(call.services, call.id_param("id"))
    return ApiResponse(200, await target.call("mounts", {}))


async def _audited(
    call: Call, target: InstanceTarget, op: str, args: OperationArgs
) -> OperationReply:
    """Run ``op`` on the instance and record it, refused or not, in the audit log."""
    try:
        reply = await target.call(op, args)
    except ApiError as error:
        # Without an answer the instance may still have done it: "unknown", not "refused".
        unanswered = isinstance(error, GatewayTimeout | BadGateway)
        outcome = "unknown" if unanswered else "refused"
        result = {"ok": False, "outcome": outcome, "args": args, "error": error.body()["error"]}
        _record(call, target, op, args["mountpoint"], None, result)
        raise
    applied = {"ok": True, "outcome": "applied", "args": args}
    _record(call, target, op, args["mountpoint"], reply, applied)
    return reply


def _record(
    call: Call,
    target: InstanceTarget,
    op: str,
    mountpoint: str,
    reply: OperationReply | None,
    result: Mapping[str, object],
) -> None:
    mounted = None if reply is None else {"file": reply["file"], "format": reply["format"]}
    call.services.audit.record(
        user=call.principal.user,
        action=op,
        target_type="instance",
        target_id=target.id,
        key=mountpoint,
        before=mounted if op == "umount" else None,
        after=mounted if op == "mount" else None,
        result=result,
    )


async def mount(call: Call) -> ApiResponse:
    target = instance_target(call.services, call.id_param("id"))
    args: OperationArgs = {
        "mountpoint": call.text_field("mountpoint"),
        "path": call.text_field("path"),
    }
    if "format" in call.body_object():
        args["format"] = call.text_field("format")
    return ApiResponse(200, await _audited(call, target, "mount", args))


async def umount(call: Call) -> ApiResponse:
    target = instance_target(call.services, call.id_param("id"))
    args: OperationArgs = {"mountpoint": call.params["mountpoint"]}
    return ApiResponse(200, await _audited(call, target, "umount", args))


ROUTES = (
    Route(
        "GET",
        "/api/instances/{id}/mounts",
        list_mounts,
        "viewer",
        "The instance's mountpoints and the directories it allows remote mounts in",
        TAG,
        response=obj({"mounts": array(MOUNT), "mount_dirs": array(STRING)}, extra=True),
        errors=(404, 502, 504),
    ),
    Route(
        "POST",
        "/api/instances/{id}/mounts",
        mount,
        "admin",
        "Mount a file below one of the instance's --mount-dir directories at a mountpoint",
        TAG,
        body=obj({"mountpoint": STRING, "path": STRING}, {"format": STRING}),
        response=MOUNT,
        errors=_ERRORS,
    ),
    Route(
        "DELETE",
        "/api/instances/{id}/mounts/{mountpoint:.*}",
        umount,
        "admin",
        "Unmount a mountpoint made below the instance's --mount-dir directories",
        TAG,
        response=MOUNT,
        errors=_ERRORS,
    ),
)
