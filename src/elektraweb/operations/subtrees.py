"""Whole subtrees at once: set-all, import in every storage format with a strategy, and
restore (keys put back to earlier states in one write)."""

from __future__ import annotations

from typing import Any

from elektraweb.kdb import names
from elektraweb.kdb.errors import KDBError
from elektraweb.kdb.key import Key
from elektraweb.kdb.storage import FORMATS, get_format
from elektraweb.operations.arguments import Args, canonical_name, check_meta_name, storable_text
from elektraweb.operations.representation import key_from_wire
from elektraweb.operations.result import OperationResult
from elektraweb.operations.store import KeyStore
from elektraweb.operations.transaction import Transaction
from elektraweb.wire.errors import ErrorCode, RemoteError, bad_request

STRATEGIES = ("preserve", "overwrite", "replace")
_ENTRY_MEMBERS = frozenset({"name", "value", "meta"})


def key_entry(raw: Any, index: int, root: str, op: str = "set-all") -> Key:
    """Entry `index` of the `keys` argument of `op` (set-all, restore): a key at or below
    `root`, or a bad-request naming the entry."""
    where = f"{op}: keys[{index}]"
    if not isinstance(raw, dict):
        raise bad_request(f"{where} must be an object {{name, value, meta?}}, got {raw!r:.60}")
    unknown = sorted(set(raw) - _ENTRY_MEMBERS)
    if unknown or "name" not in raw or "value" not in raw:
        problem = f"has unknown member {unknown[0]!r}" if unknown else "needs name and value"
        raise bad_request(f"{where} {problem}")
    name, value, meta = raw["name"], raw["value"], raw.get("meta", {})
    if not isinstance(name, str):
        raise bad_request(f"{where}.name must be a key name, got {name!r:.60}")
    if value is not None and not isinstance(value, str):
        raise bad_request(f"{where}.value must be a string or null, got {value!r:.60}")
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise bad_request(f"{where}.meta must be an object of metadata name to string")
    for meta_name, meta_value in meta.items():
        check_meta_name(meta_name)
        storable_text(f"{where}.meta[{meta_name!r}]", meta_value)
    if value is not None:
        storable_text(f"{where}.value", value)
    name = canonical_name(name)
    if not names.is_below_or_same(name, root):
        raise RemoteError(
            ErrorCode.BAD_REQUEST, f"{where}: key {name} is not at or below {root}", key=name
        )
    return key_from_wire(name, value, meta)


def _replace_subtree(transaction: Transaction, root: str, keys: list[Key]) -> tuple[int, int]:
    """Make the subtree at ``root`` exactly ``keys``; returns (written, removed)."""
    wanted = {key.name for key in keys}
    removed = 0
    for existing in transaction.below(root):
        if existing.name not in wanted:
            transaction.remove(existing.name)
            removed += 1
    return _merge(transaction, keys, overwrite=True), removed


def _merge(transaction: Transaction, keys: list[Key], *, overwrite: bool) -> int:
    """Put ``keys`` that are new (or, with ``overwrite``, differ); returns how many."""
    written = 0
    for key in keys:
        old = transaction.lookup(key.name)
        if old is None or (overwrite and not old.same_content(key)):
            transaction.put(key)
            written += 1
    return written


def _committed(transaction: Transaction, root: str, result: dict[str, Any]) -> OperationResult:
    changes = transaction.commit()
    return OperationResult(result, changes, root, transaction.lookup(root))


def set_all(store: KeyStore, args: Args) -> OperationResult:
    root = args.stored_key()
    raw_keys = args.raw("keys")
    if not isinstance(raw_keys, list):
        raise bad_request(f"set-all: argument 'keys' must be a list, got {raw_keys!r:.60}")
    keys = [key_entry(raw, index, root) for index, raw in enumerate(raw_keys)]
    if len({key.name for key in keys}) != len(keys):
        raise bad_request("set-all: argument 'keys' names a key more than once")
    transaction = Transaction(store, root, cluster=args.cluster(), reason=args.reason())
    transaction.touch_subtree(root)
    written, removed = _replace_subtree(transaction, root, keys)
    return _committed(transaction, root, {"written": written, "removed": removed})


def import_(store: KeyStore, args: Args) -> OperationResult:
    root = args.stored_key()
    fmt_name = args.choice("format", FORMATS)
    data = args.text("data")
    strategy = args.choice("strategy", STRATEGIES, "preserve")
    try:
        document = get_format(fmt_name).read(data.encode(), root)
    except KDBError as error:
        raise RemoteError(
            ErrorCode.VALIDATION,
            f"import: the {fmt_name} data for {root} does not parse: {error.message}",
            key=root,
            elektra="C03100",
        ) from None
    keys = [key for key in document.keys if names.is_below_or_same(key.name, root)]
    transaction = Transaction(store, root, cluster=args.cluster(), reason=args.reason())
    transaction.touch_subtree(root)
    if strategy == "replace":
        written, removed = _replace_subtree(transaction, root, keys)
    else:
        written, removed = _merge(transaction, keys, overwrite=strategy == "overwrite"), 0
    return _committed(transaction, root, {"written": written, "removed": removed})


def _below(root: str, name: str, where: str) -> str:
    if not names.is_below_or_same(name, root):
        raise RemoteError(
            ErrorCode.BAD_REQUEST, f"restore: {where} {name} is not at or below {root}", key=name
        )
    return name


def restore(store: KeyStore, args: Args) -> OperationResult:
    """Put keys back to earlier states in one write, each guarded by the revision it must
    have now (a revert or rollback of clusterd's history, docs/protocol.md §4)."""
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
    transaction = Transaction(store, root, cluster=args.cluster(), reason=args.reason())
    for name, revision in expected.items():
        transaction.expect(_below(root, canonical_name(name), "expected key"), revision)
    for name in removals:
        transaction.remove(name)
    for key in puts:
        transaction.put(key)
    return _committed(transaction, root, {"restored": len(puts) + len(removals)})
