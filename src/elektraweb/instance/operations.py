"""Every protocol operation by name, and running one against the host's KDB.

The functions here are synchronous and run on the KDB worker thread; KDB errors become the
protocol's error replies (docs/protocol.md §2).
"""

from __future__ import annotations

from elektraweb.instance import key_ops, lock_ops, mount_ops, read_ops, set_ops, subtree_ops
from elektraweb.instance.arguments import Args
from elektraweb.instance.context import Host, Operation, Outcome
from elektraweb.instance.errors import remote_error
from elektraweb.instance.problems import reporting_problems
from elektraweb.kdb.errors import KDBError
from elektraweb.wire.messages import ErrorCode, RemoteError, Request

OPERATIONS: dict[str, Operation] = {
    operation.name: operation
    for module in (read_ops, mount_ops, set_ops, key_ops, subtree_ops, lock_ops)
    for operation in module.OPERATIONS
}
OPERATIONS["get"] = reporting_problems(OPERATIONS["get"])


def run(host: Host, request: Request) -> Outcome:
    """Execute ``request``; raises RemoteError for every refusal."""
    operation = OPERATIONS.get(request.op)
    if operation is None:
        raise RemoteError(ErrorCode.BAD_REQUEST, f"operation {request.op!r} is not served here")
    args = Args(request.op, request.args, operation.members)
    try:
        return operation.run(host, args)
    except KDBError as error:
        raise remote_error(error, request.key) from None
