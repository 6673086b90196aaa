"""Putting keys back to an earlier state as a new audited change: the engine of a revert and
of a point-in-time rollback (docs/api.md §History).

A restore is a compare-and-set. Each key must still hold the state the history last recorded
for it; a key changed since (by anyone, through clusterd or behind its back) refuses the whole
restore with 409 naming the keys, unless forced. The keys are then put back by one `restore`
write (docs/protocol.md §4), all or none, each guarded by the revision just read, so a change
that slips in between is refused too, not overwritten.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from elektraweb.cluster.api.errors import ApiError, BadGateway, BadRequest, Conflict, GatewayTimeout
from elektraweb.cluster.api.guards import guard_critical_keys
from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.routing import Call
from elektraweb.cluster.api.targets import Target, audited_changes
from elektraweb.cluster.audit.history import AuditedState, KeyState
from elektraweb.kdb import names
from elektraweb.wire.replies import KeyToSetJSON, OperationArgs


@dataclass(frozen=True)
class KeyRestore:
    key: str
    expected: KeyState
    """What the key must hold now: the last state the history recorded for it."""
    wanted: KeyState
    """What it is put back to (None: removed)."""


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


def _arguments(restores: Sequence[KeyRestore], revisions: dict[str, str | None]) -> OperationArgs:
    """The `restore` write: the keys put back, those removed, the revisions they must have."""
    root = functools.reduce(names.common_parent, (r.key for r in restores))
    return {
        "key": root,
        "keys": [_put_back(r.key, r.wanted) for r in restores if r.wanted is not None],
        "removals": [r.key for r in restores if r.wanted is None],
        "expect": {r.key: revisions[r.key] for r in restores},
    }


def _put_back(key: str, wanted: AuditedState) -> KeyToSetJSON:
    value = wanted["value"]
    if isinstance(value, dict):
        raise Conflict(
            f"the history keeps only the size and SHA-256 of {key}'s value, which was too"
            " large to keep: it cannot be put back",
            keys=[key],
        )
    return {"name": key, "value": value, "meta": wanted["meta"]}


async def restore(
    call: Call,
    target: Target,
    *,
    action: str,
    key: str,
    args: Mapping[str, object],
    restores: Sequence[KeyRestore],
    reason: str | None,
) -> ApiResponse:
    """Put `restores` back on `target` as the audited change `action`; `?force=true` skips
    the compare, `?preview=true` answers what would change and changes nothing. A critical
    key among them needs `reason`, checked as a write's (`api.guards`): by clusterd before a
    cluster's fan-out, by elektrad in the restore's transaction."""
    too_large = [
        r.key
        for r in restores
        if r.wanted is not None and not isinstance(r.wanted["value"], str | None)
    ]
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
    if not todo:
        return ApiResponse(200, {"entry": None, "restored": []})
    write = _arguments(todo, {r.key: current[r.key][1] for r in todo})
    previewing = call.query_flag("preview")
    await guard_critical_keys(target, "restore", write, reason, previewing=previewing)
    if previewing:
        return ApiResponse(
            200, {"preview": True, "targets": await target.preview("restore", write)}
        )
    audit = call.services.audit
    intent = await audit.intend(
        user=call.principal.user,
        action=action,
        target_type=target.kind,
        target_id=target.id,
        key=key,
        args={**args, "force": bool(changed)} | ({"reason": reason} if reason else {}),
    )
    try:
        written = await target.write("restore", write)
    except (GatewayTimeout, BadGateway):
        raise  # pending: settled by reading the target, as any write (audit.recovery)
    except ApiError as error:
        await audit.conclude(
            intent, None, None, {"ok": False, "outcome": "refused", "error": error.body()["error"]}
        )
        raise
    finally:
        audit.release(intent)
    restored = [r.key for r in todo]
    result = {"ok": True, "outcome": "applied", "restored": restored, "reply": written.reply}
    await audit.conclude(intent, written.before, written.after, result, audited_changes(written))
    return ApiResponse(200, {"entry": intent.id, "restored": restored})
