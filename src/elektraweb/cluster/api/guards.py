"""The reason a write gives, and what a cluster write must pass before its fan-out, from its
members' specification (docs/validation.md, Critical keys): a critical key needs a reason, and
the value must fit, before the desired state changes or any member is written. An instance
checks its own writes, in the write's transaction (elektrad's `reason-required`)."""

from __future__ import annotations

from collections.abc import Mapping

from elektraweb.cluster.api.errors import ApiError, BadGateway, BadRequest, GatewayTimeout
from elektraweb.cluster.api.preview import TargetPreview, cluster_at, refused
from elektraweb.cluster.api.routing import Call, QueryParam
from elektraweb.cluster.api.targets import ClusterTarget, Target, writes_subtree
from elektraweb.kdb.errors import ValidationError
from elektraweb.kdb.key import Key
from elektraweb.kdb.spec import CRITICAL, Specification
from elektraweb.kdb.storage import get_format
from elektraweb.kdb.types import FALSE_WORDS
from elektraweb.kdb.validation import validate_key
from elektraweb.wire.replies import OperationArgs

MAX_REASON = 500
SPEC_ROOT = "spec:/"

REASON = QueryParam(
    "reason",
    "Why the change is made (kept in the audit log); required when the key's specification"
    f" sets `{CRITICAL}`; at most {MAX_REASON} characters.",
)


def reason_of(call: Call) -> str | None:
    """The write's reason (`?reason=`), stripped; None if none was given."""
    reason = call.request.query.get("reason", "").strip()
    if len(reason) > MAX_REASON:
        raise BadRequest(
            f"query parameter reason has {len(reason)} characters; at most {MAX_REASON}",
            field="reason",
        )
    return reason or None


async def guard_critical_keys(
    target: Target, op: str, args: OperationArgs, reason: str | None, *, previewing: bool = False
) -> None:
    """Have the write's critical keys checked for `reason` where they are known: a cluster's
    by clusterd now, before its fan-out (`_check_cluster_write`, `_check_cluster_restore`; in a
    preview not at all, as the reason is asked for after it); an instance's by elektrad, in
    the write's transaction or its preview, which gets the reason with `args`."""
    if not isinstance(target, ClusterTarget):
        if reason is not None:
            args["reason"] = reason
    elif previewing:
        return
    elif op == "restore":
        await _check_cluster_restore(target, args, reason)
    else:
        await _check_cluster_write(target, op, args, reason)


async def _check_cluster_write(
    target: ClusterTarget, op: str, args: OperationArgs, reason: str | None
) -> None:
    """Refuse (400, naming the key) a write that changes a critical key without a reason, and
    a `set` of a value the members' specification does not allow. A write of a subtree is
    checked for every key it would change in the desired state."""
    spec = await _members_spec(target, args["key"])
    if spec is None:
        return
    if reason is None:
        if _flagged(spec):
            raise _reason_required(args["key"])
        if writes_subtree(op, args):
            await _check_subtree(target, op, args)
    _check_value(op, args, spec)


async def _check_cluster_restore(
    target: ClusterTarget, args: OperationArgs, reason: str | None
) -> None:
    """Refuse (400, naming the key) a `restore` (a revert, a rollback, a release) that would
    change a critical key without a reason; its root is only the keys' common parent, so
    only the keys it changes count."""
    if reason is None:
        await _check_subtree(target, "restore", args)


async def _check_subtree(target: ClusterTarget, op: str, args: OperationArgs) -> None:
    """Refuse the write if a key it would change (removed, moved away, created or replaced)
    is critical: by its own metadata or by the members' specification."""
    try:
        changes = target.planned(op, args)
    except ApiError:
        return  # the write itself meets this refusal, before any member
    specification = await _members_specification(target)
    if specification is None:
        return
    for change in changes:
        states = [state for state in (change.old, change.new) if state is not None]
        own = any(_flagged(state.meta) for state in states)
        if own or _flagged(specification.meta_for(states[0])):
            raise _reason_required(change.key)


def _flagged(meta: Mapping[str, str]) -> bool:
    flag = meta.get(CRITICAL)
    return flag is not None and flag.casefold() not in FALSE_WORDS


def _reason_required(key: str) -> BadRequest:
    return BadRequest(
        f"{key} is critical (its specification sets {CRITICAL}): give a reason for the change",
        code="reason-required",
        key=key,
    )


async def preview_cluster_write(
    target: ClusterTarget, op: str, args: OperationArgs
) -> list[TargetPreview]:
    """The write's preview; a value the members' specification does not allow is refused
    there as the write would be, before any member (the reason a critical key needs is asked
    for after the preview, so its absence refuses nothing here)."""
    spec = await _members_spec(target, args["key"])
    try:
        if spec is not None:
            _check_value(op, args, spec)
    except BadRequest as error:
        return [refused(cluster_at(target.id), error)]
    return await target.preview(op, args)


async def _members_spec(target: ClusterTarget, key: str) -> dict[str, str] | None:
    """The members' specification of `key` (empty if none); None if no member answers: then
    nothing is written to one now, and each validates on convergence."""
    try:
        explained = await target.explain(key)
    except (BadGateway, GatewayTimeout):
        return None
    described = explained.get("spec")
    return dict(described["meta"]) if described else {}


async def _members_specification(target: ClusterTarget) -> Specification | None:
    """Every `spec:/` key of the first member that answers (one export); None if none does."""
    try:
        _, exported = await target.first_member("export", {"key": SPEC_ROOT, "format": "dump"})
    except (BadGateway, GatewayTimeout):
        return None
    return Specification(get_format("dump").read(exported.get("data", "").encode(), SPEC_ROOT).keys)


def _check_value(op: str, args: OperationArgs, spec: dict[str, str]) -> None:
    if op == "set" and isinstance(args.get("value"), str):
        try:
            validate_key(Key(args["key"], args["value"]), spec)
        except ValidationError as error:
            raise BadRequest(
                f"{error.message} (the members' specification)",
                code="validation",
                key=args["key"],
                value=args["value"],
                elektra=error.code,
            ) from None
