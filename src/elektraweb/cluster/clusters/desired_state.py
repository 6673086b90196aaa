"""A cluster's desired state as a key set, and the reads a cluster answers from it.

Reads of a cluster (`get`, `ls`, `find`, `export`) answer in exactly the shapes an instance
answers (docs/protocol.md §4), but from the keys the cluster sets, never from a member.
Cluster key names are concrete names in a namespace kept in files (`system:/app/port`); they are
applied to every member under the same name.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Iterable, Mapping
from typing import Any

from elektraweb.cluster.api.errors import BadRequest
from elektraweb.cluster.store.cluster_keys import DesiredKey
from elektraweb.kdb import cascade, names
from elektraweb.kdb.errors import InvalidNameError, KDBError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.mounts import PERSISTENT_NAMESPACES
from elektraweb.kdb.posixre import PosixRegexError
from elektraweb.kdb.search import (
    DEFAULT_SEARCH_LIMITS,
    SearchLimits,
    compile_pattern,
    search_keys,
)
from elektraweb.kdb.storage import FORMATS, get_format
from elektraweb.wire.revision import revision

BINARY_META = "binary"
_LOOKUP_NAMESPACES = names.NAMESPACES[2:]  # every namespace a key can live in, in order


def key_name(op: str, raw: Any, member: str = "key") -> str:
    """The canonical name in `raw`; 400 `invalid-name` naming it otherwise."""
    if not isinstance(raw, str):
        raise BadRequest(f"{op}: argument {member!r} must be a key name, got {raw!r:.60}")
    try:
        return names.canonical(raw)
    except InvalidNameError as error:
        raise BadRequest(error.message, code="invalid-name", key=raw) from None


def stored_name(op: str, raw: Any, member: str = "key") -> str:
    """A name a cluster can own: in one of the namespaces kept in files, as on an instance."""
    name = key_name(op, raw, member)
    namespace = names.namespace_of(name)
    if namespace not in PERSISTENT_NAMESPACES:
        where = "a cascading name" if namespace == names.CASCADING else f"in {namespace}:/"
        raise BadRequest(
            f"{op}: key {name} is {where}; a cluster sets keys in one of "
            + ", ".join(ns + ":/" for ns in PERSISTENT_NAMESPACES),
            key=name,
        )
    return name


def state_of(key: DesiredKey | None) -> dict[str, Any] | None:
    """`{value, meta}` as events and the audit log carry a key; None for a missing one."""
    return None if key is None else {"value": key.value, "meta": dict(key.meta)}


def revision_of(key: DesiredKey | None) -> str | None:
    return None if key is None else revision(key.value, key.meta)


def to_kdb_key(key: DesiredKey) -> Key:
    """The KDB key of a desired key; a binary key's base64 value becomes its bytes."""
    if key.value is not None and BINARY_META in key.meta:
        try:
            return Key(key.name, base64.b64decode(key.value, validate=True), key.meta)
        except (binascii.Error, ValueError):
            pass  # kept as text: members refuse it when it is applied
    return Key(key.name, key.value, key.meta)


def from_kdb_key(key: Key) -> DesiredKey:
    """The desired key of a KDB key (binary values as base64, as the protocol carries them)."""
    value = key.value
    if isinstance(value, bytes):
        value = base64.b64encode(value).decode("ascii")
    elif value is not None and BINARY_META in key.meta:
        value = base64.b64encode(value.encode()).decode("ascii")
    return DesiredKey(key.name, value, dict(key.meta))


