"""Writes of keys and subtrees besides set: rm, mv, cp and the metadata operations."""

from __future__ import annotations

from elektraweb.instance.arguments import Args, check_meta_name
from elektraweb.instance.context import Host, Operation, Outcome
from elektraweb.instance.events import with_changes
from elektraweb.instance.representation import key_revision
from elektraweb.instance.transaction import Transaction
from elektraweb.kdb import names
from elektraweb.kdb.key import Key
from elektraweb.wire.messages import ErrorCode, RemoteError
from elektraweb.wire.metadata import patched

_WRITE = frozenset({"key", "expect", "cluster", "reason"})


def not_found(name: str, message: str) -> RemoteError:
    return RemoteError(ErrorCode.NOT_FOUND, message, key=name)


def _write_meta(host: Host, args: Args, patch: dict[str, str | None], *, create: bool) -> Outcome:
    """Apply ``patch`` to a key's metadata (creating a key without value if ``create``)."""
    name = args.stored_key()
    transaction = Transaction(host, name, cluster=args.cluster(), reason=args.reason())
    transaction.expect(name, args.expect())
    old = transaction.lookup(name)
    if old is None and not create:
        raise not_found(name, f"key {name} does not exist")
    value = None if old is None else old.value
    meta = patched({} if old is None else old.meta, patch)
    transaction.put(Key(name, value, meta))
    changes = transaction.commit()
    current = transaction.lookup(name)
    result = {"key": name, "revision": key_revision(current)}
    return Outcome(with_changes(result, changes, name, current), changes)


def remove(host: Host, args: Args) -> Outcome:
    name = args.stored_key()
    recursive = args.flag("recursive")
    transaction = Transaction(host, name, cluster=args.cluster(), reason=args.reason())
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
    result = with_changes({"removed": len(victims)}, changes, name, transaction.lookup(name))
    return Outcome(result, changes)


def _relocate(host: Host, args: Args, *, keep_source: bool) -> Outcome:
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
        host, names.common_parent(source, target), cluster=args.cluster(), reason=args.reason()
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
    return Outcome(with_changes(result, changes, source, transaction.lookup(source)), changes)


def move(host: Host, args: Args) -> Outcome:
    return _relocate(host, args, keep_source=False)


def copy(host: Host, args: Args) -> Outcome:
    return _relocate(host, args, keep_source=True)


def meta_set(host: Host, args: Args) -> Outcome:
    name = check_meta_name(args.text("name"))
    return _write_meta(host, args, {name: args.text("value")}, create=True)


def meta_remove(host: Host, args: Args) -> Outcome:
    name = check_meta_name(args.text("name"))
    return _write_meta(host, args, {name: None}, create=False)


def meta_bulk(host: Host, args: Args) -> Outcome:
    return _write_meta(host, args, args.meta(removals=True, required=True), create=True)


OPERATIONS = (
    Operation("rm", remove, _WRITE | {"recursive"}),
    Operation("mv", move, _WRITE | {"target", "recursive", "force"}),
    Operation("cp", copy, _WRITE | {"target", "recursive", "force"}),
    Operation("meta-set", meta_set, _WRITE | {"name", "value"}),
    Operation("meta-rm", meta_remove, _WRITE | {"name"}),
    Operation("meta-bulk", meta_bulk, _WRITE | {"meta"}),
)
