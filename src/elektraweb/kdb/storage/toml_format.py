"""TOML storage: tables, arrays and arrays of tables ↔ keys.

Reading uses the standard library's ``tomllib`` (several times faster than tomlkit); writing
parses the original text with tomlkit, whose document keeps comments, order and formatting,
and changes only the entries whose content differs. Both parsers implement TOML 1.0, so a
value reads the same through either.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, String, StringType

from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key, Value
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import Document, decode_text, previous_state
from elektraweb.kdb.storage.reconcile import Reconciler
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
        if (isinstance(previous, String) and previous.type is StringType.SLL
                and isinstance(native, str) and _literal_can_hold(native)):
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
        try:
            root = tomllib.loads(decode_text(data, "TOML"))
        except tomllib.TOMLDecodeError as error:
            raise ResourceError(f"TOML: {error}") from None
        return Document(keys_from_tree(root, mountpoint, "TOML"), _Original(data))

    def write(self, keys: KeySet, mountpoint: str, previous: Document | None) -> bytes:
        original = previous_state(previous, _Original, "TOML")
        try:
            document = tomlkit.parse(decode_text(original.data, "TOML") if original else "")
        except TOMLKitError as error:
            raise ResourceError(f"TOML: {error}") from None
        reconciler = Reconciler(_Syntax(), keys, mountpoint)
        reconciler.reconcile(document, root_must_be_mapping=True)
        if original is not None and not reconciler.changed:
            return original.data
        try:
            return tomlkit.dumps(document).encode()
        except TOMLKitError as error:
            raise ResourceError(f"TOML: {error}") from None


FORMAT = TomlFormat()
