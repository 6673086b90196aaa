"""YAML storage through ruamel.yaml's round-trip mode: comments, anchors, aliases, merge keys,
quoting and key order survive; an edit rewrites only what ruamel.yaml must re-emit.

ruamel.yaml drops what precedes the document start marker (``---``) and a final ``...``, so
those lines are cut off before parsing and put back verbatim. The indentation of mappings and
sequences and the spelling of null (``~``, ``null`` or nothing) are detected from the file, so
re-emitted parts look like the rest.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import Document, decode_text, previous_state, splice
from elektraweb.kdb.storage.splice import Block, blocks_between
from elektraweb.kdb.storage.yaml_edit import edit
from elektraweb.kdb.storage.yaml_layout import Layout
from elektraweb.kdb.storage.yaml_ruamel import keys_of, load, read_body


@dataclass
class _Original:
    data: bytes
    layout: Layout
    # The tree parsed by read, handed to the first write so it need not parse again.
    parsed: list[Any] = field(default_factory=list)


class YamlFormat:
    """YAML files; metadata other than ``array`` is left to the database's sidecar."""

    name = "yaml"
    native_meta = frozenset({"array"})
    typed_values = True

    def read(self, data: bytes, mountpoint: str) -> Document:
        layout = Layout.of(decode_text(data, "YAML"))
        root = load(layout)
        keys = keys_of(root, mountpoint)
        return Document(keys, _Original(data, layout, [root]))

    def write(self, keys: KeySet, mountpoint: str, previous: Document | None) -> bytes:
        original = previous_state(previous, _Original, "YAML")
        layout = original.layout if original else Layout("", "", "")
        root = original.parsed.pop() if original and original.parsed else load(layout)
        text = edit(layout, root, keys, mountpoint, fresh=original is None)
        if text is None:
            assert original is not None, "a new file is always written"
            return original.data
        return text.encode()

    def write_document(
        self, keys: KeySet, mountpoint: str, previous: Document | None
    ) -> tuple[bytes, Document]:
        """``write``, splicing the changed top-level entries (``storage.splice``)."""
        original = previous_state(previous, _Original, "YAML")
        layout = original.layout if original else Layout("", "", "")
        return splice.write_document(
            self,
            keys,
            mountpoint,
            previous,
            original.data if original else None,
            _Entries(mountpoint, layout),
            lambda data, text: _Original(data, dataclasses.replace(layout, body=text)),
        )


# A line at the left margin: a top-level entry, a comment, or a sequence item of the entry
# above (``key:`` / ``- item``).
_MARGIN_LINE = re.compile(r"^[^ \t\r\n][^\n]*", re.MULTILINE)
_PLAIN_KEY = re.compile(r"([A-Za-z0-9_][^:#\n]*?)[ \t]*:(?:[ \t][^\n]*)?")
# Anchors, aliases, tags and merge keys let one part of the file stand for another.
_SHARING = re.compile(r"(?:^|[\s\[{,])[&*!][^\s,\]}]|<<")


class _Entries:
    """A YAML text split into the entries of its top mapping (``splice.BlockSyntax``): an
    entry's block runs from its key at the left margin to the next such key, and reads alone
    as the mapping holding just that entry. Only files without anchors, aliases, tags and
    merge keys (whose parts stand for others), without text around the document (``---``,
    ``...``), and whose top-level keys are plain are split."""

    depth: int | None = None

    def __init__(self, mountpoint: str, layout: Layout) -> None:
        self.mountpoint, self.layout = mountpoint, layout

    def blocks(self, text: str) -> list[Block] | None:
        layout = self.layout
        if layout.prefix or layout.suffix or _SHARING.search(text):
            return None
        starts: list[tuple[int, tuple[str, ...]]] = []
        for line in _MARGIN_LINE.finditer(text):
            content = line.group()
            if content.startswith("#") or (starts and content.startswith("- ")):
                continue
            key = _PLAIN_KEY.fullmatch(content)
            if key is None:
                return None
            starts.append((line.start(), (key.group(1),)))
        return blocks_between(starts, len(text))

    def read_block(self, text: str) -> KeySet:
        return read_body(text, self.mountpoint)

    def write_block(self, text: str, keys: KeySet) -> str | None:
        if not len(keys):
            return ""  # ruamel.yaml would write an empty document as '{}'
        layout = dataclasses.replace(self.layout, body=text)
        written = edit(layout, load(layout), keys, self.mountpoint, fresh=False)
        return text if written is None else written


FORMAT = YamlFormat()
