"""YAML storage through ruamel.yaml's round-trip mode: comments, anchors, aliases, merge keys,
quoting and key order survive; an edit rewrites only what ruamel.yaml must re-emit.

ruamel.yaml drops what precedes the document start marker (``---``) and a final ``...``, so
those lines are cut off before parsing and put back verbatim. The indentation of mappings and
sequences and the spelling of null (``~``, ``null`` or nothing) are detected from the file, so
re-emitted parts look like the rest.
"""

from __future__ import annotations

import copy
import io
import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key, Value
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import Document, decode_text, previous_state
from elektraweb.kdb.storage.reconcile import Reconciler, shared_containers
from elektraweb.kdb.storage.tree import keys_from_tree, scalar_text, typed_scalar

_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_START = re.compile(r"---[ \t]*(?:#.*)?")
_END = re.compile(r"\.\.\.[ \t]*(?:#.*)?")
_PREAMBLE = re.compile(r"[ \t]*(?:#.*|%.*)?")
_NULL = re.compile(r"(?::|^[ \t]*-)[ \t]+(~|null|Null|NULL)[ \t]*(?:#.*)?$", re.MULTILINE)
_MAPPING_INDENT = re.compile(r"^( *)[^\s#-][^\n]*:[ \t]*(?:#[^\n]*)?\n(?:[ \t]*(?:#[^\n]*)?\n)*"
                             r"( *)([^\s#-])", re.MULTILINE)
_SEQUENCE_INDENT = re.compile(r"^( *)[^\s#-][^\n]*:[ \t]*(?:#[^\n]*)?\n(?:[ \t]*(?:#[^\n]*)?\n)*"
                              r"( *)-( +)\S", re.MULTILINE)


@dataclass
class _Layout:
    """What ruamel.yaml does not keep by itself: text around the document, indentation, null."""

    prefix: str
    body: str
    suffix: str
    mapping: int = 2
    sequence: int = 2
    offset: int = 0
    null: str = ""

    @classmethod
    def of(cls, text: str) -> _Layout:
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
        mapping = next((m for m in _MAPPING_INDENT.finditer(self.body)
                        if len(m.group(2)) > len(m.group(1))), None)
        if mapping is not None:
            self.mapping = len(mapping.group(2)) - len(mapping.group(1))
        sequence = _SEQUENCE_INDENT.search(self.body)
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


class _Representer(RoundTripRepresenter):
    null = ""

    def represent_none(self, data: Any) -> Any:
        return self.represent_scalar("tag:yaml.org,2002:null", self.null)


_Representer.add_representer(type(None), _Representer.represent_none)


def _yaml(layout: _Layout) -> YAML:
    yaml = YAML()
    yaml.Representer = _Representer
    yaml.preserve_quotes = True
    yaml.width = 1 << 30  # never fold long lines that were not folded
    yaml.indent(mapping=layout.mapping, sequence=layout.sequence, offset=layout.offset)
    yaml.representer.null = layout.null
    return yaml


def _text_of(node: object) -> Value:
    if isinstance(node, ScalarBoolean):
        return "1" if node else "0"
    if isinstance(node, TaggedScalar):
        return str(node.value)
    return scalar_text(node)


def _part_of(raw: object) -> str | None:
    if isinstance(raw, str):
        return str(raw)
    if isinstance(raw, int) and not isinstance(raw, bool | ScalarBoolean):
        return str(int(raw))
    return None


def _native(node: object) -> object:
    if isinstance(node, ScalarBoolean):
        return bool(node)
    if isinstance(node, TaggedScalar):
        return str(node.value)
    return node


# Line breaks that ruamel.yaml writes unescaped into single-quoted scalars, where they fold.
_UNICODE_BREAKS = frozenset("\x85\u2028\u2029")


def _safe(text: str) -> str:
    """``text`` as a string ruamel.yaml writes so that it reads back unchanged."""
    if _UNICODE_BREAKS.isdisjoint(text):
        return text
    quoted: str = DoubleQuotedScalarString(text)
    return quoted


def _styled(text: str, previous: object) -> object:
    """A new string in the quoting style of the string it replaces, where that style can
    hold it (plain and block styles are left to ruamel.yaml, which knows when they can)."""
    # ruamel.yaml emits `?x` plain inside flow mappings, where its own parser then refuses it.
    if (
        not _UNICODE_BREAKS.isdisjoint(text)
        or isinstance(previous, DoubleQuotedScalarString)
        or text.startswith("?")
    ):
        return DoubleQuotedScalarString(text)
    if isinstance(previous, SingleQuotedScalarString) and text.isprintable():
        return SingleQuotedScalarString(text)
    if isinstance(previous, TaggedScalar):
        return TaggedScalar(value=text, style=previous.style, tag=previous.tag)
    return text


