"""Staged cluster changes (docs/api.md §Releases): edits collected in a cluster's draft,
published with a message as one audited release (one `restore` write of the desired state,
fanned out), optionally to canary members first, then promoted to all; a release rolls back as
one revert of its audit entry. Reading needs a viewer; everything else is a write of the
cluster's keys and needs an editor, as the writes it wraps."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from typing import Literal, NotRequired, TypedDict, cast

from elektraweb.cluster.api.errors import BadRequest, Conflict
from elektraweb.cluster.api.history import FORCE, RESTORED, revert_entry
from elektraweb.cluster.api.kdb_operations import FORMATS, PREVIEW, STRATEGIES
from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.restore import KeyRestore, restore
from elektraweb.cluster.api.routing import Call, Route
from elektraweb.cluster.api.schema import (
    ANY,
    BOOLEAN,
    INTEGER,
    NULLABLE_STRING,
    STRING,
    Schema,
    array,
    enum,
    nullable,
    obj,
)
from elektraweb.cluster.api.targets import ClusterTarget, cluster_target, read_state
from elektraweb.cluster.audit.history import KeyState
from elektraweb.cluster.clusters.releases import promote
from elektraweb.cluster.store.cluster_keys import Row
from elektraweb.cluster.store.releases import (
    GROUP_ENTRY,
    DraftEdit,
    DraftOp,
    NewEdit,
    Release,
    Releases,
)
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
META_PATCH: Schema = {"type": "object", "additionalProperties": NULLABLE_STRING}
NEW_EDIT = obj(
    {"op": enum("set", "rm", *SUBTREE_OPS), "key": STRING},
    {
        "value": STRING,
        "meta": META_PATCH,
        "recursive": BOOLEAN,
        "target": STRING,
        "format": enum(*FORMATS),
        "strategy": enum(*STRATEGIES),
        "data": STRING,
    },
)
EDIT = obj(
    {
        "id": INTEGER,
        "user": STRING,
        "time": STRING,
        "op": STRING,
        "key": STRING,
        "value": NULLABLE_STRING,
        "meta": META_PATCH,
    },
    {"count": INTEGER, "group": ANY, "edits": array(ANY)},
)
RELEASE = obj(
    {
        "id": INTEGER,
        "cluster": INTEGER,
        "user": STRING,
        "time": STRING,
        "message": STRING,
        "entry": nullable(INTEGER),
        "state": enum("canary", "published", "rolled-back"),
        "canary": array(INTEGER),
        "keys": array(STRING),
    },
    {"restored": array(STRING), "members": ANY, "revert": ANY},
)
PUBLISH = obj({"message": STRING}, {"canary": array(INTEGER)})


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


class _PublishBody(TypedDict):
    message: str
    canary: NotRequired[list[int]]


def _releases(call: Call) -> Releases:
    return Releases(call.services.database)


def _target(call: Call) -> ClusterTarget:
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
    listed = _listed(_releases(call).draft(_target(call).id))
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
    target, body = _target(call), call.checked_body(_NewEdit)
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
    [edit] = _releases(call).add_edits(
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
    releases = _releases(call)
    folded = await _draft_states(target, releases.draft(target.id))
    draft_rows = {key: _row(state) for key, state in folded.items()}
    changes = target.planned(op, args, draft_rows)
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
    removed = _releases(call).remove_edit(_target(call).id, edit_id)
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


async def _folded(target: ClusterTarget, edits: Sequence[DraftEdit]) -> list[KeyRestore]:
    """The draft as one restore: each key it touches, from its state in the desired state now
    to its state after all the draft's edits of it."""
    before: dict[str, KeyState] = {}
    after = await _draft_states(target, edits, before)
    return [KeyRestore(key, before[key], after[key]) for key in sorted(before, key=names.sort_key)]


def _canary(call: Call, cluster_id: int) -> list[int]:
    wanted = sorted(set(call.checked_body(_PublishBody).get("canary", [])))
    members = {member.id for member in call.services.registry.members(cluster_id)}
    strangers = [instance for instance in wanted if instance not in members]
    if strangers:
        raise BadRequest(
            f"canary {', '.join(map(str, strangers))} not a member of cluster {cluster_id}",
            field="canary",
            instances=strangers,
        )
    return wanted


