"""Every protocol operation by name, and running one against the host's KDB.

The functions here are synchronous and run on the KDB worker thread; KDB errors become the
protocol's error replies (docs/protocol.md §2).
"""

from __future__ import annotations

from elektraweb.instance import key_ops, lock_ops, read_ops, subtree_ops
from elektraweb.instance.arguments import Args
from elektraweb.instance.context import Host, Operation, Outcome
from elektraweb.kdb import errors
from elektraweb.wire.messages import ErrorCode, RemoteError, Request

OPERATIONS: dict[str, Operation] = {
    operation.name: operation
    for module in (read_ops, key_ops, subtree_ops, lock_ops)
    for operation in module.OPERATIONS
}


def run(host: Host, request: Request) -> Outcome:
    """Execute ``request``; raises RemoteError for every refusal."""
    operation = OPERATIONS.get(request.op)
    if operation is None:
        raise RemoteError(ErrorCode.BAD_REQUEST, f"operation {request.op!r} is not served here")
    args = Args(request.op, request.args, operation.members)
    try:
        return operation.run(host, args)
    except errors.KDBError as error:
        raise remote_error(error, request) from None


def remote_error(error: errors.KDBError, request: Request) -> RemoteError:
    """The protocol error for a KDB failure, keeping libelektra's code."""
    key = error.key or request.key
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
    return RemoteError(code, error.message, key=key, elektra=error.code)
