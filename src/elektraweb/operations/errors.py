"""KDB failures as the protocol's error replies, keeping libelektra's codes."""

from __future__ import annotations

from elektraweb.kdb import errors
from elektraweb.wire.errors import ErrorCode, RemoteError


def remote_error(error: errors.KDBError, key: str | None = None) -> RemoteError:
    """The protocol error for a KDB failure; ``key`` names the request's key if the error
    names none."""
    if isinstance(error, errors.InvalidNameError):
        code = ErrorCode.INVALID_NAME
    elif isinstance(error, errors.NotFoundError):
        code = ErrorCode.NOT_FOUND
    elif isinstance(error, errors.ConflictError):
        code = ErrorCode.CONFLICT
    elif isinstance(error, errors.ValidationError) or error.code in (
        errors.VALIDATION_SYNTACTIC,
        errors.VALIDATION_SEMANTIC,
    ):
        code = ErrorCode.VALIDATION
    elif isinstance(error, errors.MountError) or error.code == errors.INTERFACE:
        code = ErrorCode.BAD_REQUEST  # the request asked for something the KDB cannot do
    else:
        code = ErrorCode.INTERNAL
    return RemoteError(code, error.message, key=error.key or key, elektra=error.code)
