"""Every protocol operation by name, and running one against the host's KDB.

The functions here are synchronous and run on the KDB worker thread; KDB errors become the
protocol's error replies (docs/protocol.md §2).
"""

from __future__ import annotations

from dataclasses import replace

from elektraweb.instance import (
    key_ops,
    lock_ops,
    mount_ops,
    read_ops,
    restore_ops,
    set_ops,
    subtree_ops,
)
from elektraweb.instance.arguments import Args
from elektraweb.instance.context import Host, Operation, Outcome
from elektraweb.instance.errors import remote_error
from elektraweb.instance.problems import reporting_problems
from elektraweb.kdb.errors import KDBError
from elektraweb.wire.messages import ErrorCode, RemoteError, Request

OPERATIONS: dict[str, Operation] = {
    operation.name: operation
    for module in (read_ops, mount_ops, set_ops, key_ops, subtree_ops, restore_ops, lock_ops)
    for operation in module.OPERATIONS
}
OPERATIONS["get"] = reporting_problems(OPERATIONS["get"])

PREVIEWABLE = frozenset(
    {"set", "rm", "mv", "cp", "meta-set", "meta-rm", "meta-bulk", "set-all", "import", "restore"}
)
"""The key writes that take ``preview: true`` (docs/protocol.md §4, Preview)."""


def is_preview(request: Request) -> bool:
    return request.args.get("preview") is True


def run(host: Host, request: Request) -> Outcome:
    """Execute ``request``; raises RemoteError for every refusal. A preview makes every
    check of the write and reports its ``changes`` without storing them, and answers no
    changes to publish."""
    operation = OPERATIONS.get(request.op)
    if operation is None:
        raise RemoteError(ErrorCode.BAD_REQUEST, f"operation {request.op!r} is not served here")
    raw = request.args
    preview = "preview" in raw
    if preview:
        if request.op not in PREVIEWABLE or not isinstance(raw["preview"], bool):
            raise RemoteError(
                ErrorCode.BAD_REQUEST,
                f"{request.op}: argument 'preview' is only taken by key writes, as true or false",
            )
        raw = {name: value for name, value in raw.items() if name != "preview"}
    args = Args(request.op, raw, operation.members)
    try:
        if not is_preview(request):
            return operation.run(host, args)
        outcome = operation.run(replace(host, preview=True), args)
    except KDBError as error:
        raise remote_error(error, request.key) from None
    return Outcome({**outcome.result, "preview": True})
