"""Reads: get (webd's shape), explain, ls (paged), find and export.

Reads use the store's shared views (``KeyStore.view``): nothing here changes a key, and a
copy of a 100k-key subtree would cost far more than the page of it a request returns.
"""

from __future__ import annotations

from typing import Any

from elektraweb.kdb import cascade, names
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.search import search_keys
from elektraweb.kdb.spec import Specification
from elektraweb.kdb.storage import FORMATS, get_format
from elektraweb.operations.arguments import Args
from elektraweb.operations.representation import key_revision, wire_value
from elektraweb.operations.result import OperationResult
from elektraweb.operations.store import KeyStore

_NAMESPACES_IN_ORDER = names.NAMESPACES[2:]  # every namespace a key can live in, in order


def _lookup(keys: KeySet, name: str) -> Key | None:
    if names.namespace_of(name) == names.CASCADING:
        return cascade.lookup(keys, name)
    return keys.lookup(name)


def _keys_below(keys: KeySet, name: str) -> list[Key]:
    """Keys at and below ``name`` in KeySet order (in every namespace for a cascading name)."""
    if names.namespace_of(name) != names.CASCADING:
        return list(keys.below(name))
    return [
        key
        for namespace in _NAMESPACES_IN_ORDER
        for key in keys.below(names.with_namespace(name, namespace))
    ]


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
        "count": len(listing),
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


def get(store: KeyStore, args: Args) -> OperationResult:
    name = args.key()
    depth = args.count("depth", 0, 0, 9)
    ls_limit = args.count("ls_limit", 10_000, 0, 1_000_000)
    return OperationResult(describe(store.view(name), name, depth, ls_limit))


def explain(store: KeyStore, args: Args) -> OperationResult:
    """How the cascading form of the key resolves, step by step (``kdb get -v``), and the
    metadata its specification gives it."""
    name = names.with_namespace(args.key(), names.CASCADING)
    keys = store.view(name)
    resolved = cascade.lookup(keys, name)
    steps: list[dict[str, Any]] = []
    for tried in cascade.explain(keys, name):
        step: dict[str, Any] = {"name": tried.name, "found": tried.found, "stage": tried.stage}
        found = keys.lookup(tried.name) if tried.found else None
        if found is None and tried.found and resolved is not None:
            found = resolved  # a default made from the spec key's `default`, in no file
        if found is not None and tried.stage != "spec":
            step["value"] = wire_value(found)
        steps.append(step)
    spec_key = steps[0]["name"] if steps and steps[0]["found"] else None
    return OperationResult(
        {
            "key": name,
            "resolved": None if resolved is None else resolved.name,
            "value": None if resolved is None else wire_value(resolved),
            "spec": {
                "key": spec_key,
                "meta": dict(Specification(keys).meta_for(Key(name, None))),
            },
            "steps": steps,
        }
    )


def ls(store: KeyStore, args: Args) -> OperationResult:
    name = args.key()
    depth = args.optional_count("depth", 0, 10_000)
    limit = args.count("limit", 1000, 1, 10_000)
    cursor = args.optional_key("cursor")
    # One name more than the page tells whether another page follows.
    page = _listing(store.view(name), name, depth, cursor, limit + 1)
    more = len(page) > limit
    page = page[:limit]
    return OperationResult({"keys": page, "next": page[-1] if more else None})


def _listing(
    keys: KeySet, name: str, depth: int | None, after: str | None, limit: int
) -> list[str]:
    """Up to ``limit`` names that sort after ``after``: the key (if it exists) and the names
    below it to ``depth``, in KeySet order; for a cascading name, that listing in every
    namespace. Its cost grows with the page, not with the subtree."""
    if names.namespace_of(name) == names.CASCADING:
        found: list[str] = []
        for namespace in _NAMESPACES_IN_ORDER:
            concrete = names.with_namespace(name, namespace)
            found += _listing(keys, concrete, depth, after, limit - len(found))
            if len(found) == limit:
                break
        return found
    listing = []
    if keys.lookup(name) is not None and (
        after is None or names.sort_key(name) > names.sort_key(after)
    ):
        listing.append(name)
    listing += keys.children(name, depth=depth, after=after, limit=limit - len(listing))
    return listing


def find(store: KeyStore, args: Args) -> OperationResult:
    limits = store.search
    pattern = args.regex("regex", limits)
    in_values = args.flag("values")
    under = args.optional_key("under") or "/"
    limit = args.count("limit", limits.default_limit, 1, limits.max_results)
    # A snapshot here, with the store; the matching runs without it, so gets and sets go on.
    candidates = [(key.name, key.text) for key in _keys_below(store.view(under), under)]

    def match() -> dict[str, Any]:
        return search_keys(
            candidates,
            pattern,
            in_values=in_values,
            limit=limit,
            budget_seconds=limits.budget_seconds,
        ).reply()

    return OperationResult({}, deferred=match)


def export(store: KeyStore, args: Args) -> OperationResult:
    root = args.stored_key()
    fmt_name = args.choice("format", FORMATS)
    data = get_format(fmt_name).write(store.view(root).below(root), root, None)
    return OperationResult({"format": fmt_name, "data": data.decode("utf-8", "replace")})
