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
mapping_keys = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=6).filter(
    lambda part: names.array_index(part) is None
)


def _keeps_its_text(text: str) -> bool:
    """Values that no format turns into a boolean or number (those read back normalised,
    ``yes`` as ``1``, ``1.50`` as ``1.5``, so they are tested with examples instead)."""
    from elektraweb.kdb.storage.tree import BOOLEAN_FALSE, BOOLEAN_TRUE

    folded = text.strip().lower()
    if folded in BOOLEAN_TRUE or folded in BOOLEAN_FALSE:
        return False
    try:
        float(text)
    except ValueError:
        return True
    return False


# Words YAML 1.1 (PyYAML, the reference reader) takes for booleans, null or numbers.
SPECIAL_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n", "nan", "inf"}
# Key names and texts every format reads back as strings (a letter first: never a number).
words = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True).filter(
    lambda word: word not in SPECIAL_WORDS
)
texts = st.from_regex(
    r"[a-zA-Z][a-zA-Z0-9./_-]{0,8}( [a-zA-Z0-9./_-]{1,8}){0,2}", fullmatch=True
).filter(lambda text: text.lower() not in SPECIAL_WORDS)


# Short texts of any characters, the leaves of generated documents.
strings = st.text(st.characters(codec="utf-8"), max_size=10)
# New values for existing keys, as a user would type them.
edited_values = strings.filter(_keeps_its_text)


def documents(
    leaves: st.SearchStrategy[Any],
    keys: st.SearchStrategy[str] = mapping_keys,
    max_leaves: int = 12,
) -> st.SearchStrategy[dict[str, Any]]:
    """Nested mappings and lists with a mapping at the root."""
    nodes = st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3)
        ),
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


def edited(keys: KeySet, data: st.DataObject) -> KeySet:
    """A user's edit of a document's keys: a value changed, a leaf removed, a key added."""
    result = keys.copy()
    leaves = [key for key in result if key.value is not None]
    if leaves:
        data.draw(st.sampled_from(leaves), label="changed").value = data.draw(edited_values)
    # Leaves outside arrays, so that no array gets a gap and no mapping element vanishes.
    removable = [
        key for key in leaves if not any(names.array_index(part) is not None for part in key.parts)
    ]
    if removable:
        result.remove(data.draw(st.sampled_from(removable), label="removed").name)
    result.add(Key(names.child(MOUNTPOINT, "added by hand"), data.draw(edited_values)))
    return result


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
