"""Writing the tree formats: bring a round-trip document in line with the wanted keys.

The reconciler walks the document read earlier next to the keys to write and touches only the
nodes whose content differs, so the format's library keeps the comments and layout of the rest.
Each format describes its document model as a `TreeSyntax`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from elektraweb.kdb import names
from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key, Value
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage.tree import ARRAY


class TreeSyntax(Protocol):
    """What reconciling needs from one format's round-trip document model.

    ``raw`` keys are whatever the model uses as mapping keys (kept so that an existing entry is
    updated in place); new entries are added under their unescaped part.
    """

    format_name: str

    def is_mapping(self, node: Any) -> bool: ...
    def is_sequence(self, node: Any) -> bool: ...
    def entries(self, mapping: Any) -> list[tuple[Any, Any]]: ...
    def part(self, raw: Any) -> str: ...
    def items(self, sequence: Any) -> list[Any]: ...
    def value_of(self, scalar: Any) -> Value: ...
    def new_scalar(self, value: Value, previous: Any, key: Key | None, name: str) -> Any: ...
    def new_mapping(self, depth: int) -> Any: ...
    def new_sequence(self, depth: int) -> Any: ...
    def set_entry(self, mapping: Any, raw: Any, child: Any, depth: int) -> None: ...
    def delete_entries(self, mapping: Any, raws: list[Any], name: str) -> None: ...
    def set_item(self, sequence: Any, index: int, child: Any, depth: int) -> None: ...
    def append_item(self, sequence: Any, child: Any, depth: int) -> None: ...
    def truncate(self, sequence: Any, length: int) -> None: ...
    def detached_copy(self, node: Any) -> Any: ...


class _Target:
    """The wanted content at one path: its key (if any) and the children by unescaped part."""

    __slots__ = ("children", "key", "path")

    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path
        self.key: Key | None = None
        self.children: dict[str, _Target] = {}

    @property
    def value(self) -> Value:
        return None if self.key is None else self.key.value

    def same_content(self, other: _Target) -> bool:
        if self.value != other.value or self.children.keys() != other.children.keys():
            return False
        if self.is_marked_array() != other.is_marked_array():
            return False
        return all(
            child.same_content(other.children[part]) for part, child in self.children.items()
        )

    def is_marked_array(self) -> bool:
        return self.key is not None and ARRAY in self.key.meta


_MAPPING, _SEQUENCE, _SCALAR = "mapping", "sequence", "scalar"


class Reconciler:
    """Brings a round-trip document in line with a KeySet, changing as little as possible."""

    def __init__(
        self,
        syntax: TreeSyntax,
        keys: KeySet,
        mountpoint: str,
        shared: frozenset[int] = frozenset(),
    ) -> None:
        self.syntax = syntax
        self.changed = False
        self._namespace, self._base = names.split(mountpoint)
        self._root = self._targets(keys, mountpoint)
        self._shared = shared
        # Per shared node: the contents placed for it so far and the node holding each.
        self._variants: dict[int, list[tuple[_Target, Any]]] = {}
        self._pristine: dict[int, Any] = {}

    def reconcile(self, root: Any, *, root_must_be_mapping: bool = False) -> Any:
        """The new document root (``root`` itself, changed in place, when possible)."""
        syntax = self.syntax
        target = self._root
        shape = self._shape(target)
        if shape == _SCALAR and target.value is None:
            # No content at all: the document becomes (or stays) an empty mapping.
            if syntax.is_mapping(root):
                self._fill(root, target, 0, _MAPPING)
                return root
            if not syntax.is_sequence(root) and syntax.value_of(root) is None:
                return root
            self.changed = True
            return syntax.new_mapping(0)
        if root_must_be_mapping and shape != _MAPPING:
            what = "a value" if shape == _SCALAR else "an array"
            raise ResourceError(
                f"{syntax.format_name}: the document is a table, so the "
                f"mountpoint {self._name(target)} cannot hold {what}",
                key=self._name(target),
            )
        return self._place(root, target, 0)

    def _targets(self, keys: KeySet, mountpoint: str) -> _Target:
        base = self._base
        depth = len(base)
        root = _Target(())
        for key in keys:
            parts = key.parts
            if key.namespace != self._namespace or parts[:depth] != base:
                raise ResourceError(
                    f"key {key.name} is not below the mountpoint {mountpoint}", key=key.name
                )
            node = root
            for index in range(depth, len(parts)):
                part = parts[index]
                child = node.children.get(part)
                if child is None:
                    child = _Target(parts[depth : index + 1])
                    node.children[part] = child
                node = child
            node.key = key
        return root

    def _name(self, target: _Target) -> str:
        return names.join(self._namespace, self._base + target.path)

    def _shape(self, target: _Target) -> str:
        fmt = self.syntax.format_name
        if not target.children:
            if target.is_marked_array():
                if target.value is not None:
                    raise ResourceError(
                        f"{fmt}: the array {self._name(target)} cannot also hold a value",
                        key=self._name(target),
                    )
                return _SEQUENCE
            return _SCALAR
        if target.value is not None:
            raise ResourceError(
                f"{fmt}: {self._name(target)} has a value and keys below it; {fmt} can hold "
                "values only at leaves",
                key=self._name(target),
            )
        indices = [names.array_index(part) for part in target.children]
        if all(index is not None for index in indices):
            if indices != list(range(len(indices))):
                missing = next(i for i, index in enumerate(indices) if index != i)
                raise ResourceError(
                    f"{fmt}: the array {self._name(target)} has no element "
                    f"{names.array_part(missing)}; {fmt} arrays cannot have gaps",
                    key=self._name(target),
                )
            return _SEQUENCE
        if target.is_marked_array() or any(index is not None for index in indices):
            raise ResourceError(
                f"{fmt}: {self._name(target)} mixes array elements (#0, #1, ...) with other "
                "keys below it",
                key=self._name(target),
            )
        return _MAPPING

    def _place(self, old: Any, target: _Target, depth: int) -> Any:
        """The node to put where ``old`` is: ``old`` itself if it already holds ``target``."""
        syntax = self.syntax
        shape = self._shape(target)
        is_mapping, is_sequence = syntax.is_mapping(old), syntax.is_sequence(old)
        if shape == _SCALAR:
            value = target.value
            if is_mapping:
                if value is None and not syntax.entries(old):
                    return old  # an empty mapping reads as a key without value
            elif not is_sequence and syntax.value_of(old) == value:
                return old
            self.changed = True
            previous = None if is_mapping or is_sequence else old
            return syntax.new_scalar(value, previous, target.key, self._name(target))
        if (shape == _MAPPING and not is_mapping) or (shape == _SEQUENCE and not is_sequence):
            self.changed = True
            return self._fresh(target, depth)
        if id(old) in self._shared:
            return self._place_shared(old, target, depth)
        self._fill(old, target, depth, shape)
        return old

    def _place_shared(self, old: Any, target: _Target, depth: int) -> Any:
        """A node reachable on several paths (YAML alias): paths that want the same content
        share one node; a diverging path gets its own copy of the original, which the later
        paths wanting that content share in turn (so an alias stays an alias of the copy)."""
        variants = self._variants.get(id(old))
        if variants is None:
            self._pristine[id(old)] = self.syntax.detached_copy(old)
            self._fill(old, target, depth, self._shape(target))
            self._variants[id(old)] = [(target, old)]
            return old
        for placed_target, placed in variants:
            if placed_target.same_content(target):
                return placed  # still agrees with a path placed before: share its node
        self.changed = True
        copy = self.syntax.detached_copy(self._pristine[id(old)])
        self._fill(copy, target, depth, self._shape(target))
        variants.append((target, copy))
        return copy

    def _fill(self, node: Any, target: _Target, depth: int, shape: str) -> None:
        syntax = self.syntax
        if shape == _MAPPING:
            existing = {syntax.part(raw): (raw, child) for raw, child in syntax.entries(node)}
            for part, sub in target.children.items():
                hit = existing.get(part)
                if hit is None:
                    self.changed = True
                    syntax.set_entry(node, part, self._fresh(sub, depth + 1), depth)
                    continue
                raw, child = hit
                placed = self._place(child, sub, depth + 1)
                if placed is not child:
                    syntax.set_entry(node, raw, placed, depth)
            # Removing last: tomlkit drops a table that becomes empty, and a table re-created
            # for new entries would move to the end of the file.
            doomed = [raw for part, (raw, _) in existing.items() if part not in target.children]
            if doomed:
                self.changed = True
                syntax.delete_entries(node, doomed, self._name(target))
            return
        items = syntax.items(node)
        wanted = list(target.children.values())
        if len(items) > len(wanted):
            self.changed = True
            syntax.truncate(node, len(wanted))
        for index, sub in enumerate(wanted):
            if index < len(items):
                placed = self._place(items[index], sub, depth + 1)
                if placed is not items[index]:
                    syntax.set_item(node, index, placed, depth)
            else:
                self.changed = True
                syntax.append_item(node, self._fresh(sub, depth + 1), depth)

    def _fresh(self, target: _Target, depth: int) -> Any:
        syntax = self.syntax
        shape = self._shape(target)
        if shape == _SCALAR:
            return syntax.new_scalar(target.value, None, target.key, self._name(target))
        if shape == _MAPPING:
            mapping = syntax.new_mapping(depth)
            for part, sub in target.children.items():
                syntax.set_entry(mapping, part, self._fresh(sub, depth + 1), depth)
            return mapping
        sequence = syntax.new_sequence(depth)
        for sub in target.children.values():
            syntax.append_item(sequence, self._fresh(sub, depth + 1), depth)
        return sequence


def shared_containers(root: Any, syntax: TreeSyntax) -> frozenset[int]:
    """Ids of the containers reachable on more than one path (YAML anchors and aliases)."""
    seen: set[int] = set()
    shared: set[int] = set()
    pending: list[Any] = [root]
    while pending:
        node = pending.pop()
        if syntax.is_mapping(node):
            children: Iterable[Any] = (child for _, child in syntax.entries(node))
        elif syntax.is_sequence(node):
            children = syntax.items(node)
        else:
            continue
        if id(node) in seen:
            shared.add(id(node))
            continue
        seen.add(id(node))
        pending.extend(children)
    return frozenset(shared)
