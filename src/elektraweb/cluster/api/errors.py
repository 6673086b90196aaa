"""Errors the API answers with: each knows its HTTP status and its error code.

Handlers raise them; the dispatcher turns them, and the store's refusals (`from_store`), into
``{"error": {"code", "message", ...}}`` with the status, the same for REST and WebSocket requests.
"""

from __future__ import annotations

from elektraweb.cluster.store.errors import (
    DatabaseLost,
    InvalidField,
    RecordConflict,
    RecordNotFound,
    StoreError,
    TokenRefused,
)
from elektraweb.wire.json_value import Encodable, EncodableObject


class ApiError(Exception):
    """A refusal the client should see; `details` become extra members of the error object."""

    status = 500
    code = "internal"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        **details: Encodable,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details
        self.headers: dict[str, str] = {}
        """HTTP headers that go with the answer over REST."""

    def body(self) -> dict[str, EncodableObject]:
        return {"error": {"code": self.code, "message": self.message, **self.details}}


class BadRequest(ApiError):
    status = 400
    code = "bad-request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class Protected(ApiError):
    """A write to what the KDB itself interprets, such as the mount table."""

    status = 403
    code = "protected"


class NotFound(ApiError):
    status = 404
    code = "not-found"


class MethodNotAllowed(ApiError):
    status = 405
    code = "method-not-allowed"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class RequestTimeout(ApiError):
    status = 408
    code = "request-timeout"


class PayloadTooLarge(ApiError):
    status = 413
    code = "too-large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported-media-type"


class TooManyRequests(ApiError):
    """Refused for now; `retry_after` (seconds) goes into the body and the Retry-After header."""

    status = 429
    code = "too-many-requests"

    def __init__(self, message: str, *, retry_after: int, **details: Encodable) -> None:
        super().__init__(message)
        self.details.update(details, retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


class Locked(ApiError):
    status = 423
    code = "locked"


class NotImplementedYet(ApiError):
    status = 501
    code = "not-implemented"


class BadGateway(ApiError):
    status = 502
    code = "unreachable"


class ServiceUnavailable(ApiError):
    status = 503
    code = "unavailable"


class GatewayTimeout(ApiError):
    status = 504
    code = "timeout"


def from_store(error: StoreError) -> ApiError:
    """The API's answer to a refusal of the store: the one place its kinds get a status."""
    kind: type[ApiError] = ApiError
    if isinstance(error, InvalidField):
        kind = BadRequest
    elif isinstance(error, RecordNotFound):
        kind = NotFound
    elif isinstance(error, RecordConflict):
        kind = Conflict
    elif isinstance(error, TokenRefused):
        kind = Unauthorized
    elif isinstance(error, DatabaseLost):
        kind = ServiceUnavailable
    problem = kind(error.message, code=error.code)
    problem.details.update(error.subject)
    return problem
