"""Putting keys back to an earlier state as a new audited change: the engine of a revert and
of a point-in-time rollback (docs/api.md §History).

A restore is a compare-and-set. Each key must still hold the state the history last recorded
for it; a key changed since (by anyone, through clusterd or behind its back) refuses the whole
restore with 409 naming the keys, unless forced. Each key is then written with `expect` set to
the revision just read, so a change that slips in between is refused too, not overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from elektraweb.cluster.api.errors import ApiError, BadGateway, BadRequest, Conflict, GatewayTimeout
from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.preview import accepted, cluster_at, instance_at
from elektraweb.cluster.api.routing import Call
from elektraweb.cluster.api.targets import KeyState, Target, audited_changes
from elektraweb.cluster.audit.log import KeyChange
from elektraweb.wire.replies import ChangeJSON


@dataclass(frozen=True)
class KeyRestore:
    key: str
    expected: KeyState
    """What the key must hold now: the last state the history recorded for it."""
    wanted: KeyState
    """What it is put back to (None: removed)."""


def _digest_of(state: KeyState) -> bool:
    return state is not None and isinstance(state["value"], dict)


def _same(found: KeyState, recorded: KeyState) -> bool:
    if found is None or recorded is None:
        return found is recorded
    return found["value"] == recorded["value"] and found["meta"] == recorded["meta"]


async def _current(target: Target, key: str) -> tuple[KeyState, str | None]:
    """The key's state and revision now."""
    found = await target.call("get", {"key": key, "depth": 0, "ls_limit": 1})
    if not found.get("exists"):
        return None, None
    return {"value": found.get("value"), "meta": found.get("meta", {})}, found.get("revision")


def _write(restore: KeyRestore, now: KeyState, revision: str | None) -> tuple[str, dict[str, Any]]:
    """The write that puts the key back, guarded by the revision it has now."""
    wanted = restore.wanted
    if wanted is None:
        return "rm", {"key": restore.key, "recursive": False, "expect": revision}
    dropped = [name for name in (now or {"meta": {}})["meta"] if name not in wanted["meta"]]
    patch = {**wanted["meta"], **dict.fromkeys(dropped)}
    args = {"key": restore.key, "value": wanted["value"], "meta": patch, "expect": revision}
    return "set", args


def _reported(restore: KeyRestore, now: KeyState) -> ChangeJSON:
    return {"key": restore.key, "old": now, "new": restore.wanted}  # type: ignore[typeddict-item]


async def restore(
    call: Call,
    target: Target,
    *,
    action: str,
    key: str,
    args: dict[str, Any],
    restores: Sequence[KeyRestore],
) -> ApiResponse:
    """Put `restores` back on `target` as the audited change `action`; `?force=true` skips
    the compare, `?preview=true` answers what would change and changes nothing."""
    too_large = [r.key for r in restores if _digest_of(r.wanted)]
    if too_large:
        raise BadRequest(
            f"cannot restore {', '.join(too_large)}: the history keeps only the size and"
            " SHA-256 of a value over the audit value limit",
            keys=too_large,
        )
    current = {r.key: await _current(target, r.key) for r in restores}
    changed = [r.key for r in restores if not _same(current[r.key][0], r.expected)]
    if changed and not call.query_flag("force"):
        raise Conflict(
            f"{', '.join(changed)} changed since; nothing was restored (pass force=true to"
            " overwrite the newer state)",
            keys=changed,
        )
    todo = [r for r in restores if not _same(current[r.key][0], r.wanted)]
    if call.query_flag("preview"):
        where = instance_at(target.id) if target.kind == "instance" else cluster_at(target.id)
        reported = [_reported(r, current[r.key][0]) for r in todo]
        return ApiResponse(200, {"preview": True, "targets": [accepted(where, reported)]})
    audit = call.services.audit
    intent = audit.intend(
        user=call.principal.user,
        action=action,
        target_type=target.kind,
        target_id=target.id,
        key=key,
        args={**args, "force": bool(changed)},
    )
    applied: list[KeyChange] = []
    try:
        for item in todo:
            op, write_args = _write(item, *current[item.key])
            applied += audited_changes(await target.write(op, write_args))
    except (GatewayTimeout, BadGateway):
        raise  # pending: settled by reading the target, as any write (audit.recovery)
    except ApiError as error:
        outcome = "partly-applied" if applied else "refused"
        result = {"ok": bool(applied), "outcome": outcome, "error": error.body()["error"]}
        audit.conclude(intent, None, None, result, applied)
        raise
    finally:
        audit.release(intent)
    restored = [item.key for item in todo]
    audit.conclude(
        intent, None, None, {"ok": True, "outcome": "applied", "restored": restored}, applied
    )
    return ApiResponse(200, {"entry": intent.id, "restored": restored})
