"""Nested mappings and arrays as keys: the reading and typing JSON, YAML and TOML share.

Reading walks a parsed document (plain ``dict``/``list`` trees, which ruamel.yaml's and the
standard parsers' results are) and emits one key per value:

- a scalar becomes a key with its text (``None`` for null), booleans as ``1``/``0``;
- an array becomes a key without value whose metadata ``array`` is the last index (``#2``,
  ``""`` when empty), its elements the parts ``#0``, ``#1``, ``#_10``...;
- an empty mapping becomes a key without value; a non-empty mapping is implied by its children.

For writing, ``typed_scalar`` picks the native value a key's text becomes; changing the
round-trip document itself is `elektraweb.kdb.storage.reconcile`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime, time
from operator import itemgetter

from elektraweb.kdb import collector, names
from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key, Value
from elektraweb.kdb.keyset import KeySet

ARRAY = "array"

BOOLEAN_TRUE = frozenset({"1", "yes", "on", "true", "enabled", "enable"})
BOOLEAN_FALSE = frozenset({"0", "no", "off", "false", "disabled", "disable"})
# The spellings of a new boolean value that become the format's own true/false; any other
# (``no``, ``On``) stays a string, so that the file keeps the spelling it was given in.
_NATIVE_BOOLEAN = frozenset({"1", "0", "true", "false"})
_INTEGER_TYPES = frozenset(
    {
        "short",
        "unsigned_short",
        "long",
        "unsigned_long",
        "long_long",
        "unsigned_long_long",
    }
)
_FLOAT_TYPES = frozenset({"float", "double", "long_double"})
_INTEGER = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_NON_FINITE = frozenset({"inf", "-inf", "+inf", "nan"})


def child_name(name: str, part: str) -> str:
    """The name of ``part`` (unescaped) directly below the canonical ``name``."""
    return names.prefix_below(name) + names.escape_part(part)


def scalar_text(value: object) -> Value:
    """The key value of a parsed scalar; raises TypeError for types that have no text form."""
    if value is None:
        return None
    if isinstance(value, str):
        return str(value)  # drops subclasses such as ruamel.yaml's quoted strings
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return float.__repr__(float(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(type(value).__name__)


# Parts that are their own escaped form (``names.escape_part`` would return them as they are).
_NEEDS_NO_ESCAPE = re.compile(r"[^\\/#%.\x00][^\\/\x00]*")


def _string_part(raw: object) -> str | None:
    return raw if isinstance(raw, str) else None


def keys_from_tree(
    root: object,
    mountpoint: str,
    format_name: str,
    text_of: Callable[[object], Value] = scalar_text,
    part_of: Callable[[object], str | None] = _string_part,
) -> KeySet:
    """The keys of a parsed document (``dict``/``list``/scalars) mounted at ``mountpoint``.

    Each key is named from its parent's name and parts (``Key.parsed``), not parsed from
    text, and the keys come out in libelektra's order (a mapping's members sorted by part,
    an array's elements in index order: parts hold no NUL, so comparing them as text orders
    them like their UTF-8 bytes), so the KeySet needs no sort: reading a big file costs
    about one Key object per value on top of the parser.
    """
    walk = _Walk(mountpoint, format_name, text_of, part_of)
    found: dict[str, Key] = {}
    walk.visit(root, walk.mountpoint, walk.root_parts, True, found)
    return KeySet.ordered(found)


def deferred_keys_from_tree(
    root: object, mountpoint: str, format_name: str, *, hash_names: bool = True
) -> KeySet:
    """The keys ``keys_from_tree`` makes of a document of ``str`` member names and JSON's
    scalars, as a deferred KeySet (``KeySet.deferred``): the document is checked now (a
    malformed one raises as ``keys_from_tree`` does), its keys are built when first looked
    into. ``root`` must never change afterwards (a parser's result that nothing else holds).
    ``hash_names=False`` tells that no member name starts with ``#`` (its text shows none),
    so no name needs to be checked for looking like an array index.
    """
    walk = _Walk(mountpoint, format_name, scalar_text, _string_part)
    walk.hash_names = hash_names
    count = walk.count(root, walk.root_parts, True)
    return KeySet.deferred(TreeKeys(walk, root, walk.root_parts, count, {}))


class TreeKeys:
    """The keys of a (part of a) parsed document, built on the first call of ``keys``: the
    ``KeySource`` of a deferred KeySet. The sources of one document share the keys they
    built (``made``), so each name has one Key object however the document is looked at."""

    def __init__(self, walk: _Walk, node: object, parts: tuple[str, ...], count: int | None,
                 made: dict[str, Key]) -> None:  # fmt: skip
        self._walk, self._node, self._count, self._made = walk, node, count, made
        self.namespace, self.parts = walk.namespace, parts
        self._built: dict[str, Key] | None = None

    def __len__(self) -> int:
        if self._count is None:
            self._count = self._walk.count(self._node, self.parts, self._is_root())
        return self._count

    def _is_root(self) -> bool:
        return self.parts == self._walk.root_parts

    def fresh(self) -> dict[str, Key]:
        built: dict[str, Key] = {}
        with collector.paused():
            self._walk.visit(
                self._node, self._walk.name_at(self.parts), self.parts, self._is_root(), built
            )
        return built

    def keys(self) -> dict[str, Key]:
        built = self._built
        if built is None:
            built = self.fresh()
            made = self._made
            if made:  # keys another source of the document built already are the same
                for name in built.keys() & made.keys():
                    built[name] = made[name]
            made.update(built)
            self._built = built
        return built

    def below(self, parts: tuple[str, ...]) -> TreeKeys | None:
        node = self._node_at(parts)
        return None if node is _ABSENT else TreeKeys(self._walk, node, parts, None, self._made)

    def find(self, name: str, parts: tuple[str, ...]) -> Key | None:
        node = self._node_at(parts)
        if node is _ABSENT or (isinstance(node, dict) and node):
            return None  # no such node, or a mapping with members: it has no key of its own
        return TreeKeys(self._walk, node, parts, None, self._made).keys().get(name)

    def _node_at(self, parts: tuple[str, ...]) -> object:
        """The node at ``parts`` (at or below ``self.parts``), or ``_ABSENT``."""
        node = self._node
        for part in parts[len(self.parts) :]:
            if isinstance(node, dict):
                if part not in node:
                    return _ABSENT
                node = node[part]
            elif isinstance(node, list):
                index = names.array_index(part)
                if index is None or index >= len(node):
                    return _ABSENT
                node = node[index]
            else:
                return _ABSENT
        return node


_ABSENT = object()


class _Walk:
    """How the nodes of a parsed document below a mountpoint become keys."""

    def __init__(self, mountpoint: str, format_name: str, text_of: Callable[[object], Value],
                 part_of: Callable[[object], str | None]) -> None:  # fmt: skip
        self.mountpoint = names.canonical(mountpoint)
        self.namespace, self.root_parts = names.split(self.mountpoint)
        self.format_name, self.text_of, self.part_of = format_name, text_of, part_of
        self.hash_names = True  # whether a member name may start with ``#``

    def named(self, name: str, parts: tuple[str, ...], value: Value = None,
              meta: dict[str, str] | None = None) -> Key:  # fmt: skip
        if len(parts) < 2:  # at or right below a namespace's root: let the name be checked
            return Key(name, value, meta)
        return Key.parsed(name, self.namespace, parts, value, meta)

    def part_named(self, raw: object, name: str) -> str:
        part = self.part_of(raw)
        if part is None:
            raise ResourceError(
                f"{self.format_name}: mapping key {raw!r} below {name} is not a string", key=name
            )
        return part

    def escaped_part(self, part: str, name: str) -> str:
        if _NEEDS_NO_ESCAPE.fullmatch(part):
            return part
        if part[:1] == "#" and names.array_index(part) is not None:
            raise ResourceError(
                f"{self.format_name}: mapping key {part!r} below {name} looks like an array "
                "index, which Elektra cannot tell from an array element",
                key=name,
            )
        return names.escape_part(part)

    def all_plain(self, mapping: dict[object, object]) -> bool:
        """Whether every member name of ``mapping`` is a ``str`` that is its own escaped
        form (checked in C, not member by member)."""
        joined = _joined(mapping) if self.part_of is _string_part else None
        if not joined or joined[0] in _ESCAPED_FIRST or joined[-1] == "\x00":
            return False  # no members, or the first part or the last one is not plain
        return (not any(needle in joined for needle in _SOME_PART_NEEDS_ESCAPE)
                and joined.count("\x00") == len(mapping) - 1)  # fmt: skip

    def text(self, node: object, name: str) -> Value:
        try:
            return self.text_of(node)
        except TypeError as error:
            raise ResourceError(
                f"{self.format_name}: {name} holds a value of unsupported type {error}", key=name
            ) from None

    def visit(self, node: object, name: str, parts: tuple[str, ...], is_root: bool,
              found: dict[str, Key]) -> None:  # fmt: skip
        """Add the keys of ``node`` (named ``name``, ``parts``) to ``found``, in order."""
        if isinstance(node, dict):
            if not node and not is_root:
                found[name] = self.named(name, parts)
            prefix = names.prefix_below(name)
            plain = self.all_plain(node)
            if plain:  # the parts are the mapping's keys as they are
                members = sorted(node.items(), key=_first)
            else:
                members = sorted(((self.part_named(raw, name), child)
                                  for raw, child in node.items()), key=_first)  # fmt: skip
            new_key, namespace = Key.parsed, self.namespace
            for part, child in members:
                member_name = prefix + (part if plain else self.escaped_part(part, name))
                if type(child) is str and parts:  # the common leaf, without a call
                    found[member_name] = new_key(member_name, namespace, (*parts, part), child)
                else:
                    self.visit(child, member_name, (*parts, part), False, found)
        elif isinstance(node, list):
            last = names.array_part(len(node) - 1) if node else ""
            found[name] = self.named(name, parts, None, {ARRAY: last})
            prefix = names.prefix_below(name)
            for index, child in enumerate(node):
                part = names.array_part(index)
                self.visit(child, prefix + part, (*parts, part), False, found)
        elif not (is_root and node is None):
            found[name] = self.named(name, parts, self.text(node, name))

    def name_at(self, parts: tuple[str, ...]) -> str:
        return self.mountpoint if parts == self.root_parts else names.join(self.namespace, parts)

    def count(self, node: object, parts: tuple[str, ...], is_root: bool) -> int:
        """How many keys ``visit`` adds for the node at ``parts`` of a document of ``str``
        member names, raising what it would raise: a mapping of text values costs no work
        per member, and a name is made only to be named in an error."""
        if is_root and not self.root_parts:  # names right below a namespace's root are checked
            found: dict[str, Key] = {}  # as names (``named``): build them (a rare mount)
            self.visit(node, self.mountpoint, (), True, found)
            return len(found)
        if isinstance(node, dict):
            keys = 0 if node or is_root else 1
            checked = self.hash_names and _may_name_an_index(node)
            if not checked and _only_text(node):
                return keys + len(node)  # a key per member, and no name to refuse
            for part, child in node.items():
                if checked:  # refused as ``visit`` refuses it
                    name = self.name_at(parts)
                    self.escaped_part(self.part_named(part, name), name)
                keys += 1 if type(child) is str else self.count(child, (*parts, part), False)
            return keys
        if isinstance(node, list):
            return 1 + sum(self.count(child, (*parts, names.array_part(index)), False)
                           for index, child in enumerate(node))  # fmt: skip
        if is_root and node is None:
            return 0
        try:
            self.text_of(node)
        except TypeError:
            self.text(node, self.name_at(parts))  # raises, naming the key
        return 1


def _only_text(mapping: dict[object, object]) -> bool:
    """Whether every value of ``mapping`` is a ``str``: joining them is one call in C that
    fails on any other value (faster than collecting their types)."""
    try:
        "".join(mapping.values())  # type: ignore[arg-type]
    except TypeError:
        return False
    return True


def _may_name_an_index(mapping: dict[object, object]) -> bool:
    """Whether a member name of ``mapping`` starts with ``#`` (or is not a ``str``)."""
    joined = _joined(mapping)
    return joined is None or joined[:1] == "#" or "\x00#" in joined


_first = itemgetter(0)


def _joined(mapping: dict[object, object]) -> str | None:
    """The mapping's keys joined by NUL; None unless all are ``str``."""
    try:
        return "\x00".join(mapping)  # type: ignore[arg-type]
    except TypeError:
        return None


# What ``_NEEDS_NO_ESCAPE`` refuses at the start of a part, and (as substrings of parts
# joined by NUL) anywhere in one or at the start of a part after the first; a NUL in a part
# shows in the count of NULs. Each is a search in C, faster than one regular expression.
_ESCAPED_FIRST = "#%.\x00"
_SOME_PART_NEEDS_ESCAPE = ("\\", "/", *("\x00" + first for first in _ESCAPED_FIRST))


def typed_scalar(text: str, previous: object, key: Key | None, allow_non_finite: bool) -> object:
    """The native value to write for ``text``.

    A changed value keeps the type of the value it replaces (``previous``) when it still
    parses as that type; a new value is a boolean or number only when its ``check/type``
    (or ``type``) metadata says so and it parses (a boolean only when spelled ``true``,
    ``false``, ``1`` or ``0``); everything else is a string.
    """
    kind = _kind_of(previous) if previous is not None else _kind_from_meta(key)
    if kind == "boolean" and (previous is not None or text in _NATIVE_BOOLEAN):
        folded = text.lower()
        if folded in BOOLEAN_TRUE:
            return True
        if folded in BOOLEAN_FALSE:
            return False
    elif kind == "integer" and _INTEGER.fullmatch(text):
        return int(text)
    elif kind == "float" and (
        _FLOAT.fullmatch(text) or (allow_non_finite and text.lower() in _NON_FINITE)
    ):
        number = float(text)
        if allow_non_finite or math.isfinite(number):
            return number
    elif kind in ("datetime", "date", "time"):
        try:
            if kind == "datetime":
                return datetime.fromisoformat(text)
            return date.fromisoformat(text) if kind == "date" else time.fromisoformat(text)
        except ValueError:
            pass
    return text


def _kind_of(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, time):
        return "time"
    return "string"


def _kind_from_meta(key: Key | None) -> str:
    if key is None:
        return "string"
    declared = key.meta.get("check/type") or key.meta.get("type") or "string"
    if declared == "boolean":
        return "boolean"
    if declared in _INTEGER_TYPES:
        return "integer"
    if declared in _FLOAT_TYPES:
        return "float"
    return "string"
