"""Routes of enrollment: admins create one-time tokens, a host enrolls itself with one, and
admins accept or reject the instances that wait (docs/deploy.md §4, docs/security.md §10)."""

from __future__ import annotations

import logging

from elektraweb.cluster.api.instances import INSTANCE, instance_json
from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.routing import Call, Route
from elektraweb.cluster.api.schema import INTEGER, NULLABLE_STRING, STRING, array, nullable, obj
from elektraweb.cluster.store.instances import InstanceFields

log = logging.getLogger(__name__)

TAG = "enrollment"
DEFAULT_SECONDS = 3600
MAX_SECONDS = 7 * 24 * 3600

ENROLLMENT_TOKEN = obj(
    {
        "id": INTEGER,
        "created_by": STRING,
        "created": STRING,
        "expires": STRING,
        "cluster": nullable(INTEGER),
        "used": NULLABLE_STRING,
        "instance": nullable(INTEGER),
    }
)
NEW_ENROLLMENT_TOKEN = obj({**ENROLLMENT_TOKEN["properties"], "token": STRING})
ENROLLED = obj(
    {
        "instance": INTEGER,
        "state": STRING,
        "cluster": nullable(INTEGER),
        "clusterd_key": STRING,
    }
)


async def create_token(call: Call) -> ApiResponse:
    expires_in = call.optional_int_field("expires_in")
    token, secret = call.services.enrollment.create(
        call.principal.user,
        DEFAULT_SECONDS if expires_in is None else expires_in,
        call.optional_int_field("cluster"),
    )
    call.services.audit.record(
        user=call.principal.user,
        action="enrollment.token",
        target_type="enrollment",
        target_id=token.id,
        after=token.to_json(),
        result={"ok": True},
    )
    return ApiResponse(201, {**token.to_json(), "token": secret})


async def list_tokens(call: Call) -> ApiResponse:
    return ApiResponse(200, [token.to_json() for token in call.services.enrollment.tokens()])


async def revoke_token(call: Call) -> ApiResponse:
    token = call.services.enrollment.revoke(call.id_param("id"))
    call.services.audit.record(
        user=call.principal.user,
        action="enrollment.revoke",
        target_type="enrollment",
        target_id=token.id,
        before=token.to_json(),
        result={"ok": True},
    )
    return ApiResponse(200, token.to_json())


async def enroll(call: Call) -> ApiResponse:
    """A host asks to join, authenticated by its enrollment token alone."""
    services = call.services
    fields = InstanceFields(
        name=call.text_field("name"),
        endpoint=call.text_field("endpoint"),
        public_key=call.text_field("public_key"),
    )
    instance, token = services.enrollment.enroll(call.text_field("token"), fields)
    log.info(
        "instance %r (id %d) at %s enrolled with token %d: %s",
        instance.name,
        instance.id,
        instance.endpoint,
        token.id,
        instance.state,
    )
    who = f"enrollment:{token.id}"
    services.audit.record(
        user=who,
        action="instance.add",
        target_type="instance",
        target_id=instance.id,
        after=instance.to_json(),
        result={"ok": True, "enrolled": True},
    )
    if instance.cluster_id is not None:
        # The member gets the cluster's keys once it answers (a member coming online is
        # brought up to date), so the host's enrollment never waits for its own daemon.
        services.audit.record(
            user=who,
            action="member.add",
            target_type="cluster",
            target_id=instance.cluster_id,
            after={"instance": instance.id},
            result={"ok": True, "apply": None},
        )
    answer = {
        "instance": instance.id,
        "state": instance.state,
        "cluster": instance.cluster_id,
        "clusterd_key": services.gateway.public_key,
    }
    return ApiResponse(201, answer)


async def accept(call: Call) -> ApiResponse:
    services = call.services
    before = services.registry.pending_instance(call.id_param("id"))
    after = services.registry.accept(before.id)
    services.audit.record(
        user=call.principal.user,
        action="instance.accept",
        target_type="instance",
        target_id=after.id,
        before=before.to_json(),
        after=after.to_json(),
        result={"ok": True},
    )
    return ApiResponse(200, instance_json(services, after))


async def reject(call: Call) -> ApiResponse:
    services = call.services
    instance = services.registry.reject(call.id_param("id"))
    services.audit.record(
        user=call.principal.user,
        action="instance.reject",
        target_type="instance",
        target_id=instance.id,
        before=instance.to_json(),
        result={"ok": True},
    )
    return ApiResponse(200, instance.to_json())


ROUTES = (
    Route(
        "POST",
        "/api/enrollment-tokens",
        create_token,
        "admin",
        "Create a one-time enrollment token: {expires_in? (seconds, default 3600),"
        " cluster? (accept the host at once, into this cluster)}; the answer shows the"
        " secret once",
        TAG,
        body=obj(
            {},
            {
                "expires_in": {**INTEGER, "minimum": 1, "maximum": MAX_SECONDS},
                "cluster": nullable(INTEGER),
            },
        ),
        status=201,
        response=NEW_ENROLLMENT_TOKEN,
        errors=(400, 404),
    ),
    Route(
        "GET",
        "/api/enrollment-tokens",
        list_tokens,
        "admin",
        "List the enrollment tokens (never their secrets)",
        TAG,
        response=array(ENROLLMENT_TOKEN),
    ),
    Route(
        "DELETE",
        "/api/enrollment-tokens/{id}",
        revoke_token,
        "admin",
        "Revoke an enrollment token",
        TAG,
        response=ENROLLMENT_TOKEN,
        errors=(404,),
    ),
    Route(
        "POST",
        "/api/enroll",
        enroll,
        None,
        "A host enrolls itself with a one-time token: {token, name, endpoint, public_key};"
        " the answer carries clusterd's public key. Refused (401) if the token is unknown,"
        " expired or used",
        TAG,
        body=obj({"token": STRING, "name": STRING, "endpoint": STRING, "public_key": STRING}),
        status=201,
        response=ENROLLED,
        errors=(400, 401, 404, 409),
    ),
    Route(
        "POST",
        "/api/instances/{id}/accept",
        accept,
        "admin",
        "Accept an enrolled instance: clusterd starts talking to it",
        TAG,
        response=INSTANCE,
        errors=(404, 409),
    ),
    Route(
        "POST",
        "/api/instances/{id}/reject",
        reject,
        "admin",
        "Reject an enrolled instance: it is removed from the registry",
        TAG,
        response=obj({}, extra=True),
        errors=(404, 409),
    ),
)
