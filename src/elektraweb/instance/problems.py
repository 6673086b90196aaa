"""Stored values that break their metadata, as ``get`` reports them (docs/protocol.md §4).

A file edited by hand may hold a value no set would have accepted; get still answers it, and
names the problem so that the operator sees what to fix. The keys a get returns already carry
their metadata with the specification applied, so they are checked as returned.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.validation import find_problems
from elektraweb.operations.representation import key_from_wire


def problems_of(node: dict[str, Any]) -> list[dict[str, str]]:
    """``{key, message, elektra}`` for each returned key (the node and its ``children``, not
    the names in ``ls``) whose value its checks refuse, in key order."""
    # Only checks can fail (find_problems skips the rest too): most gets build no key.
    checked = [
        key_from_wire(found.get("resolved", found["path"]), found["value"], found["meta"])
        for found in _returned(node)
        if any(name.startswith("check/") for name in found["meta"])
    ]
    if not checked:
        return []
    return [
        {"key": problem.key or "", "message": problem.message, "elektra": problem.code}
        for problem in find_problems(KeySet(checked))
    ]


def _returned(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if node["exists"]:
        yield node
    for child in node.get("children", ()):
        yield from _returned(child)
