"""Writes of single keys and their subtrees: set, rm, mv, cp and the metadata operations."""

from __future__ import annotations

from dataclasses import dataclass

from elektraweb.kdb import names
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.operations.arguments import Args, Expect, check_meta_name
from elektraweb.operations.representation import key_from_wire, key_revision
from elektraweb.operations.result import OperationResult
from elektraweb.operations.store import KeyChange, KeyStore
from elektraweb.operations.transaction import (
    CriticalKeys,
    Transaction,
    check_expected,
    check_protected,
    check_restrictions,
)
from elektraweb.wire.errors import ErrorCode, RemoteError
from elektraweb.wire.metadata import patched


@dataclass(frozen=True, slots=True)
class SetRequest:
    """One ``set``, its arguments checked; elektrad's group commit applies several to one
    KeySet (``instance.set_ops``)."""

    name: str
    value: str | None
    patch: dict[str, str | None]
    expect: Expect
    cluster: str | None
    reason: str | None

    @classmethod
    def parse(cls, args: Args) -> SetRequest:
        return cls(
            args.stored_key(),
            args.value(),
            args.meta(removals=True),
            args.expect(),
            args.cluster(),
            args.reason(),
        )

    def apply(self, store: KeyStore, keys: KeySet) -> Key | None:
        """Check this set against ``keys`` and put its key there; returns the old key."""
        check_expected(keys, self.name, self.expect)
        store.admit([self.name], (), self.cluster)
        old = keys.lookup(self.name)
        new = key_from_wire(
            self.name, self.value, patched({} if old is None else old.meta, self.patch)
        )
        change = KeyChange(self.name, old, new)
        check_protected(change)
        check_restrictions(change)
        CriticalKeys(keys, cluster=self.cluster, reason=self.reason).check(change)
        keys.add(new)
        return old

    def result(self, old: Key | None, stored: KeySet) -> OperationResult:
        """The set's result, its key read back from ``stored`` (what the store now holds)."""
        new = stored.lookup(self.name)
        changed = new is None or old is None or not old.same_content(new)
        changes = [KeyChange(self.name, old, new)] if changed else []
        result = {"key": self.name, "revision": key_revision(new), "created": old is None}
        return OperationResult(result, changes, self.name, new)


def set_key(store: KeyStore, args: Args) -> OperationResult:
    request = SetRequest.parse(args)
    keys = KeySet(store.view(request.name))  # its own set; keys are replaced, never changed
    old = request.apply(store, keys)
    return request.result(old, store.store(request.name, keys))


def not_found(name: str, message: str) -> RemoteError:
    return RemoteError(ErrorCode.NOT_FOUND, message, key=name)


def _write_meta(
    store: KeyStore, args: Args, patch: dict[str, str | None], *, create: bool
) -> OperationResult:
    """Apply ``patch`` to a key's metadata (creating a key without value if ``create``)."""
    name = args.stored_key()
    transaction = Transaction(store, name, cluster=args.cluster(), reason=args.reason())
    transaction.expect(name, args.expect())
    old = transaction.lookup(name)
    if old is None and not create:
        raise not_found(name, f"key {name} does not exist")
    value = None if old is None else old.value
    meta = patched({} if old is None else old.meta, patch)
    transaction.put(Key(name, value, meta))
    changes = transaction.commit()
    current = transaction.lookup(name)
    return OperationResult({"key": name, "revision": key_revision(current)}, changes, name, current)


def remove(store: KeyStore, args: Args) -> OperationResult:
    name = args.stored_key()
    recursive = args.flag("recursive")
    transaction = Transaction(store, name, cluster=args.cluster(), reason=args.reason())
    transaction.expect(name, args.expect())
    if recursive:
        victims = [key.name for key in transaction.below(name)]
        transaction.touch_subtree(name)
    else:
        victims = [name] if transaction.lookup(name) is not None else []
    if not victims:
        where = "at or below" if recursive else "named"
        raise not_found(name, f"{args.op}: there is no key {where} {name}")
    for victim in victims:
        transaction.remove(victim)
    changes = transaction.commit()
    return OperationResult({"removed": len(victims)}, changes, name, transaction.lookup(name))


def _relocate(store: KeyStore, args: Args, *, keep_source: bool) -> OperationResult:
    source = args.stored_key()
    target = args.stored_key("target")
    recursive = args.flag("recursive")
    force = args.flag("force")
    if source == target or (recursive and names.is_below(target, source)):
        raise RemoteError(
            ErrorCode.BAD_REQUEST,
            f"{args.op}: target {target} lies in the source {source}",
            key=target,
        )
    transaction = Transaction(
        store, names.common_parent(source, target), cluster=args.cluster(), reason=args.reason()
    )
    transaction.expect(source, args.expect())
    if recursive:
        keys = transaction.below(source)
        transaction.touch_subtree(source)
    else:
        found = transaction.lookup(source)
        keys = [] if found is None else [found]
    if not keys:
        raise not_found(source, f"{args.op}: source key {source} does not exist")
    namespace, target_parts = names.split(target)
    moved = [
        key.copy(names.join(namespace, target_parts + names.relative_parts(key.name, source)))
        for key in keys
    ]
    if not force:
        for key in moved:
            if transaction.lookup(key.name) is not None:
                raise RemoteError(
                    ErrorCode.CONFLICT,
                    f"{args.op}: target key {key.name} exists; pass force to overwrite it",
                    key=key.name,
                )
    # Remove first: a target name may equal a source name when the source lies below it.
    if not keep_source:
        for key in keys:
            transaction.remove(key.name)
    for key in moved:
        transaction.put(key)
    changes = transaction.commit()
    count = "copied" if keep_source else "moved"
    result = {"target": target, count: len(moved)}
    return OperationResult(result, changes, source, transaction.lookup(source))


def move(store: KeyStore, args: Args) -> OperationResult:
    return _relocate(store, args, keep_source=False)


def copy(store: KeyStore, args: Args) -> OperationResult:
    return _relocate(store, args, keep_source=True)


def meta_set(store: KeyStore, args: Args) -> OperationResult:
    name = check_meta_name(args.text("name"))
    return _write_meta(store, args, {name: args.text("value")}, create=True)


def meta_remove(store: KeyStore, args: Args) -> OperationResult:
    name = check_meta_name(args.text("name"))
    return _write_meta(store, args, {name: None}, create=False)


def meta_bulk(store: KeyStore, args: Args) -> OperationResult:
    return _write_meta(store, args, args.meta(removals=True, required=True), create=True)
