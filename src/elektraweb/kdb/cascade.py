"""Cascading lookup: which key a cascading name such as ``/app/port`` resolves to.

As libelektra's ksLookup with a cascading name (doc/help/elektra-namespaces.md,
doc/METADATA.ini): the spec key of the name (``spec:/app/port``, or the most specific
``spec:/`` pattern matching it) steers the search. In order:

1. the keys named by the spec key's ``override/#0``, ``override/#1``, ...,
2. the name in the namespaces listed by ``namespace/#`` (default: proc, dir, user, system),
3. the keys named by ``fallback/#0``, ``fallback/#1``, ...,
4. ``default:/app/port``, else a ``default:/`` key made from the spec key's ``default``,
5. a key stored under the cascading name itself (rare; lowest priority).

Link targets that are cascading names are resolved the same way, without step 4 and 5;
a link that leads back to a name already being resolved is skipped.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from elektraweb.kdb import names
from elektraweb.kdb.errors import InvalidNameError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.spec import SPEC, Specification

# default:/ is tried only after the fallbacks, so it is not among the namespaces proper.
VALUE_NAMESPACES = names.CASCADE_ORDER[:-1]
LISTABLE_NAMESPACES = names.CASCADE_ORDER


Stage = Literal["spec", "override", "namespace", "fallback", "default"]


class Tried(NamedTuple):
    """One name the lookup tried, whether a key was there, and the step that tried it."""

    name: str
    found: bool
    stage: Stage


class _Search:
    def __init__(self, ks: KeySet, trace: list[Tried] | None = None) -> None:
        self.ks = ks
        self.trace = trace
        self.resolving: set[str] = set()
        self._specification: Specification | None = None
        self.stage: Stage = "namespace"  # a concrete name is a plain lookup

    def tried(self, name: str, key: Key | None) -> Key | None:
        if self.trace is not None:
            self.trace.append(Tried(name, key is not None, self.stage))
        return key

    def plain(self, name: str) -> Key | None:
        return self.tried(name, self.ks.lookup(name))

    @property
    def specification(self) -> Specification:
        if self._specification is None:
            self._specification = Specification(self.ks)
        return self._specification

    def spec_key(self, name: str) -> Key | None:
        spec_name = names.with_namespace(name, SPEC)
        key = self.ks.lookup(spec_name) or self.specification.spec_key_for(spec_name)
        return self.tried(spec_name if key is None else key.name, key)

    def links(self, spec_key: Key | None, array: Literal["override", "fallback"]) -> Key | None:
        if spec_key is None:
            return None
        for target in _array_values(spec_key.meta, array):
            try:
                target_name = names.canonical(target)
            except InvalidNameError:
                self.tried(target, None)
                continue
            found = self.resolve(target_name, with_defaults=False)
            if found is not None:
                return found
        return None

    def resolve(self, name: str, *, with_defaults: bool) -> Key | None:
        if names.namespace_of(name) != names.CASCADING:
            return self.plain(name)
        if name in self.resolving:
            return None
        # What a link target's own lookup tries belongs to the link's step.
        outermost = not self.resolving
        self.resolving.add(name)

        def step(stage: Stage) -> None:
            if outermost:
                self.stage = stage

        try:
            step("spec")
            spec_key = self.spec_key(name)
            step("override")
            found = self.links(spec_key, "override")
            if found is not None:
                return found
            step("namespace")
            for namespace in _namespaces(spec_key):
                found = self.plain(names.with_namespace(name, namespace))
                if found is not None:
                    return found
            step("fallback")
            found = self.links(spec_key, "fallback")
            if found is not None or not with_defaults:
                return found
            step("default")
            return self.default(name, spec_key) or self.plain(name)
        finally:
            self.resolving.discard(name)

    def default(self, name: str, spec_key: Key | None) -> Key | None:
        default_name = names.with_namespace(name, "default")
        key = self.ks.lookup(default_name)
        if key is None and spec_key is not None:
            key = self.specification.default_for(self.ks, name)
        return self.tried(default_name, key)


def _array_values(meta: dict[str, str], array: str) -> list[str]:
    """Values of ``array/#0``, ``array/#1``, ... up to the first missing or empty one."""
    values: list[str] = []
    while (value := meta.get(f"{array}/{names.array_part(len(values))}")) is not None and value:
        values.append(value)
    return values


def _namespaces(spec_key: Key | None) -> tuple[str, ...]:
    """The spec key's ``namespace/#`` list (``user`` or ``user:/`` both work), else the default."""
    if spec_key is None:
        return VALUE_NAMESPACES
    listed = (value.split(":")[0] for value in _array_values(spec_key.meta, "namespace"))
    return tuple(ns for ns in listed if ns in LISTABLE_NAMESPACES) or VALUE_NAMESPACES


def lookup(ks: KeySet, name: str) -> Key | None:
    """The key ``name`` resolves to: cascading names cascade, other names are plain lookups.

    A default that exists only as the spec key's ``default`` metadata is returned as a new
    ``default:/`` key (with the spec key's metadata); ``ks`` is never changed.
    """
    return _Search(ks).resolve(names.canonical(name), with_defaults=True)


def explain(ks: KeySet, name: str) -> list[Tried]:
    """Every name ``lookup`` tries for ``name``, in order, whether it was found there, and
    the step (spec key, override, namespace, fallback, default) that tried it.

    The first entry is the spec key: its own name when one steers the lookup (a pattern
    such as ``spec:/app/_/port`` when that is what matched), else the name it would have.
    """
    trace: list[Tried] = []
    _Search(ks, trace).resolve(names.canonical(name), with_defaults=True)
    return trace
