"""Routes of access: login and logout (the session cookie), who am I, users, API tokens."""

from __future__ import annotations

import logging

from elektraweb.cluster.api.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from elektraweb.cluster.api.login_throttle import Lockout, LoginThrottle
from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.routing import Call, Route
from elektraweb.cluster.api.schema import INTEGER, STRING, array, enum, obj
from elektraweb.cluster.audit.log import AuditLog
from elektraweb.cluster.principals import ROLES, Principal, role_allows
from elektraweb.cluster.store.users import check_role

log = logging.getLogger(__name__)

TAG = "access"
ROLE = enum(*ROLES)
USER = obj({"name": STRING, "role": ROLE})
ME = obj({"user": STRING, "role": ROLE, "via": enum("session", "token")})
TOKEN = obj({"id": INTEGER, "name": STRING, "user": STRING, "role": ROLE, "created": STRING})
NEW_TOKEN = obj({**TOKEN["properties"], "token": STRING})


async def login(call: Call) -> ApiResponse:
    services, name, address = call.services, call.text_field("user"), call.request.remote
    throttle = services.login_throttle
    _refuse_while_locked(throttle, name, address)
    user = await services.users.verify(name, call.text_field("password"))
    # Failures counted while this attempt was checked lock it out too, right password or not.
    _refuse_while_locked(throttle, name, address)
    if user is None:
        log.warning("failed login for user %r from %s", name, address)
        _count_failure(throttle, services.audit, name, address)
        raise Unauthorized("wrong user name or password", code="login-failed")
    throttle.succeeded(name)
    session = services.credentials.open_session(user.name)
    return ApiResponse(200, user.to_json(), session_token=session)


def _refuse_while_locked(throttle: LoginThrottle, name: str, address: str | None) -> None:
    retry_after = throttle.retry_after(name, address)
    if retry_after is not None:
        raise TooManyRequests(
            f"too many failed logins; try again in {retry_after} s",
            code="login-throttled",
            retry_after=retry_after,
        )


def _count_failure(
    throttle: LoginThrottle, audit: AuditLog, name: str, address: str | None
) -> None:
    for lockout in throttle.failed(name, address):
        _record_lockout(audit, name, address, lockout)


def _record_lockout(audit: AuditLog, name: str, address: str | None, lockout: Lockout) -> None:
    log.warning(
        "login locked for %s %r for %g s after %d failures",
        lockout.kind,
        lockout.subject,
        lockout.seconds,
        lockout.failures,
    )
    audit.record(
        user="clusterd",
        action="login.lockout",
        target_type="user",
        target_id=name,
        after={
            "locked": lockout.kind,
            "address": address,
            "failures": lockout.failures,
            "seconds": lockout.seconds,
        },
        result={"ok": True},
    )


async def logout(call: Call) -> ApiResponse:
    principal = call.principal
    if principal.via == "session" and principal.credential_id is not None:
        call.services.credentials.close_session(principal.credential_id)
    return ApiResponse(204, None, end_session=True)


async def me(call: Call) -> ApiResponse:
    principal = call.principal
    return ApiResponse(200, {"user": principal.user, "role": principal.role, "via": principal.via})


async def list_users(call: Call) -> ApiResponse:
    return ApiResponse(200, [user.to_json() for user in call.services.users.users()])


async def add_user(call: Call) -> ApiResponse:
    user = await call.services.users.add(
        call.text_field("name"), call.text_field("password"), check_role(call.text_field("role"))
    )
    call.services.audit.record(
        user=call.principal.user,
        action="user.add",
        target_type="user",
        target_id=user.name,
        after=user.to_json(),
        result={"ok": True},
    )
    return ApiResponse(201, user.to_json())


async def change_user(call: Call) -> ApiResponse:
    """Admins change anyone; every user may change their own password, nothing else."""
    principal, name, body = call.principal, call.params["name"], call.body_object()
    if principal.role != "admin" and (name != principal.user or "role" in body):
        raise Forbidden("only an admin may change other users or roles")
    services = call.services
    password_changed = "password" in body
    if password_changed and name == principal.user:
        await _confirm_current_password(call)
    before = services.users.user(name)
    role = check_role(call.text_field("role")) if "role" in body else None
    after = await services.users.update(
        name, password=call.optional_text_field("password"), role=role
    )
    ended = 0
    if password_changed:
        # Whoever held another session (or stole it) is out; their sockets close with 1008.
        ended = services.credentials.end_sessions(name, keeping=_own_session(principal, name))
    services.audit.record(
        user=principal.user,
        action="user.change",
        target_type="user",
        target_id=name,
        before=before.to_json(),
        after={**after.to_json(), "password_changed": password_changed, "sessions_ended": ended},
        result={"ok": True},
    )
    return ApiResponse(200, after.to_json())


