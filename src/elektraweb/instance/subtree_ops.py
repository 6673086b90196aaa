"""Whole subtrees at once: set-all, and export/import in every storage format."""

from __future__ import annotations

from typing import Any

from elektraweb.instance.arguments import Args, canonical_name, check_meta_name, storable_text
from elektraweb.instance.context import Host, Operation, Outcome
from elektraweb.instance.events import with_changes
from elektraweb.instance.representation import key_from_wire
from elektraweb.instance.transaction import Transaction
from elektraweb.kdb import names
from elektraweb.kdb.errors import KDBError
from elektraweb.kdb.key import Key
from elektraweb.kdb.storage import FORMATS, get_format
from elektraweb.wire.messages import ErrorCode, RemoteError, bad_request

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


def _committed(transaction: Transaction, root: str, result: dict[str, Any]) -> Outcome:
    changes = transaction.commit()
    return Outcome(with_changes(result, changes, root, transaction.lookup(root)), changes)


def set_all(host: Host, args: Args) -> Outcome:
    root = args.stored_key()
    raw_keys = args.raw("keys")
    if not isinstance(raw_keys, list):
        raise bad_request(f"set-all: argument 'keys' must be a list, got {raw_keys!r:.60}")
    keys = [key_entry(raw, index, root) for index, raw in enumerate(raw_keys)]
    if len({key.name for key in keys}) != len(keys):
        raise bad_request("set-all: argument 'keys' names a key more than once")
    transaction = Transaction(host, root, cluster=args.cluster(), reason=args.reason())
    transaction.touch_subtree(root)
    written, removed = _replace_subtree(transaction, root, keys)
    return _committed(transaction, root, {"written": written, "removed": removed})


def export(host: Host, args: Args) -> Outcome:
    root = args.stored_key()
    fmt_name = args.choice("format", FORMATS)
    keys = host.kdb.get(root).below(root)
    data = get_format(fmt_name).write(keys, root, None)
    return Outcome({"format": fmt_name, "data": data.decode("utf-8", "replace")})


def import_(host: Host, args: Args) -> Outcome:
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
    transaction = Transaction(host, root, cluster=args.cluster(), reason=args.reason())
    transaction.touch_subtree(root)
    if strategy == "replace":
        written, removed = _replace_subtree(transaction, root, keys)
    else:
        written, removed = _merge(transaction, keys, overwrite=strategy == "overwrite"), 0
    return _committed(transaction, root, {"written": written, "removed": removed})


OPERATIONS = (
    Operation("set-all", set_all, frozenset({"key", "keys", "cluster", "reason"})),
    Operation("export", export, frozenset({"key", "format"})),
    Operation(
        "import", import_, frozenset({"key", "format", "data", "strategy", "cluster", "reason"})
    ),
)
