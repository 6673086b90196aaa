"""JSON storage: objects and arrays ↔ keys, edited in place on the original text.

Reading uses the standard library parser. Writing parses the original text into a small
concrete syntax tree that keeps every byte of whitespace, changes only the members whose
content differs, and gives new members the whitespace of their siblings (or, in an empty
object, the indentation detected in the document). So a file keeps its layout, and an edit
changes only the lines it must.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key, Value
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import Document, decode_text, previous_state, splice
from elektraweb.kdb.storage.reconcile import Reconciler
from elektraweb.kdb.storage.splice import Block
from elektraweb.kdb.storage.tree import deferred_keys_from_tree, scalar_text, typed_scalar


@dataclass(frozen=True)
class _Original:
    data: bytes


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


_WHITESPACE = re.compile(r"[ \t\n\r]*")
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
        match = _WHITESPACE.match(self.text, self.pos)
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
            members.append(_Member(before, name.text, name.value, colon, value,
                                   "" if closing else after))
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


class _Refused(Exception):
    """Valid for Python's parser but not for a JSON configuration file."""


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _Refused(f"an object has the member {name!r} twice")
            seen.add(name)
    return result


def _reject_constant(token: str) -> object:
    raise _Refused(f"{token} is not a JSON number")


_SCAN_VALUE = json.JSONDecoder().raw_decode  # the standard parser's C scanner


class _Members:
    """A JSON text split into the members of its top object (``splice.BlockSyntax``); a
    member's block runs from the whitespace before its name to the comma or brace after it,
    and reads alone as the object holding just that member."""

    depth: int | None = None

    def __init__(self, mountpoint: str) -> None:
        self.mountpoint = mountpoint

    def blocks(self, text: str) -> list[Block] | None:
        space = _WHITESPACE.match
        position = space(text).end()  # type: ignore[union-attr]
        if not text.startswith("{", position):
            return None
        blocks: list[Block] = []
        try:
            while True:
                start = position + 1
                position = space(text, start).end()  # type: ignore[union-attr]
                name, position = _SCAN_VALUE(text, position)
                if not isinstance(name, str):
                    return None
                position = space(text, position).end()  # type: ignore[union-attr]
                if text[position] != ":":
                    return None
                position = space(text, position + 1).end()  # type: ignore[union-attr]
                position = _SCAN_VALUE(text, position)[1]
                position = space(text, position).end()  # type: ignore[union-attr]
                blocks.append(Block(start, position, (name,)))
                if text[position] != ",":
                    return blocks if text[position] == "}" else None
        except (ValueError, StopIteration, IndexError):
            return None

    def read_block(self, text: str) -> KeySet:
        return FORMAT.read(("{" + text + "}").encode(), self.mountpoint).keys

    def write_block(self, text: str, keys: KeySet) -> str | None:
        if not len(keys):
            return None  # the member goes, and with it a comma: the whole file decides
        written = _edit("{" + text + "}", keys, self.mountpoint)
        return text if written is None else written[1:-1]


def _edit(text: str | None, keys: KeySet, mountpoint: str) -> str | None:
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


class JsonFormat:
    """JSON files; metadata other than ``array`` is left to the database's sidecar."""

    name = "json"
    native_meta = frozenset({"array"})
    typed_values = True

    def read(self, data: bytes, mountpoint: str) -> Document:
        text = decode_text(data, "JSON")
        if not text or text.isspace():  # without copying a big text as ``strip`` would
            return Document(KeySet(), _Original(data))
        try:
            root = json.loads(text, object_pairs_hook=_unique_object,
                              parse_constant=_reject_constant)
        except json.JSONDecodeError as error:
            raise ResourceError(
                f"JSON: line {error.lineno}, column {error.colno}: {error.msg}") from None
        except _Refused as error:
            raise ResourceError(f"JSON: {error}") from None
        # A member name starting with '#' is written with '#' or its escape, backslash-u0023
        # (each a search in C for a rare character; '"#' would stop at every quote).
        hash_names = "#" in text or "\\u0023" in text
        keys = deferred_keys_from_tree(root, mountpoint, "JSON", hash_names=hash_names)
        return Document(keys, _Original(data))

    def write(self, keys: KeySet, mountpoint: str, previous: Document | None) -> bytes:
        original = previous_state(previous, _Original, "JSON")
        written = _edit(decode_text(original.data, "JSON") if original else None, keys, mountpoint)
        if written is None:
            assert original is not None, "a new file is always written"
            return original.data
        return written.encode()

    def write_document(
        self, keys: KeySet, mountpoint: str, previous: Document | None
    ) -> tuple[bytes, Document]:
        """``write``, splicing the top object's changed members (``storage.splice``)."""
        original = previous_state(previous, _Original, "JSON")
        data = original.data if original else None
        return splice.write_document(self, keys, mountpoint, previous, data,
                                     _Members(mountpoint), lambda data, _: _Original(data))


FORMAT = JsonFormat()
