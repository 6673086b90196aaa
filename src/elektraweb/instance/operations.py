"""Every operation elektrad serves by name, and running one against the host.

The key operations are ``elektraweb.operations``' (run against the host's KDB through
``KDBStore``); the ones that need the host itself (version, mounts, locks) are elektrad's own.
The functions here are synchronous and run on the KDB worker thread; KDB errors become the
protocol's error replies (docs/protocol.md §2).
"""

from __future__ import annotations

import re
from dataclasses import replace
from importlib import metadata
from typing import Any

from elektraweb.instance import lock_ops, mount_ops
from elektraweb.instance.context import Host, HostOperation
from elektraweb.instance.events import with_changes
from elektraweb.instance.kdb_store import KDBStore
from elektraweb.instance.problems import problems_of
from elektraweb.kdb.errors import KDBError
from elektraweb.operations.arguments import Args
from elektraweb.operations.catalog import KEY_OPERATIONS, WRITES, run_key_operation
from elektraweb.operations.errors import remote_error
from elektraweb.operations.result import OperationResult
from elektraweb.wire.errors import ErrorCode, RemoteError
from elektraweb.wire.messages import PROTOCOL_VERSION, Request


def kdb_version() -> dict[str, Any]:
    """The KDB's version, as ``kdb --version`` reports it (this package's release)."""
    text = metadata.version("elektraweb")
    numbers = [int(part) for part in re.findall(r"\d+", text)[:3]]
    major, minor, micro = numbers + [0] * (3 - len(numbers))
    return {"version": text, "major": major, "minor": minor, "micro": micro}


def version(host: Host, args: Args) -> OperationResult:
    return OperationResult(
        {
            "protocol": PROTOCOL_VERSION,
            "elektra": kdb_version(),
            "instance": host.public_key,
            "hostname": host.hostname,
            "mounts": mount_ops.mount_list(host),
            # Which clusters hold locks here, so clusterd can release a cluster's locks that
            # it no longer remembers owing (docs/protocol.md §4 `version`).
            "locks": {cluster: len(keys) for cluster, keys in host.locks.by_cluster().items()},
        }
    )


HOST_OPERATIONS: dict[str, HostOperation] = {
    operation.name: operation
    for operation in (
        HostOperation("version", version, frozenset()),
        HostOperation("mounts", mount_ops.mounts, frozenset()),
        HostOperation("mount", mount_ops.mount, frozenset({"mountpoint", "path", "format"})),
        HostOperation("umount", mount_ops.umount, frozenset({"mountpoint"})),
        HostOperation("lock", lock_ops.lock, frozenset({"cluster", "keys"})),
        HostOperation("unlock", lock_ops.unlock, frozenset({"cluster", "keys"})),
    )
}


def is_preview(request: Request) -> bool:
    return request.args.get("preview") is True


def run(host: Host, request: Request) -> OperationResult:
    """Execute ``request``; raises RemoteError for every refusal. A preview makes every
    check of the write and reports its ``changes`` without storing them, and answers no
    changes to publish."""
    raw = request.args
    if "preview" in raw:
        if request.op not in WRITES or not isinstance(raw["preview"], bool):
            raise RemoteError(
                ErrorCode.BAD_REQUEST,
                f"{request.op}: argument 'preview' is only taken by key writes, as true or false",
            )
        raw = {name: value for name, value in raw.items() if name != "preview"}
    # The key writes (``WRITES``) take ``preview`` (docs/protocol.md §4, Preview).
    if request.op in KEY_OPERATIONS:
        if not is_preview(request):
            return reported(run_key_operation(KDBStore(host), request.op, raw), request)
        preview = KDBStore(replace(host, preview=True))
        outcome = reported(run_key_operation(preview, request.op, raw), request)
        return OperationResult({**outcome.result, "preview": True})
    operation = HOST_OPERATIONS.get(request.op)
    if operation is None:
        raise RemoteError(ErrorCode.BAD_REQUEST, f"operation {request.op!r} is not served here")
    args = Args(request.op, raw, operation.members)
    try:
        return operation.run(host, args)
    except KDBError as error:
        raise remote_error(error, request.key) from None


def reported(outcome: OperationResult, request: Request) -> OperationResult:
    """A key operation's result as elektrad answers it: a write's with its ``changes``, a
    get's with the ``problems`` of the keys it returns."""
    if outcome.subject is not None:
        outcome.result = with_changes(
            outcome.result, outcome.changes, outcome.subject, outcome.current
        )
    elif request.op == "get":
        problems = problems_of(outcome.result)
        if problems:
            outcome.result["problems"] = problems
    return outcome