async def _confirm_current_password(call: Call) -> None:
    """Whoever changes their own password proves they know the current one: an open session,
    a stolen cookie or token alone must not take the account over for good. A wrong one is a
    failed login to the throttle; admins resetting someone else's password are not asked."""
    services, name, address = call.services, call.principal.user, call.request.remote
    current = call.optional_text_field("current_password")
    if current is None:
        raise BadRequest(
            "current_password is required to change one's own password",
            code="current-password-required",
            field="current_password",
        )
    throttle = services.login_throttle
    _refuse_while_locked(throttle, name, address)
    user = await services.users.verify(name, current)
    _refuse_while_locked(throttle, name, address)
    if user is not None:
        throttle.succeeded(name)
        return
    log.warning("wrong current password for user %r from %s", name, address)
    _count_failure(throttle, services.audit, name, address)
    refusal = Forbidden(
        "current_password is not this user's password",
        code="wrong-current-password",
        field="current_password",
    )
    services.audit.record(
        user=name,
        action="user.change",
        target_type="user",
        target_id=name,
        after={"password_changed": False, "address": address},
        result={"ok": False, **refusal.body()},
    )
    raise refusal


def _own_session(principal: Principal, user: str) -> int | None:
    """The caller's session if it is one of `user`'s: a password change keeps it open."""
    if principal.via == "session" and principal.user == user:
        return principal.credential_id
    return None


async def remove_user(call: Call) -> ApiResponse:
    user = call.services.users.remove(call.params["name"])
    call.services.audit.record(
        user=call.principal.user,
        action="user.remove",
        target_type="user",
        target_id=user.name,
        before=user.to_json(),
        result={"ok": True},
    )
    return ApiResponse(200, user.to_json())


async def list_tokens(call: Call) -> ApiResponse:
    """Admins see every token, others their own; never the secret."""
    principal = call.principal
    owner = None if principal.role == "admin" else principal.user
    return ApiResponse(200, [t.to_json() for t in call.services.credentials.tokens(owner)])


async def add_token(call: Call) -> ApiResponse:
    principal = call.principal
    role = check_role(call.text_field("role", principal.role))
    if not role_allows(principal.role, role):
        raise Forbidden(f"a {principal.role} cannot create a token with role {role}")
    token, secret = call.services.credentials.create_token(
        principal.user, call.text_field("name"), role
    )
    call.services.audit.record(
        user=principal.user,
        action="token.add",
        target_type="token",
        target_id=token.id,
        after=token.to_json(),
        result={"ok": True},
    )
    return ApiResponse(201, {**token.to_json(), "token": secret})


async def remove_token(call: Call) -> ApiResponse:
    principal = call.principal
    credentials = call.services.credentials
    token_id = call.id_param("id")
    token = credentials.token(token_id)
    if principal.role != "admin" and token.user != principal.user:
        # Not "forbidden": other users' token ids are none of this user's business.
        raise NotFound(f"there is no API token with id {token_id}", token=token_id)
    credentials.revoke_token(token_id)
    call.services.audit.record(
        user=principal.user,
        action="token.remove",
        target_type="token",
        target_id=token.id,
        before=token.to_json(),
        result={"ok": True},
    )
    return ApiResponse(200, token.to_json())


ROUTES = (
    Route(
        "POST",
        "/api/login",
        login,
        None,
        "Log in: sets the session cookie (HttpOnly, SameSite=Strict)",
        TAG,
        body=obj({"user": STRING, "password": STRING}),
        response=USER,
        errors=(400, 401, 429),
    ),
    Route(
        "POST",
        "/api/logout",
        logout,
        "viewer",
        "Log out: ends the session, clears the cookie",
        TAG,
        status=204,
    ),
    Route("GET", "/api/me", me, "viewer", "Who is calling, with which role", TAG, response=ME),
    Route("GET", "/api/users", list_users, "admin", "List users", TAG, response=array(USER)),
    Route(
        "POST",
        "/api/users",
        add_user,
        "admin",
        "Create a user: {name, password, role}",
        TAG,
        body=obj({"name": STRING, "password": STRING, "role": ROLE}),
        status=201,
        response=USER,
        errors=(400, 409),
    ),
    Route(
        "PUT",
        "/api/users/{name}",
        change_user,
        "viewer",
        "Change a user's password or role (admins); one's own password (everyone, with"
        " current_password); the user's other sessions end",
        TAG,
        body=obj({}, {"password": STRING, "current_password": STRING, "role": ROLE}),
        response=USER,
        errors=(400, 403, 404, 409, 429),
    ),
    Route(
        "DELETE",
        "/api/users/{name}",
        remove_user,
        "admin",
        "Delete a user with their sessions and tokens",
        TAG,
        response=USER,
        errors=(404, 409),
    ),
    Route(
        "GET",
        "/api/tokens",
        list_tokens,
        "viewer",
        "List API tokens (admins: all; others: their own)",
        TAG,
        response=array(TOKEN),
    ),
    Route(
        "POST",
        "/api/tokens",
        add_token,
        "viewer",
        "Create an API token for scripts: {name, role?}; the answer shows the secret once",
        TAG,
        body=obj({"name": {**STRING, "minLength": 1}}, {"role": ROLE}),
        status=201,
        response=NEW_TOKEN,
        errors=(400,),
    ),
    Route(
        "DELETE",
        "/api/tokens/{id}",
        remove_token,
        "viewer",
        "Revoke an API token",
        TAG,
        response=TOKEN,
        errors=(404,),
    ),
)
