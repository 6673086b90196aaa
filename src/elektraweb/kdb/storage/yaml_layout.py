"""The layout of a YAML file that ruamel.yaml does not keep by itself: the text around the
document, the indentation of mappings and sequences, and the spelling of null."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_START = re.compile(r"---[ \t]*(?:#.*)?")
_END = re.compile(r"\.\.\.[ \t]*(?:#.*)?")
_PREAMBLE = re.compile(r"[ \t]*(?:#.*|%.*)?")
_NULL = re.compile(r"(?::|^[ \t]*-)[ \t]+(~|null|Null|NULL)[ \t]*(?:#.*)?$", re.MULTILINE)
# A line that ends in a key's ``:`` and the first content line below it. The key line starts
# at its key: not with ``- `` (a sequence item), ``? `` or ``: `` (a complex key and its
# value), whose content sits further right than the line's indentation says.
_KEY_LINE = r"^( *)(?![?:-](?:[ \t]|$))[^\s#][^\n]*:[ \t]*(?:#[^\n]*)?\n(?:[ \t]*(?:#[^\n]*)?\n)*"
_MAPPING_INDENT = re.compile(_KEY_LINE + r"( *)((?![?:-](?:[ \t]|$))[^\s#])", re.MULTILINE)
_SEQUENCE_INDENT = re.compile(_KEY_LINE + r"( *)-( +)\S", re.MULTILINE)


@dataclass
class Layout:
    """What ruamel.yaml does not keep by itself: text around the document, indentation, null."""

    prefix: str
    body: str
    suffix: str
    mapping: int = 2
    sequence: int = 2
    offset: int = 0
    null: str = ""

    @classmethod
    def of(cls, text: str) -> Layout:
        lines = _LINE.findall(text)  # only "\n" ends a line, as for the YAML parser
        start = 0
        for index, line in enumerate(lines):
            if _START.fullmatch(line.rstrip("\r\n")):
                start = index + 1
                break
            if not _PREAMBLE.fullmatch(line.rstrip("\r\n")):
                break
        end = len(lines)
        for index in range(len(lines) - 1, start - 1, -1):
            stripped = lines[index].rstrip("\r\n")
            if _END.fullmatch(stripped):
                end = index
                break
            if stripped.strip() and not stripped.lstrip().startswith("#"):
                break
        layout = cls("".join(lines[:start]), "".join(lines[start:end]), "".join(lines[end:]))
        layout._detect_style()
        return layout

    def _detect_style(self) -> None:
        # The first block mapping nested in a mapping shows the mapping indentation, the first
        # block sequence below a mapping key shows the sequence indentation and dash offset.
        mapping = next(
            (m for m in _MAPPING_INDENT.finditer(self.body) if len(m.group(2)) > len(m.group(1))),
            None,
        )
        if mapping is not None:
            self.mapping = len(mapping.group(2)) - len(mapping.group(1))
        # A dash left of the key line belongs to an enclosing sequence, not to that key.
        sequence = next(
            (m for m in _SEQUENCE_INDENT.finditer(self.body) if len(m.group(2)) >= len(m.group(1))),
            None,
        )
        if sequence is not None:
            self.offset = len(sequence.group(2)) - len(sequence.group(1))
            self.sequence = self.offset + 1 + len(sequence.group(3))
        null = _NULL.search(self.body)
        if null is not None:
            self.null = null.group(1)

    @property
    def body_line(self) -> int:
        """Line number (from 1) of the first body line in the file."""
        return self.prefix.count("\n") + 1
