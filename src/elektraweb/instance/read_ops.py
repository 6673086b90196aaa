"""Reads: get (webd's shape), ls (paged), find and version."""

from __future__ import annotations

import bisect
import re
from importlib import metadata
from typing import Any

from elektraweb.instance.arguments import Args
from elektraweb.instance.context import Host, Operation, Outcome
from elektraweb.instance.mount_ops import mount_list
from elektraweb.instance.representation import key_revision, wire_value
from elektraweb.kdb import cascade, names
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.search import search_keys
from elektraweb.wire.messages import PROTOCOL_VERSION

_NAMESPACES_IN_ORDER = names.NAMESPACES[2:]  # every namespace a key can live in, in order


def _lookup(keys: KeySet, name: str) -> Key | None:
    if names.namespace_of(name) == names.CASCADING:
        return cascade.lookup(keys, name)
    return keys.lookup(name)


def _keys_below(keys: KeySet, name: str) -> list[Key]:
    """Keys at and below ``name`` in KeySet order (in every namespace for a cascading name)."""
    if names.namespace_of(name) != names.CASCADING:
        return list(keys.below(name))
    return [key for namespace in _NAMESPACES_IN_ORDER
            for key in keys.below(names.with_namespace(name, namespace))]


def _child_names(keys: KeySet, name: str) -> list[str]:
    """Names one level below ``name``, including levels that exist only implicitly."""
    if names.namespace_of(name) != names.CASCADING:
        return keys.children(name, depth=1)
    parts: set[str] = set()
    for namespace in _NAMESPACES_IN_ORDER:
        concrete = names.with_namespace(name, namespace)
        parts.update(names.basename(child) for child in keys.children(concrete, depth=1))
    return sorted((names.child(name, part) for part in parts), key=names.sort_key)


def describe(keys: KeySet, name: str, depth: int, ls_limit: int) -> dict[str, Any]:
    """webd's lookup shape for ``name``, with children down to ``depth`` levels."""
    key = _lookup(keys, name)
    listing = [key.name for key in _keys_below(keys, name)]
    node: dict[str, Any] = {
        "exists": key is not None,
        "name": names.basename(name),
        "path": name,
        "ls": listing[:ls_limit],
    }
    if len(listing) > ls_limit:
        node["ls_truncated"] = True
    if key is not None:
        node["value"] = wire_value(key)
        node["meta"] = dict(key.meta)
        node["revision"] = key_revision(key)
        if key.name != name:
            node["resolved"] = key.name
    if depth > 0:
        node["children"] = [
            describe(keys, child, depth - 1, ls_limit) for child in _child_names(keys, name)
        ]
    return node


def get(host: Host, args: Args) -> Outcome:
    name = args.key()
    depth = args.count("depth", 0, 0, 9)
    ls_limit = args.count("ls_limit", 10_000, 1, 1_000_000)
    return Outcome(describe(host.kdb.get(name), name, depth, ls_limit))


def ls(host: Host, args: Args) -> Outcome:
    name = args.key()
    depth = args.optional_count("depth", 0, 10_000)
    limit = args.count("limit", 1000, 1, 10_000)
    cursor = args.optional_key("cursor")
    listing = _listing(host.kdb.get(name), name, depth)
    start = 0 if cursor is None else bisect.bisect_right(
        listing, names.sort_key(cursor), key=names.sort_key
    )
    page = listing[start : start + limit]
    more = start + limit < len(listing)
    return Outcome({"keys": page, "next": page[-1] if more else None})


def _listing(keys: KeySet, name: str, depth: int | None) -> list[str]:
    """The key (if it exists) and the names below it to ``depth``, in KeySet order; for a
    cascading name, that listing in every namespace."""
    if names.namespace_of(name) == names.CASCADING:
        concrete = [names.with_namespace(name, ns) for ns in _NAMESPACES_IN_ORDER]
        return [found for each in concrete for found in _listing(keys, each, depth)]
    listing = keys.children(name, depth=depth)
    if keys.lookup(name) is not None:
        listing.insert(0, name)
    return listing


def find(host: Host, args: Args) -> Outcome:
    limits = host.search
    pattern = args.regex("regex", limits)
    in_values = args.flag("values")
    under = args.optional_key("under") or "/"
    limit = args.count("limit", limits.default_limit, 1, limits.max_results)
    # A snapshot here, on the worker; the matching runs off it, so gets and sets go on.
    candidates = [(key.name, key.text) for key in _keys_below(host.kdb.get(under), under)]

    def match() -> dict[str, Any]:
        return search_keys(
            candidates, pattern, in_values=in_values, limit=limit,
            budget_seconds=limits.budget_seconds,
        ).reply()

    return Outcome({}, off_worker=match)


def kdb_version() -> dict[str, Any]:
    """The KDB's version, as ``kdb --version`` reports it (this package's release)."""
    text = metadata.version("elektraweb")
    numbers = [int(part) for part in re.findall(r"\d+", text)[:3]]
    major, minor, micro = numbers + [0] * (3 - len(numbers))
    return {"version": text, "major": major, "minor": minor, "micro": micro}


def version(host: Host, args: Args) -> Outcome:
    return Outcome(
        {
            "protocol": PROTOCOL_VERSION,
            "elektra": kdb_version(),
            "instance": host.public_key,
            "hostname": host.hostname,
            "mounts": mount_list(host),
        }
    )


OPERATIONS = (
    Operation("get", get, frozenset({"key", "depth", "ls_limit"})),
    Operation("ls", ls, frozenset({"key", "depth", "cursor", "limit"})),
    Operation("find", find, frozenset({"regex", "values", "under", "limit"})),
    Operation("version", version, frozenset()),
)
