"""A JSON text as a concrete syntax tree that keeps every byte of whitespace, and its edit
to hold a KeySet: only the members whose content differs change, and new members get the
whitespace of their siblings (or, in an empty object, the indentation detected in the
document)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key, Value
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage.reconcile import Reconciler
from elektraweb.kdb.storage.tree import scalar_text, typed_scalar


@dataclass(slots=True)
class _Scalar:
    text: str
    value: object


@dataclass(slots=True)
class _Member:
    before: str  # whitespace before the member's name
    name_text: str
    name: str
    colon: str  # whitespace, ':' and whitespace
    value: _Node
    after: str  # whitespace between the value and the following comma


@dataclass(slots=True)
class _Object:
    members: list[_Member]
    close: str  # whitespace before '}'


@dataclass(slots=True)
class _Item:
    before: str
    value: _Node
    after: str


@dataclass(slots=True)
class _Array:
    items: list[_Item]
    close: str


_Node = _Scalar | _Object | _Array


@dataclass(slots=True)
class _Text:
    before: str
    root: _Node
    after: str


@dataclass(frozen=True)
class _Style:
    """How new members are laid out: one per line with ``unit`` indentation, or compact."""

    multiline: bool
    unit: str
    colon: str
    separator: str

    def before(self, depth: int) -> str:
        return "\n" + self.unit * depth if self.multiline else self.separator

    def close(self, depth: int) -> str:
        return "\n" + self.unit * depth if self.multiline else ""


WHITESPACE = re.compile(r"[ \t\n\r]*")
_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null'
)
_LITERALS: dict[str, object] = {"true": True, "false": False, "null": None}


class _Parser:
    """Parses text that ``json.loads`` accepted into the whitespace-keeping tree."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def document(self) -> _Text:
        before = self._space()
        if self.pos == len(self.text):
            return _Text(before, _Object([], ""), "\n")
        root = self._value()
        return _Text(before, root, self._space())

    def _space(self) -> str:
        match = WHITESPACE.match(self.text, self.pos)
        assert match is not None
        self.pos = match.end()
        return match.group()

    def _expect(self, char: str) -> None:
        if self.text[self.pos] != char:
            raise ResourceError(f"JSON: expected {char!r} at offset {self.pos}")
        self.pos += 1

    def _value(self) -> _Node:
        char = self.text[self.pos]
        if char == "{":
            return self._object()
        if char == "[":
            return self._array()
        match = _TOKEN.match(self.text, self.pos)
        if match is None:
            raise ResourceError(f"JSON: unexpected {char!r} at offset {self.pos}")
        self.pos = match.end()
        token = match.group()
        return _Scalar(token, _decode(token))

    def _object(self) -> _Object:
        self._expect("{")
        members: list[_Member] = []
        before = self._space()
        if self.text[self.pos] == "}":
            self.pos += 1
            return _Object(members, before)
        while True:
            name = self._value()
            if not isinstance(name, _Scalar) or not isinstance(name.value, str):
                raise ResourceError(f"JSON: expected a member name at offset {self.pos}")
            colon = self._space()
            self._expect(":")
            colon += ":" + self._space()
            value = self._value()
            after = self._space()
            closing = self.text[self.pos] == "}"
            members.append(
                _Member(before, name.text, name.value, colon, value, "" if closing else after)
            )
            self.pos += 1
            if closing:
                return _Object(members, after)
            before = self._space()

    def _array(self) -> _Array:
        self._expect("[")
        items: list[_Item] = []
        before = self._space()
        if self.text[self.pos] == "]":
            self.pos += 1
            return _Array(items, before)
        while True:
            value = self._value()
            after = self._space()
            closing = self.text[self.pos] == "]"
            items.append(_Item(before, value, "" if closing else after))
            self.pos += 1
            if closing:
                return _Array(items, after)
            before = self._space()


def _decode(token: str) -> object:
    if token[0] == '"':
        return json.loads(token) if "\\" in token else token[1:-1]
    if token in _LITERALS:
        return _LITERALS[token]
    return float(token) if any(c in token for c in ".eE") else int(token)


