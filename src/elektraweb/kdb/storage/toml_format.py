"""TOML storage: tables, arrays and arrays of tables ↔ keys.

Reading uses the standard library's ``tomllib`` (several times faster than tomlkit); writing
parses the original text with tomlkit, whose document keeps comments, order and formatting,
and changes only the entries whose content differs. Both parsers implement TOML 1.0, so a
value reads the same through either.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, String, StringType

from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key, Value
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import Document, decode_text, previous_state, splice
from elektraweb.kdb.storage.reconcile import Reconciler
from elektraweb.kdb.storage.splice import Block, blocks_between
from elektraweb.kdb.storage.tree import keys_from_tree, scalar_text, typed_scalar


@dataclass(frozen=True)
class _Original:
    data: bytes


def _unwrap(node: Any) -> Any:
    return node.unwrap() if hasattr(node, "unwrap") else node


def _literal_can_hold(text: str) -> bool:
    return "'" not in text and all(ch == "\t" or (ch >= " " and ch != "\x7f") for ch in text)


class _Syntax:
    format_name = "TOML"

    def is_mapping(self, node: Any) -> bool:
        return isinstance(node, dict)

    def is_sequence(self, node: Any) -> bool:
        return isinstance(node, list)

    def entries(self, mapping: Any) -> list[tuple[Any, Any]]:
        return list(mapping.items())

    def part(self, raw: Any) -> str:
        return str(raw)

    def items(self, sequence: Any) -> list[Any]:
        return list(sequence)

    def value_of(self, scalar: Any) -> Value:
        return scalar_text(_unwrap(scalar))

    def new_scalar(self, value: Value, previous: Any, key: Key | None, name: str) -> Any:
        if isinstance(value, bytes):
            raise ResourceError(f"TOML cannot hold the binary value of {name}", key=name)
        if value is None:
            # TOML has no null; an empty table is what reads back as a key without value.
            return {}
        native = typed_scalar(value, _unwrap(previous), key, allow_non_finite=True)
        if (
            isinstance(previous, String)
            and previous.type is StringType.SLL
            and isinstance(native, str)
            and _literal_can_hold(native)
        ):
            return tomlkit.string(native, literal=True)
        return native

    def new_mapping(self, depth: int) -> Any:
        return {}

    def new_sequence(self, depth: int) -> Any:
        return []

    def set_entry(self, mapping: Any, raw: Any, child: Any, depth: int) -> None:
        mapping[raw] = child

    def delete_entries(self, mapping: Any, raws: list[Any], name: str) -> None:
        for raw in raws:
            del mapping[raw]

    def set_item(self, sequence: Any, index: int, child: Any, depth: int) -> None:
        self._check_table_array(sequence, child)
        sequence[index] = child

    def append_item(self, sequence: Any, child: Any, depth: int) -> None:
        self._check_table_array(sequence, child)
        sequence.append(child)

    def truncate(self, sequence: Any, length: int) -> None:
        for index in range(len(sequence) - 1, length - 1, -1):
            del sequence[index]

    def detached_copy(self, node: Any) -> Any:
        raise AssertionError("TOML documents share no nodes")

    @staticmethod
    def _check_table_array(sequence: Any, child: Any) -> None:
        if isinstance(sequence, AoT) and not isinstance(child, dict):
            raise ResourceError("TOML: an array of tables ([[...]]) can hold only tables")


class TomlFormat:
    """TOML files; metadata other than ``array`` is left to the database's sidecar."""

    name = "toml"
    native_meta = frozenset({"array"})
    typed_values = True

    def read(self, data: bytes, mountpoint: str) -> Document:
        return Document(_read_keys(decode_text(data, "TOML"), mountpoint), _Original(data))

    def write(self, keys: KeySet, mountpoint: str, previous: Document | None) -> bytes:
        original = previous_state(previous, _Original, "TOML")
        text = decode_text(original.data, "TOML") if original else None
        written = _edit(text, keys, mountpoint)
        if written is None:
            assert original is not None, "a new file is always written"
            return original.data
        return written.encode()

    def write_document(
        self, keys: KeySet, mountpoint: str, previous: Document | None
    ) -> tuple[bytes, Document]:
        """``write``, splicing the changed tables into the file (``storage.splice``)."""
        return splice.write_from_bytes(
            self, keys, mountpoint, previous, _Tables(mountpoint), _Original, "TOML"
        )


def _read_keys(text: str, mountpoint: str) -> KeySet:
    try:
        root = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ResourceError(f"TOML: {error}") from None
    return keys_from_tree(root, mountpoint, "TOML")


def _edit(text: str | None, keys: KeySet, mountpoint: str) -> str | None:
    """``text`` (None: a new file) changed to hold ``keys``; None if it already does."""
    try:
        document = tomlkit.parse(text or "")
    except TOMLKitError as error:
        raise ResourceError(f"TOML: {error}") from None
    reconciler = Reconciler(_Syntax(), keys, mountpoint)
    reconciler.reconcile(document, root_must_be_mapping=True)
    if text is not None and not reconciler.changed:
        return None
    try:
        return tomlkit.dumps(document)
    except TOMLKitError as error:
        raise ResourceError(f"TOML: {error}") from None


# A line that starts like a table header; the split below takes only plain ones.
_HEADER_LIKE = re.compile(r"^[ \t]*\[[^\n]*", re.MULTILINE)
_BARE_KEY = r"[A-Za-z0-9_-]+"
_PLAIN_HEADER = re.compile(
    rf"[ \t]*\[[ \t]*({_BARE_KEY}(?:[ \t]*\.[ \t]*{_BARE_KEY})*)[ \t]*\][ \t]*(?:#.*)?"
)
# What may hide a header-like line inside a value: multi-line strings, and an array left
# open at the end of a line (looked for generously: a '[' in a string or comment counts).
_MULTI_LINE_STRING = re.compile(r'"""|\'\'\'')
_LINE_WITH_BRACKETS = re.compile(r"^[^\n]*[\[\]][^\n]*", re.MULTILINE)


class _Tables:
    """A TOML text split into its tables (``splice.BlockSyntax``): a table's block runs from
    its ``[a.b]`` header to the next header, and holds every key below ``a.b`` but those of
    the deeper tables that have headers of their own (TOML forbids defining them anywhere
    else). Keys before the first header belong to no block. Files with arrays of tables
    (``[[a]]``), quoted keys in headers, multi-line strings or arrays spread over lines are
    not split."""

    depth: int | None = None

    def __init__(self, mountpoint: str) -> None:
        self.mountpoint = mountpoint

    def blocks(self, text: str) -> list[Block] | None:
        if _MULTI_LINE_STRING.search(text):
            return None
        starts: list[tuple[int, tuple[str, ...]]] = []
        for line in _LINE_WITH_BRACKETS.finditer(text):
            content = line.group()
            if content.count("[") != content.count("]"):
                return None
        for line in _HEADER_LIKE.finditer(text):
            header = _PLAIN_HEADER.fullmatch(line.group())
            if header is None:
                return None
            path = tuple(part.strip() for part in header.group(1).split("."))
            starts.append((line.start(), path))
        return blocks_between(starts, len(text))

    def read_block(self, text: str) -> KeySet:
        return _read_keys(text, self.mountpoint)

    def write_block(self, text: str, keys: KeySet) -> str | None:
        written = _edit(text, keys, self.mountpoint)
        if written is None:
            return text
        return written if splice.keeps_header(self.blocks(text), self.blocks(written)) else None


FORMAT = TomlFormat()
