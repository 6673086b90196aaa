"""Error replies of the daemon link: the codes of docs/protocol.md and `RemoteError`."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID_NAME = "invalid-name"
    NOT_FOUND = "not-found"
    VALIDATION = "validation"
    CONFLICT = "conflict"
    LOCKED = "locked"
    FORBIDDEN = "forbidden"
    PROTECTED = "protected"
    REASON_REQUIRED = "reason-required"
    TOO_LARGE = "too-large"
    BAD_REQUEST = "bad-request"
    INTERNAL = "internal"
    UNSUPPORTED_VERSION = "unsupported-version"


class RemoteError(Exception):
    """An error reply.

    A handler raises it to answer a request with this error; a client raises it when it receives
    one. `elektra` is libelektra's error code (e.g. "C03200") where there is one.
    """

    def __init__(
        self,
        code: ErrorCode | str,
        message: str,
        *,
        key: str | None = None,
        elektra: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.key = key
        self.elektra = elektra

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"RemoteError({self.code.value!r}, {self.message!r}, key={self.key!r})"

    def to_json(self) -> dict[str, str]:
        body = {"code": self.code.value, "message": self.message}
        if self.key is not None:
            body["key"] = self.key
        if self.elektra is not None:
            body["elektra"] = self.elektra
        return body


def bad_request(message: str) -> RemoteError:
    return RemoteError(ErrorCode.BAD_REQUEST, message)
