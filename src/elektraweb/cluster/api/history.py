"""The history routes: what changed on a target's keys, reverting one change, and rolling a
subtree back to a point in time (docs/api.md §History). Reading needs a viewer; reverting and
rolling back are writes and need an editor, as the writes they wrap."""

from __future__ import annotations

from elektraweb.cluster.api.audit import PAGING, WHO_WHAT_WHERE
from elektraweb.cluster.api.errors import BadRequest, NotFound
from elektraweb.cluster.api.kdb_operations import PREVIEW
from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.preview import PREVIEW_SCHEMA
from elektraweb.cluster.api.restore import KeyRestore, restore
from elektraweb.cluster.api.routing import Call, Handler, QueryParam, Route
from elektraweb.cluster.api.schema import (
    ANY,
    BOOLEAN,
    INTEGER,
    STRING,
    Schema,
    array,
    nullable,
    obj,
)
from elektraweb.cluster.api.targets import Target, cluster_target, instance_target
from elektraweb.cluster.audit.history import HistoryEntry, HistoryFilter, KeyState
from elektraweb.cluster.audit.log import MAX_LIMIT
from elektraweb.cluster.audit.retention import utc_time
from elektraweb.kdb import names
from elektraweb.kdb.errors import InvalidNameError

ENTRY = obj(
    {
        **WHO_WHAT_WHERE,
        "args": ANY,
        "changes": array(ANY),
        "truncated": BOOLEAN,
    }
)
RESTORED: Schema = {
    "anyOf": [obj({"entry": nullable(INTEGER), "restored": array(STRING)}), PREVIEW_SCHEMA]
}
HISTORY_QUERY = (
    QueryParam("instance", "The instance whose history to list.", INTEGER),
    QueryParam("cluster", "The cluster whose history to list.", INTEGER),
    QueryParam("key", "Only changes of this key."),
    QueryParam("below", "With key: also changes of the keys below it.", BOOLEAN),
    *PAGING,
)
FORCE = QueryParam(
    "force",
    "true: restore even keys that changed since the history last recorded them.",
    BOOLEAN,
)


def _canonical(name: str, field: str) -> str:
    try:
        return names.canonical(name)
    except InvalidNameError as error:
        raise BadRequest(error.message, code="invalid-name", field=field) from None


def _target_of(call: Call) -> tuple[str, int]:
    query = call.request.query
    chosen = [kind for kind in ("instance", "cluster") if query.get(kind)]
    if len(chosen) != 1:
        raise BadRequest("give exactly one of instance=ID or cluster=ID", field="instance")
    kind = chosen[0]
    return kind, call.query_int(kind, 0, low=1, high=1 << 62)


async def history(call: Call) -> ApiResponse:
    kind, target_id = _target_of(call)
    key = call.request.query.get("key")
    before = call.request.query.get("before")
    where = HistoryFilter(
        target_type=kind,
        target_id=target_id,
        key=None if not key else _canonical(key, "key"),
        below=call.query_flag("below"),
        before_id=call.query_int("before", 0, low=1, high=1 << 62) if before else None,
        limit=call.query_int("limit", 100, low=1, high=MAX_LIMIT),
    )
    return ApiResponse(200, [entry.to_json() for entry in call.services.history.entries(where)])


async def undo_state(call: Call) -> ApiResponse:
    undo, redo = call.services.history.undo_state(call.principal.user)
    return ApiResponse(
        200,
        {
            "undo": None if undo is None else undo.to_json(),
            "redo": None if redo is None else redo.to_json(),
        },
    )


def _target(call: Call, kind: str, target_id: int) -> Target:
    if kind == "instance":
        return instance_target(call.services, target_id)
    return cluster_target(call.services, target_id)


async def revert(call: Call) -> ApiResponse:
    return await revert_entry(call, call.id_param("entry"))


async def revert_entry(call: Call, entry_id: int) -> ApiResponse:
    """Put back the keys of history entry `entry_id` as a new audited change (`revert`)."""
    found: HistoryEntry | None = call.services.history.entry(entry_id)
    if found is None:
        raise NotFound(f"history entry {entry_id} is not a change of keys", entry=entry_id)
    if not found.changes:
        raise BadRequest(f"history entry {entry_id} changed no key: nothing to revert")
    entry = found.entry
    assert entry.target_id is not None
    target = _target(call, entry.target_type, int(entry.target_id))
    restores = [KeyRestore(change.key, change.after, change.before) for change in found.changes]
    return await restore(
        call, target, action="revert", key=entry.key or "/", args={"entry": entry_id},
        restores=restores,
    )  # fmt: skip


def _rollback(kind: str) -> Handler:
    async def rollback(call: Call) -> ApiResponse:
        target_id = call.id_param("id")
        target = _target(call, kind, target_id)
        root = _canonical(call.text_field("key"), "key")
        at = utc_time(call.text_field("at"), "at")
        later = call.services.history.entries(
            HistoryFilter(kind, target_id, root, below=True, after_time=at, limit=MAX_LIMIT)
        )
        # Newest first: the last one seen of a key is its first change after `at`.
        first_before: dict[str, KeyState] = {}
        last_after: dict[str, KeyState] = {}
        for entry in later:
            for change in entry.changes:
                if not names.is_below_or_same(change.key, root):
                    continue
                last_after.setdefault(change.key, change.after)
                first_before[change.key] = change.before
        restores = [
            KeyRestore(name, last_after[name], first_before[name])
            for name in sorted(first_before, key=names.sort_key)
        ]
        return await restore(
            call, target, action="rollback", key=root, args={"at": at}, restores=restores
        )

    return rollback


ROUTES = (
    Route(
        "GET",
        "/api/history",
        history,
        "viewer",
        "The changes of a target's keys, newest first, each with every key it changed",
        "history",
        query=HISTORY_QUERY,
        response=array(ENTRY),
        errors=(400,),
    ),
    Route(
        "GET",
        "/api/history/undo",
        undo_state,
        "viewer",
        "The caller's undo and redo: the history entries they would revert (null: none)",
        "history",
        response=obj({"undo": nullable(ENTRY), "redo": nullable(ENTRY)}),
    ),
    Route(
        "POST",
        "/api/history/{entry}/revert",
        revert,
        "editor",
        "Put back the keys of one change as they were before it, as a new audited change;"
        " 409 names the keys that changed since",
        "history",
        query=(FORCE, PREVIEW),
        response=RESTORED,
        errors=(400, 404, 409, 423, 502, 504),
    ),
    *(
        Route(
            "POST",
            f"/api/{plural}/{{id}}/rollback",
            _rollback(kind),
            "editor",
            f"Restore the subtree at `key` of the {kind} to its state at time `at`, as a new"
            " audited change; 409 names the keys that changed outside the history",
            "history",
            body=obj({"key": STRING, "at": STRING}),
            query=(FORCE, PREVIEW),
            response=RESTORED,
            errors=(400, 404, 409, 423, 502, 504),
        )
        for kind, plural in (("instance", "instances"), ("cluster", "clusters"))
    ),
)
