"""What a write does to a cluster's desired state: the keys it puts, the keys it removes, and the
result an instance would have answered (docs/protocol.md §4).

A cluster write acts on the cluster's keys only. `rm -r`, `set-all` and `import replace` of a
subtree remove the cluster's keys in it, never keys a member has on its own; a moved or copied
subtree is the cluster's keys in it. Checks that an instance makes against its own keys
(missing source, existing target, `expect`) are made here against the desired state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from elektraweb.cluster.api.errors import BadRequest, Conflict, NotFound, Protected
from elektraweb.cluster.clusters.desired_state import (
    DesiredState,
    from_kdb_key,
    revision_of,
    stored_name,
)
from elektraweb.cluster.store.cluster_keys import DesiredKey
from elektraweb.kdb import names
from elektraweb.kdb.errors import InvalidNameError, KDBError
from elektraweb.kdb.protected import refusal
from elektraweb.kdb.storage import FORMATS, get_format
from elektraweb.wire.metadata import patched

STRATEGIES = ("preserve", "overwrite", "replace")
_ENTRY_MEMBERS = frozenset({"name", "value", "meta"})


@dataclass(frozen=True)
class Change:
    """A write's effect on the desired state; `result` is the instance-shaped answer."""

    puts: tuple[DesiredKey, ...]
    removals: tuple[str, ...]
    result: dict[str, Any]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(key.name for key in self.puts) | frozenset(self.removals)


def plan(state: DesiredState, op: str, args: Mapping[str, Any]) -> Change:
    """The change `op` with `args` makes to `state`; raises 400/404/409 API errors like an
    instance would."""
    planner = _PLANNERS.get(op)
    if planner is None:
        raise BadRequest(f"operation {op!r} is not available on a cluster")
    change = planner(state, args)
    _check_protected(state, change)
    return change


def _check_protected(state: DesiredState, change: Change) -> None:
    """403 `protected` for a change to what the KDB interprets (kdb.protected): refused here,
    before the desired state holds it or any member is asked."""
    puts = {key.name: key for key in change.puts}
    for name in sorted(change.names, key=names.sort_key):
        old, new = state.get(name), puts.get(name)
        reason = refusal(
            name, None if old is None else old.meta, None if new is None else new.meta
        )
        if reason is not None:
            raise Protected(reason, key=name)


# -- checks shared by the writes ---------------------------------------------------------------


def _expect(state: DesiredState, name: str, args: Mapping[str, Any]) -> None:
    """Compare-and-set against the desired state: 409 unless `name` has the expected revision."""
    if "expect" not in args:
        return
    expected, current = args["expect"], revision_of(state.get(name))
    if current != expected:
        found = "is not set" if current is None else f"has revision {current}"
        wanted = "not to be set" if expected is None else f"revision {expected}"
        raise Conflict(
            f"cluster key {name} {found}, but the write expected {wanted}:"
            " it changed since it was read",
            key=name,
        )


def _text(op: str, args: Mapping[str, Any], member: str) -> str:
    raw = args.get(member)
    if not isinstance(raw, str):
        raise BadRequest(f"{op}: argument {member!r} must be a string, got {raw!r:.60}")
    return raw


def _value(op: str, args: Mapping[str, Any]) -> str | None:
    if "value" not in args:
        raise BadRequest(f"{op}: argument 'value' is missing")
    raw = args["value"]
    if raw is not None and not isinstance(raw, str):
        raise BadRequest(f"{op}: argument 'value' must be a string or null, got {raw!r:.60}")
    return raw


def _meta_name(name: Any) -> str:
    try:
        valid = isinstance(name, str) and bool(name)
        valid = valid and names.canonical("meta:/" + name) == "meta:/" + name
    except InvalidNameError:
        valid = False
    if not valid:
        raise BadRequest(f"{name!r} is no metadata name (such as 'check/type' or 'description')")
    return str(name)


def _meta_patch(op: str, raw: Any, *, removals: bool) -> dict[str, str | None]:
    if not isinstance(raw, dict):
        raise BadRequest(f"{op}: argument 'meta' must be an object of metadata name to string")
    for name, value in raw.items():
        _meta_name(name)
        if not (isinstance(value, str) or (removals and value is None)):
            raise BadRequest(f"{op}: metadata {name!r} must be a string, got {value!r:.60}")
    return dict(raw)


