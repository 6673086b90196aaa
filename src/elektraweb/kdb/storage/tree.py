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

from elektraweb.kdb import names
from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key, Value
from elektraweb.kdb.keyset import KeySet

ARRAY = "array"

BOOLEAN_TRUE = frozenset({"1", "yes", "on", "true", "enabled", "enable"})
BOOLEAN_FALSE = frozenset({"0", "no", "off", "false", "disabled", "disable"})
# The spellings of a new boolean value that become the format's own true/false; any other
# (``no``, ``On``) stays a string, so that the file keeps the spelling it was given in.
_NATIVE_BOOLEAN = frozenset({"1", "0", "true", "false"})
_INTEGER_TYPES = frozenset({
    "short", "unsigned_short", "long", "unsigned_long", "long_long", "unsigned_long_long",
})
_FLOAT_TYPES = frozenset({"float", "double", "long_double"})
_INTEGER = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_NON_FINITE = frozenset({"inf", "-inf", "+inf", "nan"})


def prefix_below(name: str) -> str:
    """What every canonical name below the canonical ``name`` starts with."""
    is_root = name == "/" or (name.endswith(":/") and name.find(":") == len(name) - 2)
    return name if is_root else name + "/"


def child_name(name: str, part: str) -> str:
    """The name of ``part`` (unescaped) directly below the canonical ``name``."""
    return prefix_below(name) + names.escape_part(part)


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
    mountpoint = names.canonical(mountpoint)
    namespace = names.split(mountpoint)[0]
    found: dict[str, Key] = {}  # by name, in order
    new_key = Key.parsed

    def add(key: Key) -> None:
        found[key.name] = key

    escape, plain = names.escape_part, _NEEDS_NO_ESCAPE.fullmatch

    def named(name: str, parts: tuple[str, ...], value: Value = None,
              meta: dict[str, str] | None = None) -> Key:
        if len(parts) < 2:  # at or right below a namespace's root: let the name be checked
            return Key(name, value, meta)
        return new_key(name, namespace, parts, value, meta)

    def part_named(raw: object, name: str) -> str:
        part = part_of(raw)
        if part is None:
            raise ResourceError(
                f"{format_name}: mapping key {raw!r} below {name} is not a string", key=name)
        return part

    def escaped_part(part: str, name: str) -> str:
        if part[:1] == "#" and names.array_index(part) is not None:
            raise ResourceError(
                f"{format_name}: mapping key {part!r} below {name} looks like an array "
                "index, which Elektra cannot tell from an array element", key=name)
        return escape(part)

    def visit(node: object, name: str, parts: tuple[str, ...], is_root: bool) -> None:
        if isinstance(node, dict):
            if not node and not is_root:
                add(named(name, parts))
            prefix = prefix_below(name)
            joined = _joined(node) if part_of is _string_part else None
            if joined is not None:  # the parts are the mapping's keys as they are
                members = sorted(node.items(), key=_first)
                all_plain = (not _SOME_PART_NEEDS_ESCAPE.search(joined)
                             and joined.count("\x00") == len(node) - 1)  # fmt: skip
            else:
                members = sorted(((part_named(raw, name), child) for raw, child in node.items()),
                                 key=_first)  # fmt: skip
                all_plain = False
            for part, child in members:
                escaped = part if all_plain or plain(part) else escaped_part(part, name)
                member_name = prefix + escaped
                if type(child) is str and parts:  # the common leaf, without a call
                    found[member_name] = new_key(member_name, namespace, (*parts, part), child)
                else:
                    visit(child, member_name, (*parts, part), False)
        elif isinstance(node, list):
            last = names.array_part(len(node) - 1) if node else ""
            add(named(name, parts, None, {ARRAY: last}))
            prefix = prefix_below(name)
            for index, child in enumerate(node):
                part = names.array_part(index)
                visit(child, prefix + part, (*parts, part), False)
        elif not (is_root and node is None):
            try:
                value = text_of(node)
            except TypeError as error:
                raise ResourceError(
                    f"{format_name}: {name} holds a value of unsupported type {error}",
                    key=name) from None
            add(named(name, parts, value))

    visit(root, mountpoint, names.split(mountpoint)[1], True)
    return KeySet.ordered(found)


_first = itemgetter(0)


def _joined(mapping: dict[object, object]) -> str | None:
    """The mapping's keys joined by NUL; None unless all are ``str``."""
    try:
        return "\x00".join(mapping)  # type: ignore[arg-type]
    except TypeError:
        return None
# In parts joined by NUL: a part that ``_NEEDS_NO_ESCAPE`` does not match (or a NUL in one,
# which the count of NULs tells).
_SOME_PART_NEEDS_ESCAPE = re.compile(r"(?:\A|\x00)(?:[#%.\x00]|\Z)|[\\/]")


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
