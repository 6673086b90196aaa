"""The key operations by name, and running one against a store."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from elektraweb.kdb.errors import KDBError
from elektraweb.operations import reads, subtrees, writes
from elektraweb.operations.arguments import Args
from elektraweb.operations.errors import remote_error
from elektraweb.operations.result import OperationResult
from elektraweb.operations.store import KeyStore

_WRITE = frozenset({"key", "expect", "cluster", "reason"})


@dataclass(frozen=True, slots=True)
class Operation:
    """A key operation: its name, the argument members it accepts, whether it writes, and
    its function (which a store runs one at a time)."""

    name: str
    run: Callable[[KeyStore, Args], OperationResult]
    members: frozenset[str]
    writes: bool


KEY_OPERATIONS: dict[str, Operation] = {
    operation.name: operation
    for operation in (
        Operation("get", reads.get, frozenset({"key", "depth", "ls_limit"}), False),
        Operation("ls", reads.ls, frozenset({"key", "depth", "cursor", "limit"}), False),
        Operation("explain", reads.explain, frozenset({"key"}), False),
        Operation("find", reads.find, frozenset({"regex", "values", "under", "limit"}), False),
        Operation("export", reads.export, frozenset({"key", "format"}), False),
        Operation("set", writes.set_key, _WRITE | {"value", "meta"}, True),
        Operation("rm", writes.remove, _WRITE | {"recursive"}, True),
        Operation("mv", writes.move, _WRITE | {"target", "recursive", "force"}, True),
        Operation("cp", writes.copy, _WRITE | {"target", "recursive", "force"}, True),
        Operation("meta-set", writes.meta_set, _WRITE | {"name", "value"}, True),
        Operation("meta-rm", writes.meta_remove, _WRITE | {"name"}, True),
        Operation("meta-bulk", writes.meta_bulk, _WRITE | {"meta"}, True),
        Operation(
            "set-all", subtrees.set_all, frozenset({"key", "keys", "cluster", "reason"}), True
        ),
        Operation(
            "import",
            subtrees.import_,
            frozenset({"key", "format", "data", "strategy", "cluster", "reason"}),
            True,
        ),
        Operation("restore", subtrees.restore, _WRITE | {"keys", "removals"}, True),
    )
}
"""Every operation whose rules are the KeySet's alone (docs/protocol.md §4); elektrad adds
the ones that need its host (version, mounts, locks)."""

WRITES = frozenset(name for name, operation in KEY_OPERATIONS.items() if operation.writes)


def run_key_operation(store: KeyStore, op: str, raw_args: Mapping[str, Any]) -> OperationResult:
    """Run the key operation ``op`` (which must be one) on ``store``; raises ``RemoteError``
    for every refusal, KDB failures included."""
    operation = KEY_OPERATIONS[op]
    args = Args(op, raw_args, operation.members)
    try:
        return operation.run(store, args)
    except KDBError as error:
        key = raw_args.get("key")
        raise remote_error(error, key if isinstance(key, str) else None) from None
