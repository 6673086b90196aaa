"""Staged cluster changes (docs/api.md §Releases): a cluster's draft (`api.drafts`) published
with a message as one audited release (one `restore` write of the desired state, fanned out),
optionally to canary members first, then promoted to all; a release rolls back as one revert
of its audit entry. Reading needs a viewer; everything else is a write of the cluster's keys
and needs an editor, as the writes it wraps."""

from __future__ import annotations

import functools
from typing import NotRequired, TypedDict

from elektraweb.cluster.api.drafts import TAG, folded, releases_of, target_of
from elektraweb.cluster.api.errors import BadRequest, Conflict
from elektraweb.cluster.api.guards import REASON
from elektraweb.cluster.api.history import FORCE, RESTORED, revert_entry
from elektraweb.cluster.api.kdb_operations import PREVIEW
from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.restore import restore
from elektraweb.cluster.api.routing import Call, Route
from elektraweb.cluster.api.schema import ANY, INTEGER, STRING, array, enum, nullable, obj
from elektraweb.cluster.api.targets import ClusterTarget
from elektraweb.cluster.clusters.releases import promote
from elektraweb.cluster.store.releases import Release, Releases
from elektraweb.kdb import names

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


class _PublishBody(TypedDict):
    message: str
    canary: NotRequired[list[int]]


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
    target = target_of(call)
    releases = releases_of(call)
    edits = releases.draft(target.id)
    if not edits:
        raise BadRequest(f"cluster {target.id}'s draft is empty: nothing to publish")
    message = call.checked_body(_PublishBody)["message"].strip()
    if not message:
        raise BadRequest("a release needs a message saying what it changes", field="message")
    canary = _canary(call, target.id)
    restores = await folded(target, edits)
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
        # The release's message is its reason: a critical key needs none besides.
        answer = await restore(call, target, action="release", key=root, args=args,
                               restores=restores, reason=message)  # fmt: skip
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
    found = releases_of(call).releases(target_of(call).id)
    return ApiResponse(200, [release.to_json() for release in found])


def _release(call: Call) -> tuple[ClusterTarget, Releases, Release]:
    target, releases = target_of(call), releases_of(call)
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
        result={
            "ok": True,
            "release": release.id,
            "entry": release.entry,
            "members": members,
            "args": {"reason": release.message},  # the release's change, now on every member
        },
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
        "POST", f"{_CLUSTER}/draft/publish", publish, "editor",
        "Publish the draft as one audited release with a message: one write of the desired"
        " state, fanned out to every member, or with `canary` only to those members until"
        " promoted; `?preview=true` answers the draft's diff per member; the message is the"
        " reason a critical key needs",
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
        " hold ends); 409 names the keys changed since, unless forced; a critical key among"
        " them needs `reason`",
        TAG, query=(FORCE, PREVIEW, REASON), response={"anyOf": [RELEASE, RESTORED]},
        errors=_WRITE_ERRORS,
    ),
)  # fmt: skip
