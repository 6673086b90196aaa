"""Staged cluster changes (docs/api.md §Releases): edits collected in a cluster's draft,
published with a message as one audited release (one `restore` write of the desired state,
fanned out), optionally to canary members first, then promoted to all; a release rolls back as
one revert of its audit entry. Reading needs a viewer; everything else is a write of the
cluster's keys and needs an editor, as the writes it wraps."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NotRequired, TypedDict

from elektraweb.cluster.api.errors import BadRequest, Conflict
from elektraweb.cluster.api.history import FORCE, RESTORED, revert_entry
from elektraweb.cluster.api.kdb_operations import PREVIEW
from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.restore import KeyRestore, restore
from elektraweb.cluster.api.routing import Call, Route
from elektraweb.cluster.api.schema import (
    ANY,
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
from elektraweb.cluster.store.releases import DraftEdit, DraftOp, Release, Releases
from elektraweb.kdb import names
from elektraweb.kdb.errors import InvalidNameError
from elektraweb.kdb.mounts import PERSISTENT_NAMESPACES

TAG = "cluster releases"
META_PATCH: Schema = {"type": "object", "additionalProperties": NULLABLE_STRING}
NEW_EDIT = obj(
    {"op": enum("set", "rm"), "key": STRING},
    {"value": STRING, "meta": META_PATCH},
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
    }
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
    op: DraftOp
    key: str
    value: NotRequired[str]
    meta: NotRequired[dict[str, str | None]]


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
    edits = _releases(call).draft(_target(call).id)
    return ApiResponse(200, {"count": len(edits), "edits": [edit.to_json() for edit in edits]})


async def add_edit(call: Call) -> ApiResponse:
    target, body = _target(call), call.checked_body(_NewEdit)
    op, key = body["op"], _stored_name(body["key"])
    if op == "rm" and ("value" in body or "meta" in body):
        raise BadRequest(f"rm of {key} takes no value or meta", field="value")
    if op == "set" and "value" not in body and "meta" not in body:
        raise BadRequest(f"set of {key} needs a value, a meta patch or both", field="value")
    edit = _releases(call).add_edit(
        target.id, call.principal.user, op, key, body.get("value"), body.get("meta", {})
    )
    return ApiResponse(201, edit.to_json())


async def remove_edit(call: Call) -> ApiResponse:
    edit_id = call.id_param("edit")
    _releases(call).remove_edit(_target(call).id, edit_id)
    return ApiResponse(200, {"removed": edit_id})


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


async def _folded(target: ClusterTarget, edits: Sequence[DraftEdit]) -> list[KeyRestore]:
    """The draft as one restore: each key it touches, from its state in the desired state now
    to its state after all the draft's edits of it, in order."""
    before: dict[str, KeyState] = {}
    after: dict[str, KeyState] = {}
    for edit in edits:
        if edit.key not in before:
            before[edit.key] = after[edit.key] = await read_state(target, edit.key)
        after[edit.key] = _applied(edit, after[edit.key])
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
    # nothing for them, and the hold ends once the canary members have it back too.
    answer = await revert_entry(call, release.entry)
    if call.query_flag("preview"):
        return answer
    releases.settle(release.id, "rolled-back")
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