def _render(node: _Node, out: list[str]) -> None:
    if isinstance(node, _Scalar):
        out.append(node.text)
    elif isinstance(node, _Object):
        out.append("{")
        for index, member in enumerate(node.members):
            if index:
                out.append(",")
            out.extend((member.before, member.name_text, member.colon))
            _render(member.value, out)
            out.append(member.after)
        out.extend((node.close, "}"))
    else:
        out.append("[")
        for index, item in enumerate(node.items):
            if index:
                out.append(",")
            out.append(item.before)
            _render(item.value, out)
            out.append(item.after)
        out.extend((node.close, "]"))


def _detect_style(root: _Node) -> _Style:
    first: _Member | _Item | None = None
    colon = ": "
    if isinstance(root, _Object) and root.members:
        first = root.members[0]
        colon = root.members[0].colon
    elif isinstance(root, _Array) and root.items:
        first = root.items[0]
    if first is None:
        return _Style(True, "  ", colon, "")
    if "\n" in first.before:
        return _Style(True, first.before.rsplit("\n", 1)[1], colon, "")
    return _Style(False, "", colon, first.before)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


class _Syntax:
    format_name = "JSON"

    def __init__(self, style: _Style) -> None:
        self.style = style

    def is_mapping(self, node: Any) -> bool:
        return isinstance(node, _Object)

    def is_sequence(self, node: Any) -> bool:
        return isinstance(node, _Array)

    def entries(self, mapping: _Object) -> list[tuple[Any, Any]]:
        return [(member, member.value) for member in mapping.members]

    def part(self, raw: Any) -> str:
        return raw.name if isinstance(raw, _Member) else str(raw)

    def items(self, sequence: _Array) -> list[Any]:
        return [item.value for item in sequence.items]

    def value_of(self, scalar: _Scalar) -> Value:
        return scalar_text(scalar.value)

    def new_scalar(self, value: Value, previous: Any, key: Key | None, name: str) -> _Scalar:
        if isinstance(value, bytes):
            raise ResourceError(f"JSON cannot hold the binary value of {name}", key=name)
        if value is None:
            return _Scalar("null", None)
        old = previous.value if isinstance(previous, _Scalar) else None
        native = typed_scalar(value, old, key, allow_non_finite=False)
        return _Scalar(_dumps(native), native)

    def new_mapping(self, depth: int) -> _Object:
        return _Object([], "")

    def new_sequence(self, depth: int) -> _Array:
        return _Array([], "")

    def set_entry(self, mapping: _Object, raw: Any, child: Any, depth: int) -> None:
        if isinstance(raw, _Member):
            raw.value = child
            return
        if mapping.members:
            before, colon = mapping.members[-1].before, mapping.members[-1].colon
        else:
            before, colon = self.style.before(depth + 1), self.style.colon
            mapping.close = self.style.close(depth)
        mapping.members.append(_Member(before, _dumps(raw), raw, colon, child, ""))

    def delete_entries(self, mapping: _Object, raws: list[Any], name: str) -> None:
        doomed = {id(raw) for raw in raws}
        mapping.members = [m for m in mapping.members if id(m) not in doomed]
        if not mapping.members:
            mapping.close = ""

    def set_item(self, sequence: _Array, index: int, child: Any, depth: int) -> None:
        sequence.items[index].value = child

    def append_item(self, sequence: _Array, child: Any, depth: int) -> None:
        if sequence.items:
            before = sequence.items[-1].before
        else:
            before = self.style.before(depth + 1)
            sequence.close = self.style.close(depth)
        sequence.items.append(_Item(before, child, ""))

    def truncate(self, sequence: _Array, length: int) -> None:
        del sequence.items[length:]
        if not sequence.items:
            sequence.close = ""

    def detached_copy(self, node: Any) -> Any:
        raise AssertionError("JSON documents share no nodes")


def edit(text: str | None, keys: KeySet, mountpoint: str) -> str | None:
    """``text`` (None: a new file) changed to hold ``keys``; None if it already does."""
    document = _Parser(text or "").document()
    reconciler = Reconciler(_Syntax(_detect_style(document.root)), keys, mountpoint)
    document.root = reconciler.reconcile(document.root)
    if text is not None and not reconciler.changed:
        return None
    out = [document.before]
    _render(document.root, out)
    out.append(document.after)
    return "".join(out)