def _flag(op: str, args: Mapping[str, Any], member: str) -> bool:
    raw = args.get(member, False)
    if not isinstance(raw, bool):
        raise BadRequest(f"{op}: argument {member!r} must be true or false, got {raw!r:.60}")
    return raw


def _changed(state: DesiredState, keys: list[DesiredKey]) -> tuple[DesiredKey, ...]:
    """The keys whose content differs from the desired state (a put of the same is no change)."""
    return tuple(key for key in keys if state.get(key.name) != key)


# -- the writes --------------------------------------------------------------------------------


def _set(state: DesiredState, args: Mapping[str, Any]) -> Change:
    name = stored_name("set", args.get("key"))
    value = _value("set", args)
    patch = _meta_patch("set", args.get("meta", {}), removals=True)
    _expect(state, name, args)
    old = state.get(name)
    new = DesiredKey(name, value, patched({} if old is None else old.meta, patch))
    result = {"key": name, "revision": revision_of(new), "created": old is None}
    return Change(_changed(state, [new]), (), result)


def _rm(state: DesiredState, args: Mapping[str, Any]) -> Change:
    name = stored_name("rm", args.get("key"))
    _expect(state, name, args)
    if _flag("rm", args, "recursive"):
        victims = [key.name for key in state.below(name)]
    else:
        victims = [name] if state.get(name) is not None else []
    if not victims:
        raise NotFound(f"rm: the cluster sets no key at or below {name}", key=name)
    return Change((), tuple(victims), {"removed": len(victims)})


def _relocate(op: str, state: DesiredState, args: Mapping[str, Any]) -> Change:
    source = stored_name(op, args.get("key"))
    target = stored_name(op, args.get("target"), "target")
    recursive, force = _flag(op, args, "recursive"), _flag(op, args, "force")
    if source == target or (recursive and names.is_below(target, source)):
        raise BadRequest(f"{op}: target {target} lies in the source {source}", key=target)
    _expect(state, source, args)
    found = state.get(source)
    keys = state.below(source) if recursive else [found] if found is not None else []
    if not keys:
        raise NotFound(f"{op}: the cluster does not set the source key {source}", key=source)
    namespace, target_parts = names.split(target)
    moved = [
        DesiredKey(
            names.join(namespace, target_parts + names.relative_parts(key.name, source)),
            key.value,
            key.meta,
        )
        for key in keys
    ]
    if not force:
        for key in moved:
            if state.get(key.name) is not None:
                raise Conflict(
                    f"{op}: the cluster already sets the target key {key.name};"
                    " pass force to overwrite it",
                    key=key.name,
                )
    counted = "copied" if op == "cp" else "moved"
    arrived = {key.name for key in moved}
    removals = () if op == "cp" else tuple(k.name for k in keys if k.name not in arrived)
    return Change(_changed(state, moved), removals, {"target": target, counted: len(moved)})


def _meta_write(
    op: str, state: DesiredState, args: Mapping[str, Any], patch: dict[str, str | None]
) -> Change:
    name = stored_name(op, args.get("key"))
    _expect(state, name, args)
    old = state.get(name)
    if old is None and op == "meta-rm":
        raise NotFound(f"{op}: the cluster does not set the key {name}", key=name)
    value = None if old is None else old.value
    new = DesiredKey(name, value, patched({} if old is None else old.meta, patch))
    return Change(_changed(state, [new]), (), {"key": name, "revision": revision_of(new)})


def _meta_set(state: DesiredState, args: Mapping[str, Any]) -> Change:
    name = _meta_name(args.get("name"))
    return _meta_write("meta-set", state, args, {name: _text("meta-set", args, "value")})


def _meta_rm(state: DesiredState, args: Mapping[str, Any]) -> Change:
    return _meta_write("meta-rm", state, args, {_meta_name(args.get("name")): None})


def _meta_bulk(state: DesiredState, args: Mapping[str, Any]) -> Change:
    if "meta" not in args:
        raise BadRequest("meta-bulk: argument 'meta' is missing")
    patch = _meta_patch("meta-bulk", args["meta"], removals=True)
    return _meta_write("meta-bulk", state, args, patch)


def _subtree(
    state: DesiredState, root: str, keys: list[DesiredKey], *, replace: bool, overwrite: bool
) -> Change:
    """Merge `keys` into the subtree at `root` (or make it exactly them with `replace`)."""
    wanted = {key.name for key in keys}
    removals = (
        tuple(key.name for key in state.below(root) if key.name not in wanted) if replace else ()
    )
    if overwrite or replace:
        puts = _changed(state, keys)
    else:
        puts = tuple(key for key in keys if state.get(key.name) is None)
    return Change(puts, removals, {"written": len(puts), "removed": len(removals)})


