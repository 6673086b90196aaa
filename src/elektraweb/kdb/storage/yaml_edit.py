"""An edit of a loaded YAML tree to hold a KeySet, written so that it reads back as exactly
those keys: the reconciler's view of ruamel.yaml's nodes (quoting, tags, anchors, merge
keys), and the checks of the text written."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key, Value
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage.line_merge import apply_edit
from elektraweb.kdb.storage.reconcile import Reconciler, shared_containers
from elektraweb.kdb.storage.tree import typed_scalar
from elektraweb.kdb.storage.yaml_layout import Layout
from elektraweb.kdb.storage.yaml_ruamel import dump, keys_of, part_of, read_body, text_of


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

    def __init__(self, anchors: set[str]) -> None:
        self._anchors = anchors  # the anchor names in the document: a copy's must be new
        self._kept: set[str] = set()  # anchors whose pristine copy was made

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
        part = part_of(raw)
        assert part is not None, "read refuses such mapping keys"
        return part

    def items(self, sequence: Any) -> list[Any]:
        return list(sequence)

    def value_of(self, scalar: Any) -> Value:
        return text_of(scalar)

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
                    "on its own",
                    key=name,
                )
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
        for anchored in _anchored(duplicate):
            anchored.anchor.value = None
        anchor = _anchor_of(node)
        if anchor is None:
            return duplicate
        if anchor not in self._kept:
            # The reconciler's first copy of a shared node is its pristine original, which
            # only serves to copy from: it keeps the name, and copies made from it get new ones.
            self._kept.add(anchor)
            name = anchor
        else:
            number = 2
            while f"{anchor}_{number}" in self._anchors:
                number += 1
            name = f"{anchor}_{number}"
            self._anchors.add(name)
        # Written only if other paths share the copy (aliases of a diverged anchor).
        duplicate.yaml_set_anchor(name, always_dump=False)
        return duplicate


def _anchor_of(node: Any) -> str | None:
    value = getattr(getattr(node, "anchor", None), "value", None)
    return None if value is None else str(value)


def _anchored(root: Any) -> Iterator[Any]:
    """The nodes at and below ``root`` that carry an anchor, each once."""
    seen: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if _anchor_of(node) is not None:
            yield node
        if isinstance(node, dict):
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)


def edit(layout: Layout, root: Any, keys: KeySet, mountpoint: str, *, fresh: bool) -> str | None:
    """The text of ``layout`` (parsed as ``root``) changed to hold ``keys``; None if it
    already does."""
    shared = shared_containers(root, _Syntax(set()))
    syntax = _Syntax({str(_anchor_of(node)) for node in _anchored(root)} if shared else set())
    # ruamel.yaml's own rendering of the unedited document tells which lines it lays out
    # differently from the file, so the edit can leave those lines alone.
    before = None if fresh else dump(root, layout)
    reconciler = Reconciler(syntax, keys, mountpoint, shared)
    root = reconciler.reconcile(root)
    if not fresh and not reconciler.changed:
        return None
    after = dump(root, layout)
    body = _readable_body(root, layout, before, after, mountpoint)
    if layout.prefix and not layout.prefix.endswith("\n"):
        body = "\n" + body
    text = layout.prefix + body + layout.suffix
    if shared or _has_merges(root):
        _verify(text, keys, mountpoint)
    return text


def _readable_body(
    root: Any, layout: Layout, before: str | None, after: str, mountpoint: str
) -> str:
    """The body to write for the edited ``root``: the edit merged into the original lines,
    else ruamel.yaml's dump, whichever first reads back as exactly the keys of ``root``.
    Neither doing so is refused rather than written (ruamel.yaml's emitter writes text it
    cannot read in some indentation settings it accepts, such as a negative dash offset)."""
    wanted = _keys_of(root, after, mountpoint)
    candidates = [after] if before is None else [apply_edit(layout.body, before, after), after]
    problem, culprit = "", mountpoint
    for candidate in dict.fromkeys(candidates):
        try:
            difference = _first_difference(read_body(candidate, mountpoint), wanted)
        except ResourceError as error:
            problem = f"ruamel.yaml writes text it cannot read ({error.message})"
            continue
        if difference is None:
            return candidate
        problem, culprit = f"{difference} would read back differently", difference
    raise ResourceError(
        f"YAML: cannot write the keys below {mountpoint} so that they read "
        f"back as written: {problem}; nothing was written",
        key=culprit,
    )


def _keys_of(root: Any, after: str, mountpoint: str) -> KeySet:
    """The keys the edited ``root`` holds."""
    if _has_merges(root):
        # ruamel.yaml copies merged entries when loading and does not follow later changes
        # of the merged mapping: only a fresh read of its dump sees what the merges give.
        return read_body(after, mountpoint)
    return keys_of(root, mountpoint)


def _first_difference(got: KeySet, wanted: KeySet) -> str | None:
    """The name of the first key that ``got`` lacks, adds or holds differently, if any."""
    for have, want in zip(got, wanted, strict=False):
        if have.name != want.name or not have.same_content(want):
            return want.name
    if len(got) != len(wanted):
        longer = got if len(got) > len(wanted) else wanted
        return list(longer)[min(len(got), len(wanted))].name
    return None


def _has_merges(node: Any) -> bool:
    if isinstance(node, dict):
        return bool(getattr(node, "merge", None)) or any(_has_merges(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_merges(child) for child in node)
    return False


def _verify(text: str, keys: KeySet, mountpoint: str) -> None:
    """Aliases and merge keys make one node appear on several paths; make sure the written
    file reads back as the wanted values on every path."""
    written = read_body(text, mountpoint)
    for key in keys:
        if key.value is None:
            continue
        got = written.lookup(key.name)
        if got is None or got.value != key.value:
            raise ResourceError(
                f"YAML: cannot write {key.name} without also changing other "
                "keys that share its node through an alias or merge key",
                key=key.name,
            )
    for key in written:
        wanted = keys.lookup(key.name)
        if key.value is not None and (wanted is None or wanted.value != key.value):
            raise ResourceError(
                f"YAML: writing would change {key.name} through an alias or merge key", key=key.name
            )