class _Syntax:
    format_name = "YAML"

    def is_mapping(self, node: Any) -> bool:
        return isinstance(node, dict)

    def is_sequence(self, node: Any) -> bool:
        return isinstance(node, list)

    def entries(self, mapping: Any) -> list[tuple[Any, Any]]:
        if not getattr(mapping, "merge", None):
            return list(mapping.items())
        # ruamel.yaml copies merged entries when loading and does not follow later changes of
        # the merged mapping, so look them up where they come from.
        own = dict(mapping.non_merged_items())
        return [(raw, own[raw] if raw in own else self._merged(mapping, raw)) for raw in mapping]

    def _merged(self, mapping: Any, raw: Any) -> Any:
        for base in mapping.merge:
            if raw in base:
                return dict(self.entries(base))[raw]
        raise KeyError(raw)

    def part(self, raw: Any) -> str:
        part = _part_of(raw)
        assert part is not None, "read refuses such mapping keys"
        return part

    def items(self, sequence: Any) -> list[Any]:
        return list(sequence)

    def value_of(self, scalar: Any) -> Value:
        return _text_of(scalar)

    def new_scalar(self, value: Value, previous: Any, key: Key | None, name: str) -> Any:
        if value is None or isinstance(value, bytes):
            return value
        native = typed_scalar(value, _native(previous), key, allow_non_finite=True)
        return _styled(native, previous) if isinstance(native, str) else native

    def new_mapping(self, depth: int) -> Any:
        return CommentedMap()

    def new_sequence(self, depth: int) -> Any:
        return CommentedSeq()

    def set_entry(self, mapping: Any, raw: Any, child: Any, depth: int) -> None:
        mapping[_safe(raw) if type(raw) is str else raw] = child

    def delete_entries(self, mapping: Any, raws: list[Any], name: str) -> None:
        own = dict(mapping.non_merged_items()) if getattr(mapping, "merge", None) else mapping
        for raw in raws:
            if raw not in own:
                raise ResourceError(
                    f"YAML: {name}/{raw} comes from a merge key (<<) and cannot be removed "
                    "on its own", key=name)
            del mapping[raw]

    def set_item(self, sequence: Any, index: int, child: Any, depth: int) -> None:
        sequence[index] = child

    def append_item(self, sequence: Any, child: Any, depth: int) -> None:
        sequence.append(child)

    def truncate(self, sequence: Any, length: int) -> None:
        # Deleting by index from the end keeps ruamel.yaml's per-item comments in place.
        for index in range(len(sequence) - 1, length - 1, -1):
            del sequence[index]

    def detached_copy(self, node: Any) -> Any:
        duplicate = copy.deepcopy(node)
        _drop_anchors(duplicate)
        return duplicate


def _drop_anchors(node: Any) -> None:
    anchor = getattr(node, "anchor", None)
    if anchor is not None and getattr(anchor, "value", None) is not None:
        anchor.value = None
    if isinstance(node, dict):
        for child in node.values():
            _drop_anchors(child)
    elif isinstance(node, list):
        for child in node:
            _drop_anchors(child)


@dataclass
class _Original:
    data: bytes
    layout: _Layout
    # The tree parsed by read, handed to the first write so it need not parse again.
    parsed: list[Any] = field(default_factory=list)


class YamlFormat:
    """YAML files; metadata other than ``array`` is left to the database's sidecar."""

    name = "yaml"
    native_meta = frozenset({"array"})

    def read(self, data: bytes, mountpoint: str) -> Document:
        layout = _Layout.of(decode_text(data, "YAML"))
        root = _load(layout)
        keys = keys_from_tree(root, mountpoint, "YAML", _text_of, _part_of)
        return Document(keys, _Original(data, layout, [root]))

    def write(self, keys: KeySet, mountpoint: str, previous: Document | None) -> bytes:
        original = previous_state(previous, _Original, "YAML")
        layout = original.layout if original else _Layout("", "", "")
        root = original.parsed.pop() if original and original.parsed else _load(layout)
        syntax = _Syntax()
        shared = shared_containers(root, syntax)
        reconciler = Reconciler(syntax, keys, mountpoint, shared)
        root = reconciler.reconcile(root)
        if original is not None and not reconciler.changed:
            return original.data
        stream = io.StringIO()
        _yaml(layout).dump(root, stream)
        body = stream.getvalue()
        if layout.prefix and not layout.prefix.endswith("\n"):
            body = "\n" + body
        text = layout.prefix + body + layout.suffix
        if shared or _has_merges(root):
            _verify(text, keys, mountpoint)
        return text.encode()


def _load(layout: _Layout) -> Any:
    try:
        return _yaml(layout).load(layout.body)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = (f"line {mark.line + layout.body_line}, column {mark.column + 1}: "
                 if mark is not None else "")
        problem = error.problem or error.context or "malformed"
        raise ResourceError(f"YAML: {where}{problem}") from None
    except YAMLError as error:
        raise ResourceError(f"YAML: {error}") from None


def _has_merges(node: Any) -> bool:
    if isinstance(node, dict):
        return bool(getattr(node, "merge", None)) or any(_has_merges(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_merges(child) for child in node)
    return False


def _verify(text: str, keys: KeySet, mountpoint: str) -> None:
    """Aliases and merge keys make one node appear on several paths; make sure the written
    file reads back as the wanted values on every path."""
    written = keys_from_tree(_load(_Layout.of(text)), mountpoint, "YAML", _text_of, _part_of)
    for key in keys:
        if key.value is None:
            continue
        got = written.lookup(key.name)
        if got is None or got.value != key.value:
            raise ResourceError(f"YAML: cannot write {key.name} without also changing other "
                                "keys that share its node through an alias or merge key",
                                key=key.name)
    for key in written:
        wanted = keys.lookup(key.name)
        if key.value is not None and (wanted is None or wanted.value != key.value):
            raise ResourceError(f"YAML: writing would change {key.name} through an alias or "
                                "merge key", key=key.name)


FORMAT = YamlFormat()