def _entry(raw: Any, index: int, root: str, op: str = "set-all") -> DesiredKey:
    where = f"{op}: keys[{index}]"
    if not isinstance(raw, dict) or set(raw) - _ENTRY_MEMBERS or not {"name", "value"} <= set(raw):
        raise BadRequest(f"{where} must be an object {{name, value, meta?}}, got {raw!r:.60}")
    name = _at_or_below(root, stored_name(op, raw["name"], f"keys[{index}].name"), where)
    value = _value(op, raw)
    meta = _meta_patch(op, raw.get("meta", {}), removals=False)
    return DesiredKey(name, value, {k: v for k, v in meta.items() if v is not None})


def _at_or_below(root: str, name: str, where: str) -> str:
    if not names.is_below_or_same(name, root):
        raise BadRequest(f"{where}: key {name} is not at or below {root}", key=name)
    return name


def _restore(state: DesiredState, args: Mapping[str, Any]) -> Change:
    """Keys put back to earlier states at once (docs/protocol.md §4, `restore`), each
    compared with the revision it must have now."""
    root = stored_name("restore", args.get("key"))
    raw_keys, raw_removals = args.get("keys"), args.get("removals")
    expected = args.get("expect")
    if not isinstance(raw_keys, list) or not isinstance(raw_removals, list):
        raise BadRequest("restore: arguments 'keys' and 'removals' must be lists")
    if not isinstance(expected, dict):
        raise BadRequest("restore: argument 'expect' must map key names to a revision or null")
    for name, revision in expected.items():
        guarded = _at_or_below(root, stored_name("restore", name), "restore: expect")
        _expect(state, guarded, {"expect": revision})
    puts = [_entry(raw, index, root, "restore") for index, raw in enumerate(raw_keys)]
    removals = [
        _at_or_below(root, stored_name("restore", raw, f"removals[{index}]"), "restore: removals")
        for index, raw in enumerate(raw_removals)
    ]
    gone = tuple(name for name in removals if state.get(name) is not None)
    puts_changed = _changed(state, puts)
    return Change(puts_changed, gone, {"restored": len(puts_changed) + len(gone)})


def _set_all(state: DesiredState, args: Mapping[str, Any]) -> Change:
    root = stored_name("set-all", args.get("key"))
    raw_keys = args.get("keys")
    if not isinstance(raw_keys, list):
        raise BadRequest(f"set-all: argument 'keys' must be a list, got {raw_keys!r:.60}")
    keys = [_entry(raw, index, root) for index, raw in enumerate(raw_keys)]
    if len({key.name for key in keys}) != len(keys):
        raise BadRequest("set-all: argument 'keys' names a key more than once")
    return _subtree(state, root, keys, replace=True, overwrite=True)


def _import(state: DesiredState, args: Mapping[str, Any]) -> Change:
    root = stored_name("import", args.get("key"))
    fmt, strategy = args.get("format"), args.get("strategy", "preserve")
    if fmt not in FORMATS:
        raise BadRequest(f"import: argument 'format' must be one of {', '.join(FORMATS)}")
    if strategy not in STRATEGIES:
        raise BadRequest(f"import: argument 'strategy' must be one of {', '.join(STRATEGIES)}")
    data = _text("import", args, "data")
    try:
        document = get_format(fmt).read(data.encode(), root)
    except KDBError as error:
        raise BadRequest(
            f"import: the {fmt} data for {root} does not parse: {error.message}",
            code="validation",
            key=root,
            elektra="C03100",
        ) from None
    keys = [from_kdb_key(key) for key in document.keys if names.is_below_or_same(key.name, root)]
    return _subtree(
        state, root, keys, replace=strategy == "replace", overwrite=strategy == "overwrite"
    )


_PLANNERS: dict[str, Callable[[DesiredState, Mapping[str, Any]], Change]] = {
    "set": _set,
    "rm": _rm,
    "mv": lambda state, args: _relocate("mv", state, args),
    "cp": lambda state, args: _relocate("cp", state, args),
    "meta-set": _meta_set,
    "meta-rm": _meta_rm,
    "meta-bulk": _meta_bulk,
    "set-all": _set_all,
    "import": _import,
    "restore": _restore,
}
WRITES = frozenset(_PLANNERS)
