"""The `kdb*` routes of libelektra's webd, once for an instance and once for a cluster.

Each route runs one operation (see kdb_operations) on a target: an instance through the
gateway, or a cluster through the cluster service. A write is audited as an intent before it
is sent, then with its outcome: the key's state just before and just after, as the target
reports it with the write (docs/security.md §5).
"""

from __future__ import annotations

from collections.abc import Callable

from elektraweb.cluster.api.errors import ApiError, BadGateway, GatewayTimeout
from elektraweb.cluster.api.guards import (
    REASON,
    guard_critical_keys,
    preview_cluster_write,
    reason_of,
)
from elektraweb.cluster.api.kdb_operations import KDB_ROUTES, KdbRoute
from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.preview import PREVIEW_SCHEMA
from elektraweb.cluster.api.routing import Call, Handler, Route
from elektraweb.cluster.api.schema import Schema
from elektraweb.cluster.api.targets import (
    ClusterTarget,
    Target,
    audited_changes,
    cluster_target,
    instance_target,
    read_state,
)
from elektraweb.cluster.audit.history import KeyState
from elektraweb.wire.json_value import Encodable
from elektraweb.wire.replies import OperationArgs

WRITE_OR_PREVIEW: Schema = {
    "description": "The write's result; with `?preview=true`, what it would change instead",
    "anyOf": [{"type": "object"}, PREVIEW_SCHEMA],
}


def _summary_of(args: OperationArgs) -> OperationArgs:
    """The arguments worth keeping in the audit log (not the key, which has its own column)."""
    summary = args.copy()
    summary.pop("key", None)
    return summary


async def _run(operation: KdbRoute, target: Target, call: Call) -> ApiResponse:
    args = operation.arguments(call)
    if not operation.write:
        return ApiResponse(200, await target.call(operation.op, args))
    # A preview takes the reason as the write does: an instance previews the write's own
    # transaction, which refuses a critical key without one (docs/api.md §Preview).
    reason = reason_of(call)
    if call.query_flag("preview"):
        # Nothing is written, so nothing is audited (docs/api.md §Preview).
        await guard_critical_keys(target, operation.op, args, reason, previewing=True)
        previewed = (
            preview_cluster_write(target, operation.op, args)
            if isinstance(target, ClusterTarget)
            else target.preview(operation.op, args)
        )
        return ApiResponse(200, {"preview": True, "targets": await previewed})
    target.check_write(operation.op, args)
    await guard_critical_keys(target, operation.op, args, reason)
    key = args["key"]
    audit = call.services.audit
    # The intent is committed before the write leaves: a crash from here on leaves a pending
    # entry that the next start resolves by reading the target (audit_recovery).
    intent = await audit.intend(
        user=call.principal.user,
        action=operation.op,
        target_type=target.kind,
        target_id=target.id,
        key=key,
        args=_summary_of(args) | ({"reason": reason} if reason else {}),
    )
    try:
        written = await target.write(operation.op, args)
    except (GatewayTimeout, BadGateway):
        # The write may have happened: it stays pending until its target answers again.
        raise
    except ApiError as error:
        refused: dict[str, Encodable] = {
            "ok": False,
            "outcome": "refused",
            "error": error.body()["error"],
        }
        state = await _state_after_refusal(target, key, refused)
        await audit.conclude(intent, state, state, refused)
        raise
    finally:
        audit.release(intent)
    result = {"ok": True, "outcome": "applied", **written.unknown, "reply": written.reply}
    if written.changes_truncated:
        result["changes_truncated"] = True
    await audit.conclude(intent, written.before, written.after, result, audited_changes(written))
    return ApiResponse(200, written.reply)


async def _state_after_refusal(target: Target, key: str, result: dict[str, Encodable]) -> KeyState:
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
            query=(*operation.query, REASON) if operation.write else operation.query,
            response=WRITE_OR_PREVIEW if operation.write else operation.response,
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
