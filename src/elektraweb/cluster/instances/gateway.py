"""How clusterd reaches instances: the `InstanceGateway` interface and the errors it raises.

The real gateway speaks the daemon link (docs/protocol.md) through `elektraweb.wire`; tests use
an in-process one. The dispatcher maps the errors to HTTP statuses (`status_of`).
"""

from __future__ import annotations

from typing import Protocol, TypedDict

from elektraweb.cluster.api.errors import ApiError, BadGateway, GatewayTimeout
from elektraweb.cluster.store.instances import Instance
from elektraweb.wire.json_value import Encodable
from elektraweb.wire.replies import MountJSON, OperationArgs, OperationReply

DEFAULT_TIMEOUT = 5.0

# docs/protocol.md §2: the daemon's error codes and the REST status clusterd answers with.
INSTANCE_ERROR_STATUS = {
    "invalid-name": 400,
    "not-found": 404,
    "validation": 400,
    "conflict": 409,
    "locked": 423,
    "forbidden": 403,
    "protected": 403,
    "reason-required": 400,
    "too-large": 413,
    "bad-request": 400,
    "internal": 500,
    "unsupported-version": 400,
}


class InstanceError(Exception):
    """The instance answered with an error (docs/protocol.md §2)."""

    def __init__(
        self, code: str, message: str, *, key: str | None = None, elektra: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.key = key
        self.elektra = elektra

    @property
    def status(self) -> int:
        return INSTANCE_ERROR_STATUS.get(self.code, 502)


class InstanceUnreachable(Exception):
    """No connection to the instance to send the request on."""


class InstanceTimeout(Exception):
    """The request was sent but no reply came within the deadline (after retries)."""


GatewayError = InstanceError | InstanceUnreachable | InstanceTimeout
GATEWAY_ERRORS = (InstanceError, InstanceUnreachable, InstanceTimeout)


def api_error(error: GatewayError, **details: Encodable) -> ApiError:
    """The API error for a gateway error; `details` say which target it came from."""
    problem: ApiError
    if isinstance(error, InstanceError):
        problem = ApiError(error.message, code=error.code, status=error.status)
        for member, value in (("key", error.key), ("elektra", error.elektra)):
            if value is not None:
                problem.details[member] = value
    elif isinstance(error, InstanceTimeout):
        problem = GatewayTimeout(f"no answer in time: {error}")
    else:
        problem = BadGateway(f"unreachable: {error}")
    problem.details.update(details)
    return problem


class LinkStatusJSON(TypedDict):
    """The link's live state for one instance; times are ISO 8601 UTC, what the daemon tells
    of itself (`protocol` ... `events`) is null until it has answered `version`."""

    online: bool
    offline_since: str | None
    last_error: str | None
    last_seen: str | None
    protocol: int | None
    elektra: str | int | None
    hostname: str | None
    mounts: list[MountJSON] | None
    events: str | None


class InstanceGateway(Protocol):
    """The link from clusterd to its instances. Implementations own their sockets."""

    public_key: str
    """clusterd's own public key, the one instances allow (and pin when they enroll)."""

    async def call(
        self,
        instance: Instance,
        op: str,
        args: OperationArgs,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> OperationReply:
        """Run operation `op` (docs/protocol.md §4) on the instance and return its result.

        Raises InstanceError, InstanceUnreachable or InstanceTimeout.
        """
        ...

    async def identify(
        self, endpoint: str, public_key: str, *, timeout: float = DEFAULT_TIMEOUT
    ) -> OperationReply:
        """Run `version` on the daemon at `endpoint`, pinning `public_key`: the result proves
        the daemon holds that key. Raises like `call`."""
        ...

    def status(self, instance: Instance) -> LinkStatusJSON:
        """The link's live state for the instance."""
        ...

    def offline_since(self, instance: Instance) -> str | None:
        """`status(instance)["offline_since"]` while the link is down, None while it is up,
        connecting or not opened yet (which a call opens): what a fan-out asks of every
        member, without the rest of the status."""
        ...

    async def forget(self, instance: Instance) -> None:
        """Drop the link to an instance that was removed or whose endpoint or key changed."""
        ...

    async def close(self) -> None:
        """Close every link; called once when clusterd stops."""
        ...
