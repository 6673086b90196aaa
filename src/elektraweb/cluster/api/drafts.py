"""A cluster's draft (docs/api.md §Releases): edits collected for its next release, which reach
neither its desired state nor a member until published (`api.releases`). A write of a subtree
is drafted as the single-key edits it means when drafted, as one group. Reading needs a viewer,
changing an editor, as the writes it stages."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Literal, NotRequired, TypedDict, cast

from elektraweb.cluster.api import schema
from elektraweb.cluster.api.errors import BadRequest
from elektraweb.cluster.api.kdb_operations import FORMATS, STRATEGIES
from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.restore import KeyRestore
from elektraweb.cluster.api.routing import Call, Route
from elektraweb.cluster.api.targets import ClusterTarget, cluster_target, read_state
from elektraweb.cluster.audit.history import KeyState
from elektraweb.cluster.store.cluster_keys import Row
from elektraweb.cluster.store.releases import GROUP_ENTRY, DraftEdit, DraftOp, NewEdit, Releases
from elektraweb.kdb import names
from elektraweb.kdb.errors import InvalidNameError
from elektraweb.kdb.mounts import PERSISTENT_NAMESPACES
from elektraweb.operations.representation import wire_value
from elektraweb.operations.store import KeyChange as PlannedChange
from elektraweb.wire.json_value import Encodable
from elektraweb.wire.replies import OperationArgs

TAG = "cluster releases"
SUBTREE_OPS = ("mv", "cp", "import")
"""Writes of a subtree that a draft takes (and `rm` with `recursive`), as single-key edits."""
GROUP_ARGS = ("key", "target", "format", "strategy")
"""What a drafted subtree write keeps of its arguments, to be listed by (not its data)."""
META_PATCH: schema.Schema = {"type": "object", "additionalProperties": schema.NULLABLE_STRING}
NEW_EDIT = schema.obj(
    {"op": schema.enum("set", "rm", *SUBTREE_OPS), "key": schema.STRING},
    {
        "value": schema.STRING,
        "meta": META_PATCH,
        "recursive": schema.BOOLEAN,
        "target": schema.STRING,
        "format": schema.enum(*FORMATS),
        "strategy": schema.enum(*STRATEGIES),
        "data": schema.STRING,
    },
)
EDIT = schema.obj(
    {
        "id": schema.INTEGER,
        "user": schema.STRING,
        "time": schema.STRING,
        "op": schema.STRING,
        "key": schema.STRING,
        "value": schema.NULLABLE_STRING,
        "meta": META_PATCH,
    },
    {
        "count": schema.INTEGER,
        "group": schema.STRING,
        "edits": schema.array(schema.ANY),
        "target": schema.STRING,
        "format": schema.STRING,
        "strategy": schema.STRING,
    },
)
DRAFT = schema.obj({"count": schema.INTEGER, "edits": schema.array(EDIT)})
REMOVED = schema.obj({"removed": schema.INTEGER, "edits": schema.array(schema.INTEGER)})


class _NewEdit(TypedDict):
    op: Literal["set", "rm", "mv", "cp", "import"]
    key: str
    value: NotRequired[str]
    meta: NotRequired[dict[str, str | None]]
    recursive: NotRequired[bool]
    target: NotRequired[str]
    format: NotRequired[str]
    strategy: NotRequired[str]
    data: NotRequired[str]


def releases_of(call: Call) -> Releases:
    return Releases(call.services.database)


def target_of(call: Call) -> ClusterTarget:
    return cluster_target(call.services, call.id_param("id"))


def _stored_name(raw: str) -> str:
    """A key a cluster can set: canonical, in a namespace kept in files."""
    try:
        name = names.canonical(raw)
    except InvalidNameError as error:
        raise BadRequest(error.message, code="invalid-name", field="key") from None
    if names.namespace_of(name) not in PERSISTENT_NAMESPACES:
        raise BadRequest(
            f"key {name} is not in one of the namespaces a cluster sets: "
            + ", ".join(namespace + ":/" for namespace in PERSISTENT_NAMESPACES),
            code="invalid-name",
            field="key",
        )
    return name


async def draft(call: Call) -> ApiResponse:
    listed = _listed(releases_of(call).draft(target_of(call).id))
    return ApiResponse(200, {"count": len(listed), "edits": listed})


def _listed(edits: Sequence[DraftEdit]) -> list[dict[str, Encodable]]:
    """The draft as its editors made it: a drafted subtree write is one entry (the group's
    `op`, `key` and arguments, the id of its first edit, its `count` of keys and `edits`)."""
    listed: list[dict[str, Encodable]] = []
    groups: dict[Encodable, list[Encodable]] = {}
    for edit in edits:
        if edit.group is None:
            listed.append(edit.to_json())
            continue
        members = groups.get(edit.group["id"])
        if members is None:
            members = groups[edit.group["id"]] = []
            entry = {**edit.to_json(), **edit.group, "id": edit.id, "value": None, "meta": {}}
            listed.append({**entry, "group": edit.group["id"], "edits": members})
        members.append(edit.to_json())
    for entry in listed:
        if "edits" in entry:
            entry["count"] = len(cast(list[Encodable], entry["edits"]))
    return listed


async def add_edit(call: Call) -> ApiResponse:
    target, body = target_of(call), call.checked_body(_NewEdit)
    op, key = body["op"], _stored_name(body["key"])
    if op in SUBTREE_OPS or (op == "rm" and body.get("recursive")):
        return await _add_subtree_edit(call, target, body)
    if op == "rm" and ("value" in body or "meta" in body):
        raise BadRequest(f"rm of {key} takes no value or meta", field="value")
    if op == "set" and "value" not in body and "meta" not in body:
        raise BadRequest(f"set of {key} needs a value, a meta patch or both", field="value")
    meta = body.get("meta", {})
    if GROUP_ENTRY in meta:
        raise BadRequest(f"metadata {GROUP_ENTRY} is the draft's own", field="meta")
    [edit] = releases_of(call).add_edits(
        target.id, call.principal.user, [(cast(DraftOp, op), key, body.get("value"), meta)]
    )
    return ApiResponse(201, edit.to_json())


def _subtree_write(body: _NewEdit) -> tuple[str, OperationArgs]:
    """The write a drafted subtree edit stands for, and its arguments."""
    op, key = body["op"], _stored_name(body["key"])
    if op == "rm":
        return op, {"key": key, "recursive": True}
    if op == "import":
        if "data" not in body:
            raise BadRequest(f"import into {key} needs the file's text", field="data")
        return op, {
            "key": key,
            "format": body.get("format", "dump"),
            "data": body["data"],
            "strategy": body.get("strategy", "preserve"),
        }
    if "target" not in body:
        raise BadRequest(f"{op} of {key} needs a target", field="target")
    target = _stored_name(body["target"])
    return op, {"key": key, "target": target, "recursive": True, "force": False}


async def _add_subtree_edit(call: Call, target: ClusterTarget, body: _NewEdit) -> ApiResponse:
    """Draft a write of a subtree as the single-key edits it means now: planned against the
    desired state with the draft folded in, each key it would change becomes a `set` of its
    new content or an `rm`, all added as one group (docs/clusters.md, Releases)."""
    op, args = _subtree_write(body)
    releases = releases_of(call)
    drafted = await _draft_states(target, releases.draft(target.id))
    changes = target.planned(op, args, {key: _row(state) for key, state in drafted.items()})
    if not changes:
        raise BadRequest(
            f"{op} of {args['key']} changes nothing in the cluster's keys (with its draft)",
            code="empty-edit",
        )
    group: dict[str, Encodable] = {
        "id": secrets.token_hex(8),
        **{name: cast(str, value) for name, value in args.items() if name in GROUP_ARGS},
        "op": op,
    }
    edits = [_edit_for(change) for change in changes]
    added = releases.add_edits(target.id, call.principal.user, edits, group)
    return ApiResponse(201, _listed(added)[0])


def _row(state: KeyState) -> Row | None:
    if state is None:
        return None
    value = state["value"]
    return (value if isinstance(value, str) else None), dict(state["meta"])


def _edit_for(change: PlannedChange) -> NewEdit:
    """The single-key edit that leaves the key as the change does."""
    if change.new is None:
        return ("rm", change.key, None, {})
    meta: dict[str, str | None] = dict(change.new.meta)
    if change.old is not None:
        meta.update(dict.fromkeys(set(change.old.meta) - set(change.new.meta)))
    return ("set", change.key, wire_value(change.new), meta)


async def remove_edit(call: Call) -> ApiResponse:
    edit_id = call.id_param("edit")
    removed = releases_of(call).remove_edit(target_of(call).id, edit_id)
    return ApiResponse(200, {"removed": edit_id, "edits": removed})


def _applied(edit: DraftEdit, state: KeyState) -> KeyState:
    """`state` after the edit: rm removes the key, set replaces its value (if given) and
    patches its metadata (a null entry removes one)."""
    if edit.op == "rm":
        return None
    meta = dict(state["meta"]) if state is not None else {}
    for name, value in edit.meta.items():
        if value is None:
            meta.pop(name, None)
        else:
            meta[name] = value
    if edit.value is None and state is not None:
        return {"value": state["value"], "meta": meta}
    return {"value": edit.value, "meta": meta}


async def _draft_states(
    target: ClusterTarget, edits: Sequence[DraftEdit], before: dict[str, KeyState] | None = None
) -> dict[str, KeyState]:
    """Each key the draft touches, as it is after all the draft's edits of it, in order, from
    its state in the desired state now (put into `before`, if given)."""
    after: dict[str, KeyState] = {}
    for edit in edits:
        if edit.key not in after:
            after[edit.key] = await read_state(target, edit.key)
            if before is not None:
                before[edit.key] = after[edit.key]
        after[edit.key] = _applied(edit, after[edit.key])
    return after


async def folded(target: ClusterTarget, edits: Sequence[DraftEdit]) -> list[KeyRestore]:
    """The draft as one restore: each key it touches, from its state in the desired state now
    to its state after all the draft's edits of it."""
    before: dict[str, KeyState] = {}
    after = await _draft_states(target, edits, before)
    return [KeyRestore(key, before[key], after[key]) for key in sorted(before, key=names.sort_key)]


_CLUSTER = "/api/clusters/{id}"
ROUTES = (
    Route(
        "GET", f"{_CLUSTER}/draft", draft, "viewer",
        "The cluster's draft: the edits collected for its next release, oldest first",
        TAG, response=DRAFT, errors=(404, 501),
    ),
    Route(
        "POST", f"{_CLUSTER}/draft", add_edit, "editor",
        "Add an edit (set a key's value and metadata patch, or rm a key) to the cluster's"
        " draft, or a subtree write (rm with `recursive`, mv, cp, import) as the group of"
        " single-key edits it means now; nothing reaches the members before the draft is"
        " published",
        TAG, body=NEW_EDIT, status=201, response=EDIT, errors=(400, 404, 501),
    ),
    Route(
        "DELETE", f"{_CLUSTER}/draft/{{edit}}", remove_edit, "editor",
        "Take an edit out of the cluster's draft; an edit of a drafted subtree write takes"
        " the whole group (`edits`: the ids removed)",
        TAG, response=REMOVED, errors=(404, 501),
    ),
)  # fmt: skip
