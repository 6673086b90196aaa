"""Generated documents for the tree formats, and the keys Elektra expects from them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

from elektraweb.kdb import names
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet

MOUNTPOINT = "user:/app"

# Mapping keys a tree format can hold as key name parts (array-like ones are refused).
mapping_keys = st.text(st.characters(codec="utf-8", exclude_characters="\x00"),
                       max_size=6).filter(lambda part: names.array_index(part) is None)


def documents(leaves: st.SearchStrategy[Any], keys: st.SearchStrategy[str] = mapping_keys,
              max_leaves: int = 12) -> st.SearchStrategy[dict[str, Any]]:
    """Nested mappings and lists with a mapping at the root."""
    nodes = st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=3)
        | st.dictionaries(keys, children, max_size=3),
        max_leaves=max_leaves,
    )
    return st.dictionaries(keys, nodes, max_size=4)


def expected_keys(document: dict[str, Any], mountpoint: str = MOUNTPOINT) -> KeySet:
    """The keys of a document of strings and nulls, written down independently of the code
    under test: leaves are keys, arrays carry ``array``, empty mappings are keys without value."""
    return KeySet(_keys(document, mountpoint, True))


def _keys(node: Any, name: str, is_root: bool) -> Iterator[Key]:
    if isinstance(node, dict):
        if not node and not is_root:
            yield Key(name)
        for part, child in node.items():
            yield from _keys(child, names.child(name, part), False)
    elif isinstance(node, list):
        yield Key(name, None, {"array": names.array_part(len(node) - 1) if node else ""})
        for index, child in enumerate(node):
            yield from _keys(child, names.child(name, names.array_part(index)), False)
    else:
        yield Key(name, node)


def changed_lines(before: bytes, after: bytes) -> tuple[list[str], list[str]]:
    """Lines only in ``before`` and lines only in ``after``, in order (a line diff)."""
    import difflib

    old, new = before.decode().splitlines(), after.decode().splitlines()
    removed: list[str] = []
    added: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed.extend(old[i1:i2])
            added.extend(new[j1:j2])
    return removed, added
