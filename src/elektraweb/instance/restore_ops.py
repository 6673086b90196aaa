"""`restore`: put keys back to earlier states in one write, each guarded by the revision it
must have now (a revert or rollback of clusterd's history, docs/protocol.md §4)."""

from __future__ import annotations

from elektraweb.instance.arguments import Args, canonical_name
from elektraweb.instance.context import Host, Operation, Outcome
from elektraweb.instance.events import with_changes
from elektraweb.instance.subtree_ops import key_entry
from elektraweb.instance.transaction import Transaction
from elektraweb.kdb import names
from elektraweb.wire.messages import ErrorCode, RemoteError, bad_request


def _below(root: str, name: str, where: str) -> str:
    if not names.is_below_or_same(name, root):
        raise RemoteError(
            ErrorCode.BAD_REQUEST, f"restore: {where} {name} is not at or below {root}", key=name
        )
    return name


def restore(host: Host, args: Args) -> Outcome:
    root = args.stored_key()
    raw_keys = args.raw("keys")
    if not isinstance(raw_keys, list):
        raise bad_request(f"restore: argument 'keys' must be a list, got {raw_keys!r:.60}")
    puts = [key_entry(raw, index, root, "restore") for index, raw in enumerate(raw_keys)]
    removals = [_below(root, name, "removal") for name in args.key_list("removals")]
    expected = args.raw("expect")
    if not isinstance(expected, dict) or not all(
        isinstance(revision, str | None) for revision in expected.values()
    ):
        raise bad_request("restore: argument 'expect' must map key names to a revision or null")
    transaction = Transaction(host, root, cluster=args.cluster())
    for name, revision in expected.items():
        transaction.expect(_below(root, canonical_name(name), "expected key"), revision)
    for name in removals:
        transaction.remove(name)
    for key in puts:
        transaction.put(key)
    changes = transaction.commit()
    result = {"restored": len(puts) + len(removals)}
    return Outcome(with_changes(result, changes, root, transaction.lookup(root)), changes)


OPERATIONS = (
    Operation("restore", restore, frozenset({"key", "keys", "removals", "expect", "cluster"})),
)
