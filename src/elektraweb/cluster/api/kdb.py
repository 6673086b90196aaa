"""The `kdb*` routes of libelektra's webd, once for an instance and once for a cluster.

Each route runs one operation (see kdb_operations) on a target: an instance through the
gateway, or a cluster through the cluster service. A write is audited as an intent before it
is sent, then with its outcome: the key's state just before and just after, as the target
reports it with the write (docs/security.md §5).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from elektraweb.cluster.api.errors import ApiError, BadGateway, GatewayTimeout
from elektraweb.cluster.api.kdb_operations import KDB_ROUTES, KdbRoute
from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.routing import Call, Handler, Route
from elektraweb.cluster.api.targets import (
    KeyState,
    Target,
    cluster_target,
    instance_target,
    read_state,
)


def _summary_of(args: dict[str, Any]) -> dict[str, Any]:
    """The arguments worth keeping in the audit log (not the key, which has its own column)."""
    return {name: value for name, value in args.items() if name != "key"}


async def _run(operation: KdbRoute, target: Target, call: Call) -> ApiResponse:
    args = operation.arguments(call)
    if not operation.write:
        return ApiResponse(200, await target.call(operation.op, args))
    target.check_write(operation.op, args)
    key = args["key"]
    audit = call.services.audit
    # The intent is committed before the write leaves: a crash from here on leaves a pending
    # entry that the next start resolves by reading the target (audit_recovery).
    intent = audit.intend(
        user=call.principal.user,
        action=operation.op,
        target_type=target.kind,
        target_id=target.id,
        key=key,
        args=_summary_of(args),
    )
    try:
        written = await target.write(operation.op, args)
    except (GatewayTimeout, BadGateway):
        # The write may have happened: it stays pending until its target answers again.
        raise
    except ApiError as error:
        refused = {"ok": False, "outcome": "refused", "error": error.body()["error"]}
        state = await _state_after_refusal(target, key, refused)
        audit.conclude(intent, state, state, refused)
        raise
    finally:
        audit.release(intent)
    result = {"ok": True, "outcome": "applied", **written.unknown, "reply": written.reply}
    audit.conclude(intent, written.before, written.after, result)
    return ApiResponse(200, written.reply)


async def _state_after_refusal(target: Target, key: str, result: dict[str, Any]) -> KeyState:
    """The key's state after a refused write, which changed nothing, so also before it; None,
    the reason in `result`, if it cannot be read now."""
    try:
        return await read_state(target, key)
    except ApiError as error:
        result["before_unknown"] = result["after_unknown"] = error.message
        return None


def _routes(
    prefix: str, resolve: Callable[[Call], Target], tag: str, errors: tuple[int, ...]
) -> tuple[Route, ...]:
    def handler_for(operation: KdbRoute) -> Handler:
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
        for operation in KDB_ROUTES
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
