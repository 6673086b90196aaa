"""A cluster write's preview (docs/api.md §Preview): the change it plans for the desired
state, and for each member what applying that change would do there, as elektrad previews
the very `set` and `rm` requests a sync would send (`convergence`)."""

from __future__ import annotations

import asyncio

from elektraweb.cluster.api.errors import ApiError
from elektraweb.cluster.api.preview import TargetPreview, accepted, instance_at, refused
from elektraweb.cluster.instances.gateway import GATEWAY_ERRORS, InstanceError, api_error
from elektraweb.cluster.services import Services
from elektraweb.cluster.store.applied_keys import AppliedKeys
from elektraweb.cluster.store.instances import Instance
from elektraweb.operations.representation import wire_value
from elektraweb.operations.store import KeyChange
from elektraweb.wire.replies import ChangeJSON, OperationArgs

MAX_PREVIEWED_KEYS = 200
"""Keys previewed on each member: one request each, so a huge import previews its first keys
and says `truncated`."""


async def preview_member(
    services: Services,
    applied: AppliedKeys,
    cluster_id: int,
    member: Instance,
    changes: list[KeyChange],
) -> TargetPreview:
    """What syncing `changes` of the desired state to `member` would do there; its first
    refusal, if any."""
    held = applied.of(cluster_id, member.id)
    requests: list[tuple[str, OperationArgs]] = []
    for change in changes:
        key = change.new
        if key is None:
            requests.append(("rm", {"key": change.key}))
            continue
        taken = held.get(key.name)
        dropped = sorted((taken.meta_names if taken else frozenset()) - set(key.meta))
        patch = {**key.meta, **dict.fromkeys(dropped)}
        requests.append(("set", {"key": key.name, "value": wire_value(key), "meta": patch}))
    requests.sort(key=lambda request: str(request[1]["key"]))
    truncated = len(requests) > MAX_PREVIEWED_KEYS

    async def one(op: str, args: OperationArgs) -> list[ChangeJSON]:
        request: OperationArgs = {**args, "cluster": str(cluster_id), "preview": True}
        try:
            reply = await services.gateway.call(
                member, op, request, timeout=services.config.instance_timeout
            )
        except InstanceError as error:
            if op == "rm" and error.code == "not-found":
                return []  # the member does not have it: nothing to remove
            raise
        return reply.get("changes") or []

    where = instance_at(member.id)
    try:
        answers = await asyncio.gather(
            *(one(op, args) for op, args in requests[:MAX_PREVIEWED_KEYS])
        )
    except GATEWAY_ERRORS as error:
        return refused(where, api_error(error, instance=member.id))
    except ApiError as error:
        return refused(where, error)
    return accepted(where, [reported for answer in answers for reported in answer], truncated)