async def publish(call: Call) -> ApiResponse:
    target = _target(call)
    releases = _releases(call)
    edits = releases.draft(target.id)
    if not edits:
        raise BadRequest(f"cluster {target.id}'s draft is empty: nothing to publish")
    message = call.checked_body(_PublishBody)["message"].strip()
    if not message:
        raise BadRequest("a release needs a message saying what it changes", field="message")
    canary = _canary(call, target.id)
    restores = await _folded(target, edits)
    root = functools.reduce(names.common_parent, (r.key for r in restores))
    preview = call.query_flag("preview")
    # The release (and a canary's hold on the other members) is recorded before the write
    # leaves, so no sync ever sends the release to a member outside the canary.
    release: Release | None = None
    if not preview:
        held = {r.key: None if r.expected is None else dict(r.expected) for r in restores}
        release = releases.begin(target.id, call.principal.user, message, canary, held)
    args = {"message": message, "canary": canary, "release": release and release.id}
    try:
        answer = await restore(call, target, action="release", key=root, args=args,
                               restores=restores)  # fmt: skip
    except BaseException:
        if release is not None:
            releases.discard(release.id)
        raise
    if release is None:
        return answer
    body = answer.body
    assert isinstance(body, dict)  # restore's answer when not a preview
    entry = body["entry"]
    if not isinstance(entry, int):
        releases.discard(release.id)
        raise BadRequest(
            f"cluster {target.id}'s draft changes nothing: its keys already hold what it sets",
            code="empty-release",
        )
    releases.written(release.id, entry)
    releases.clear_draft(target.id, edits[-1].id)
    published = releases.release(target.id, release.id)
    return ApiResponse(201, {**published.to_json(), "restored": body["restored"]})


async def list_releases(call: Call) -> ApiResponse:
    found = _releases(call).releases(_target(call).id)
    return ApiResponse(200, [release.to_json() for release in found])


def _release(call: Call) -> tuple[ClusterTarget, Releases, Release]:
    target, releases = _target(call), _releases(call)
    return target, releases, releases.release(target.id, call.id_param("release"))


async def promote_release(call: Call) -> ApiResponse:
    target, releases, release = _release(call)
    if release.state != "canary":
        raise Conflict(
            f"release {release.id} is {release.state}: only a canary release is promoted",
            release=release.id,
        )
    service = call.services.cluster_service
    assert service is not None  # cluster_target refuses with 501 otherwise
    members = await promote(service, call.services.registry, releases, target.cluster, release)
    call.services.audit.record(
        user=call.principal.user,
        action="promote",
        target_type="cluster",
        target_id=target.id,
        result={"ok": True, "release": release.id, "entry": release.entry, "members": members},
    )
    promoted = releases.release(target.id, release.id)
    return ApiResponse(200, {**promoted.to_json(), "members": members})


async def rollback_release(call: Call) -> ApiResponse:
    target, releases, release = _release(call)
    if release.state == "rolled-back" or release.entry is None:
        raise Conflict(f"release {release.id} is rolled back already", release=release.id)
    # Members held back by a canary have the previous content already: the revert changes
    # nothing for them, and the hold ends (revert_entry) once the canary members have it back.
    answer = await revert_entry(call, release.entry)
    if call.query_flag("preview"):
        return answer
    rolled_back = releases.release(target.id, release.id)
    return ApiResponse(200, {**rolled_back.to_json(), "revert": answer.body})


_CLUSTER = "/api/clusters/{id}"
_WRITE_ERRORS = (400, 404, 409, 423, 501, 502, 504)
ROUTES = (
    Route(
        "GET", f"{_CLUSTER}/draft", draft, "viewer",
        "The cluster's draft: the edits collected for its next release, oldest first",
        TAG, response=obj({"count": INTEGER, "edits": array(EDIT)}), errors=(404, 501),
    ),
    Route(
        "POST", f"{_CLUSTER}/draft", add_edit, "editor",
        "Add an edit (set a key's value and metadata patch, or rm a key) to the cluster's"
        " draft; nothing reaches the members before the draft is published",
        TAG, body=NEW_EDIT, status=201, response=EDIT, errors=(400, 404, 501),
    ),
    Route(
        "DELETE", f"{_CLUSTER}/draft/{{edit}}", remove_edit, "editor",
        "Take an edit out of the cluster's draft",
        TAG, response=obj({"removed": INTEGER}), errors=(404, 501),
    ),
    Route(
        "POST", f"{_CLUSTER}/draft/publish", publish, "editor",
        "Publish the draft as one audited release with a message: one write of the desired"
        " state, fanned out to every member, or with `canary` only to those members until"
        " promoted; `?preview=true` answers the draft's diff per member",
        TAG, body=PUBLISH, query=(FORCE, PREVIEW), status=201,
        response={"anyOf": [RELEASE, RESTORED]}, errors=_WRITE_ERRORS,
    ),
    Route(
        "GET", f"{_CLUSTER}/releases", list_releases, "viewer",
        "The cluster's releases, newest first", TAG, response=array(RELEASE), errors=(404, 501),
    ),
    Route(
        "POST", f"{_CLUSTER}/releases/{{release}}/promote", promote_release, "editor",
        "Promote a canary release to every member", TAG, response=RELEASE,
        errors=(404, 409, 501),
    ),
    Route(
        "POST", f"{_CLUSTER}/releases/{{release}}/rollback", rollback_release, "editor",
        "Roll a release back as one: a revert of its audit entry on every member (a canary's"
        " hold ends); 409 names the keys changed since, unless forced",
        TAG, query=(FORCE, PREVIEW), response={"anyOf": [RELEASE, RESTORED]},
        errors=_WRITE_ERRORS,
    ),
)  # fmt: skip
