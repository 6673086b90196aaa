"""Checks a write passes before it is sent, from the specification of its key
(docs/validation.md, Critical keys): a critical key needs a reason, and a cluster's value must
fit its members' specification before any member is written."""

from __future__ import annotations

from typing import Any

from elektraweb.cluster.api.errors import BadGateway, BadRequest, GatewayTimeout
from elektraweb.cluster.api.routing import Call, QueryParam
from elektraweb.cluster.api.targets import Target
from elektraweb.kdb.errors import ValidationError
from elektraweb.kdb.key import Key
from elektraweb.kdb.types import TRUE_WORDS
from elektraweb.kdb.validation import validate_key

CRITICAL = "critical"
"""The spec key's metadata that makes its keys critical (`meta:/critical = 1`)."""
MAX_REASON = 500

REASON = QueryParam(
    "reason",
    "Why the change is made (kept in the audit log); required when the key's specification"
    f" sets `{CRITICAL}` to 1, at most {MAX_REASON} characters.",
)


def reason_of(call: Call) -> str | None:
    """The write's reason (`?reason=`), stripped; None if none was given."""
    reason = call.request.query.get("reason", "").strip()
    if len(reason) > MAX_REASON:
        raise BadRequest(
            f"query parameter reason has {len(reason)} characters; at most {MAX_REASON}",
            field="reason",
        )
    return reason or None


async def check_write(target: Target, op: str, args: dict[str, Any], reason: str | None) -> None:
    """Refuse (400, naming the key) a write to a critical key without a reason, and a cluster's
    `set` of a value its members' specification does not allow."""
    key = args["key"]
    try:
        explained = await target.explain(key)
    except (BadGateway, GatewayTimeout):
        if target.kind == "instance":
            raise
        # No member answers: nothing is written to one now; each validates on convergence.
        return
    described = explained.get("spec")
    spec = described["meta"] if described else {}
    if spec.get(CRITICAL, "").casefold() in TRUE_WORDS and reason is None:
        raise BadRequest(
            f"{key} is critical (its specification sets {CRITICAL}): give a reason for the"
            " change",
            code="reason-required",
            key=key,
        )
    if target.kind == "cluster" and op == "set" and isinstance(args.get("value"), str):
        try:
            validate_key(Key(key, args["value"]), spec)
        except ValidationError as error:
            raise BadRequest(
                f"{error.message} (the members' specification)",
                code="validation",
                key=key,
                value=args["value"],
                elektra=error.code,
            ) from None
