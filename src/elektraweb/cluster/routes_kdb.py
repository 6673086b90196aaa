"""The `kdb*` routes of libelektra's webd, once for an instance and once for a cluster.

Each route runs one operation (see kdb_operations) on a target: an instance through the
gateway, or a cluster through the cluster service. Writes are audited with the key's state
just before and just after, as the target reports it with the write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from elektraweb.cluster.api import ApiResponse
from elektraweb.cluster.errors import ApiError, BadGateway, GatewayTimeout
from elektraweb.cluster.kdb_operations import OPERATIONS, KdbOperation
from elektraweb.cluster.routing import Call, Handler, Route
from elektraweb.cluster.targets import (
    KeyState,
    Target,
    cluster_target,
    instance_target,
    read_state,
)


def _summary_of(args: dict[str, Any]) -> dict[str, Any]:
    """The arguments worth keeping in the audit log (not the key, not imported file text)."""
    return {name: value for name, value in args.items() if name not in ("key", "data")}


async def _run(operation: KdbOperation, target: Target, call: Call) -> ApiResponse:
    args = operation.arguments(call)
    if not operation.write:
        return ApiResponse(200, await target.call(operation.op, args))
    target.check_write(operation.op, args)
    key = args["key"]
    result: dict[str, Any] = {"ok": True, "args": _summary_of(args)}
    try:
        written = await target.write(operation.op, args)
    except ApiError as error:
        result.update(ok=False, error=error.body()["error"])
        state = await _state_after_failure(target, key, error, result)
        _audit(call, operation, target, key, state, state, result)
        raise
    result.update(written.unknown)
    result["reply"] = written.reply
    _audit(call, operation, target, key, written.before, written.after, result)
    return ApiResponse(200, written.reply)


async def _state_after_failure(
    target: Target, key: str, error: ApiError, result: dict[str, Any]
) -> KeyState:
    """The key's state after a refused write, which changed nothing, so also before it.
    Unknown (None, the reason in ``result``) if the target did not answer: then the write may
    have happened (docs/protocol.md §2, retries), or it could not be sent."""
    if not isinstance(error, GatewayTimeout | BadGateway):
        try:
            return await read_state(target, key)
        except ApiError as read_error:
            error = read_error
    result["before_unknown"] = result["after_unknown"] = error.message
    return None


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
