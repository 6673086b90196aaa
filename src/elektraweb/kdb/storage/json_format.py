"""JSON storage: objects and arrays ↔ keys, edited in place on the original text.

Reading uses the standard library parser. Writing parses the original text into a small
concrete syntax tree that keeps every byte of whitespace, changes only the members whose
content differs, and gives new members the whitespace of their siblings (or, in an empty
object, the indentation detected in the document). So a file keeps its layout, and an edit
changes only the lines it must (the tree and its edit: ``json_syntax``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import Document, decode_text, previous_state, splice
from elektraweb.kdb.storage.json_syntax import WHITESPACE, edit
from elektraweb.kdb.storage.splice import Block
from elektraweb.kdb.storage.tree import deferred_keys_from_tree


@dataclass(frozen=True)
class _Original:
    data: bytes


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
        space = WHITESPACE.match
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
        written = edit("{" + text + "}", keys, self.mountpoint)
        return text if written is None else written[1:-1]


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
            root = json.loads(
                text, object_pairs_hook=_unique_object, parse_constant=_reject_constant
            )
        except json.JSONDecodeError as error:
            raise ResourceError(
                f"JSON: line {error.lineno}, column {error.colno}: {error.msg}"
            ) from None
        except _Refused as error:
            raise ResourceError(f"JSON: {error}") from None
        # A member name starting with '#' is written with '#' or its escape, backslash-u0023
        # (each a search in C for a rare character; '"#' would stop at every quote).
        hash_names = "#" in text or "\\u0023" in text
        keys = deferred_keys_from_tree(root, mountpoint, "JSON", hash_names=hash_names)
        return Document(keys, _Original(data))

    def write(self, keys: KeySet, mountpoint: str, previous: Document | None) -> bytes:
        original = previous_state(previous, _Original, "JSON")
        written = edit(decode_text(original.data, "JSON") if original else None, keys, mountpoint)
        if written is None:
            assert original is not None, "a new file is always written"
            return original.data
        return written.encode()

    def write_document(
        self, keys: KeySet, mountpoint: str, previous: Document | None
    ) -> tuple[bytes, Document]:
        """``write``, splicing the top object's changed members (``storage.splice``)."""
        return splice.write_from_bytes(
            self, keys, mountpoint, previous, _Members(mountpoint), _Original, "JSON"
        )


FORMAT = JsonFormat()
