"""The `kdb*` routes of libelektra's webd, once for an instance and once for a cluster.

Each route runs one operation (see kdb_operations) on a target: an instance through the
gateway, or a cluster through the cluster service. Writes are audited with the key's state
read just before and just after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from elektraweb.cluster.api import ApiResponse
from elektraweb.cluster.errors import ApiError, GatewayTimeout
from elektraweb.cluster.kdb_operations import OPERATIONS, KdbOperation
from elektraweb.cluster.routing import Call, Handler, Route
from elektraweb.cluster.targets import Target, cluster_target, instance_target


async def _state(target: Target, key: str) -> dict[str, Any] | None:
    """The key's value and metadata, or None if it does not exist."""
    found = await target.call("get", {"key": key, "depth": 0, "ls_limit": 1})
    if not found.get("exists"):
        return None
    return {"value": found.get("value"), "meta": found.get("meta", {})}


def _summary_of(args: dict[str, Any]) -> dict[str, Any]:
    """The arguments worth keeping in the audit log (not the key, not imported file text)."""
    return {name: value for name, value in args.items() if name not in ("key", "data")}


async def _run(operation: KdbOperation, target: Target, call: Call) -> ApiResponse:
    args = operation.arguments(call)
    if not operation.write:
        return ApiResponse(200, await target.call(operation.op, args))
    target.check_write(operation.op, args)
    key = args["key"]
    before = await _state(target, key)
    result: dict[str, Any] = {"ok": True, "args": _summary_of(args)}
    try:
        reply = await target.call(operation.op, args)
    except ApiError as error:
        result.update(ok=False, error=error.body()["error"])
        if isinstance(error, GatewayTimeout):
            # Sent but unanswered: the write may have happened (docs/protocol.md §2, retries).
            result["after_unknown"] = error.message
            _audit(call, operation, target, key, before, None, result)
        else:
            _audit(call, operation, target, key, before, before, result)
        raise
    result["reply"] = reply
    try:
        after = await _state(target, key)
    except ApiError as error:
        # The write succeeded; only reading it back failed. Record that, do not fail the write.
        after = None
        result["after_unknown"] = error.message
    _audit(call, operation, target, key, before, after, result)
    return ApiResponse(200, reply)


def _audit(
    call: Call,
    operation: KdbOperation,
    target: Target,
    key: str,
    before: Any,
    after: Any,
    result: dict[str, Any],
) -> None:
    call.services.audit.record(
        user=call.principal.user,
        action=operation.op,
        target_type=target.kind,
        target_id=target.id,
        key=key,
        before=before,
        after=after,
        result=result,
    )


def _routes(
    prefix: str, resolve: Callable[[Call], Target], tag: str, errors: tuple[int, ...]
) -> tuple[Route, ...]:
    def handler_for(operation: KdbOperation) -> Handler:
        async def handle(call: Call) -> ApiResponse:
            return await _run(operation, resolve(call), call)

        return handle

    return tuple(
        Route(
            operation.method,
            f"{prefix}/{operation.resource}/{{{operation.parameter}:.*}}",
            handler_for(operation),
            role="editor" if operation.write else "viewer",
            summary=operation.summary,
            tag=tag,
            body=operation.body,
            body_types=operation.body_types,
            query=operation.query,
            response=operation.response,
            errors=errors,
        )
        for operation in OPERATIONS
    )


_TARGET_ERRORS = (400, 404, 409, 413, 423, 500, 502, 504)
INSTANCE_ROUTES = _routes(
    "/api/instances/{id}",
    lambda call: instance_target(call.services, call.id_param("id")),
    "instance configuration",
    _TARGET_ERRORS,
)
CLUSTER_ROUTES = _routes(
    "/api/clusters/{id}",
    lambda call: cluster_target(call.services, call.id_param("id")),
    "cluster configuration",
    (*_TARGET_ERRORS, 501),
)