class DesiredState:
    """The keys a cluster sets, by name and in KeySet order."""

    def __init__(self, keys: Iterable[DesiredKey]) -> None:
        self.keys: dict[str, DesiredKey] = {key.name: key for key in keys}
        self._keyset = KeySet(Key(key.name, key.value, key.meta) for key in self.keys.values())

    def get(self, name: str) -> DesiredKey | None:
        return self.keys.get(name)

    def below(self, name: str) -> list[DesiredKey]:
        """The key `name` (if set) and every key below it, in KeySet order."""
        return [self.keys[found] for found in self._keyset.below(name).names()]

    def owner_of_any(self, exact: Iterable[str], subtrees: Iterable[str]) -> str | None:
        """The first name set here among `exact`, or at or below one of `subtrees`."""
        for name in exact:
            if name in self.keys:
                return name
        for root in subtrees:
            found = self._keyset.below(root).names()
            if found:
                return found[0]
        return None

    # -- reads -----------------------------------------------------------------------------

    def read(
        self, op: str, args: Mapping[str, Any], search: SearchLimits = DEFAULT_SEARCH_LIMITS
    ) -> dict[str, Any]:
        """Answer a read operation as an instance holding exactly these keys would; `search`
        bounds a `find`."""
        if op == "get":
            depth = _count(op, args, "depth", 0, 0, 9)
            ls_limit = _count(op, args, "ls_limit", 10_000, 0, 1_000_000)
            return self._describe(key_name(op, args.get("key")), depth, ls_limit)
        if op == "ls":
            return self._ls(op, args)
        if op == "find":
            return self._find(op, args, search)
        if op == "export":
            return self._export(op, args)
        raise BadRequest(f"operation {op!r} is not available on a cluster")

    def _lookup(self, name: str) -> Key | None:
        if names.namespace_of(name) == names.CASCADING:
            return cascade.lookup(self._keyset, name)
        return self._keyset.lookup(name)

    def _concrete(self, name: str) -> list[str]:
        """`name` itself, or for a cascading name the same name in every namespace."""
        if names.namespace_of(name) != names.CASCADING:
            return [name]
        return [names.with_namespace(name, namespace) for namespace in _LOOKUP_NAMESPACES]

    def _children(self, name: str) -> list[str]:
        """Names one level below `name`, levels that exist only implicitly included."""
        if names.namespace_of(name) != names.CASCADING:
            return self._keyset.children(name, depth=1)
        parts = {
            names.basename(child)
            for concrete in self._concrete(name)
            for child in self._keyset.children(concrete, depth=1)
        }
        return sorted((names.child(name, part) for part in parts), key=names.sort_key)

    def _describe(self, name: str, depth: int, ls_limit: int) -> dict[str, Any]:
        key = self._lookup(name)
        listing = [
            found for concrete in self._concrete(name) for found in self._keyset.below(concrete)
        ]
        node: dict[str, Any] = {
            "exists": key is not None,
            "name": names.basename(name),
            "path": name,
            "ls": [found.name for found in listing[:ls_limit]],
            "count": len(listing),
        }
        if len(listing) > ls_limit:
            node["ls_truncated"] = True
        if key is not None:
            value = key.value if not isinstance(key.value, bytes) else None
            node.update(value=value, meta=dict(key.meta), revision=revision(value, key.meta))
            if key.name != name:
                node["resolved"] = key.name
        if depth > 0:
            node["children"] = [
                self._describe(child, depth - 1, ls_limit) for child in self._children(name)
            ]
        return node

    def _ls(self, op: str, args: Mapping[str, Any]) -> dict[str, Any]:
        name = key_name(op, args.get("key"))
        depth = _count(op, args, "depth", None, 0, 10_000)
        limit = _count(op, args, "limit", 1000, 1, 10_000)
        listing: list[str] = []
        for concrete in self._concrete(name):
            if concrete in self.keys:
                listing.append(concrete)
            listing.extend(self._keyset.children(concrete, depth=depth))
        start = 0
        if args.get("cursor") is not None:
            cursor = names.sort_key(key_name(op, args["cursor"], "cursor"))
            start = bisect.bisect_right(listing, cursor, key=names.sort_key)
        page = listing[start : start + limit]
        return {"keys": page, "next": page[-1] if start + limit < len(listing) else None}

    def _find(self, op: str, args: Mapping[str, Any], search: SearchLimits) -> dict[str, Any]:
        source = args.get("regex")
        if not isinstance(source, str):
            raise BadRequest(f"{op}: argument 'regex' must be a string, got {source!r:.60}")
        try:
            pattern = compile_pattern(source, search)
        except PosixRegexError as error:
            raise BadRequest(f"{op}: argument 'regex' is no valid regex: {error}") from None
        in_values = args.get("values") is True
        under = "/" if args.get("under") is None else key_name(op, args["under"], "under")
        limit = _count(op, args, "limit", search.default_limit, 1, search.max_results)
        candidates = (
            (key.name, key.value)
            for concrete in self._concrete(under)
            for key in self.below(concrete)
        )
        found = search_keys(
            candidates, pattern, in_values=in_values, limit=limit,
            budget_seconds=search.budget_seconds,
        )
        return found.reply()

    def _export(self, op: str, args: Mapping[str, Any]) -> dict[str, Any]:
        root = stored_name(op, args.get("key"))
        fmt = args.get("format")
        if fmt not in FORMATS:
            raise BadRequest(f"{op}: argument 'format' must be one of {', '.join(FORMATS)}")
        keys = KeySet(to_kdb_key(key) for key in self.below(root))
        try:
            data = get_format(fmt).write(keys, root, None)
        except KDBError as error:
            raise BadRequest(
                f"{op}: the keys at {root} cannot be written as {fmt}: {error.message}", key=root
            ) from None
        return {"format": fmt, "data": data.decode("utf-8", "replace")}


def _count(
    op: str, args: Mapping[str, Any], member: str, default: int | None, low: int, high: int
) -> Any:
    """An integer argument in [low, high], or `default` when left out or null."""
    raw = args.get(member)
    if raw is None:
        return default
    if type(raw) is not int or not low <= raw <= high:
        raise BadRequest(
            f"{op}: argument {member!r} must be an integer from {low} to {high}, got {raw!r:.60}"
        )
    return raw
