"""A key: a name, a value (text or binary) and metadata."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from elektraweb.kdb import names

Value = str | bytes | None


class Key:
    """One key. ``name`` is canonical; metadata names carry no ``meta:/`` prefix."""

    __slots__ = ("meta", "name", "value")

    def __init__(self, name: str, value: Value = None, meta: Mapping[str, str] | None = None):
        self.name = names.canonical(name)
        self.value: Value = value
        self.meta: dict[str, str] = {_meta_name(k): str(v) for k, v in (meta or {}).items()}

    @property
    def namespace(self) -> str:
        return names.namespace_of(self.name)

    @property
    def parts(self) -> tuple[str, ...]:
        return names.parts_of(self.name)

    @property
    def basename(self) -> str:
        return names.basename(self.name)

    @property
    def is_binary(self) -> bool:
        return isinstance(self.value, bytes)

    @property
    def text(self) -> str:
        """The value as text ('' for no value; binary decoded leniently)."""
        if self.value is None:
            return ""
        if isinstance(self.value, bytes):
            return self.value.decode("utf-8", "replace")
        return self.value

    def copy(self, name: str | None = None) -> Key:
        return Key(name or self.name, self.value, dict(self.meta))

    def same_content(self, other: Key) -> bool:
        return self.value == other.value and self.meta == other.meta

    def revision(self) -> str:
        """A short content hash of value and metadata, used for compare-and-set."""
        digest = hashlib.blake2b(digest_size=8)
        value = self.value
        if isinstance(value, bytes):
            digest.update(b"b" + value)
        elif value is not None:
            digest.update(b"s" + value.encode())
        for meta_name in sorted(self.meta):
            digest.update(b"\0" + meta_name.encode() + b"=" + self.meta[meta_name].encode())
        return digest.hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Key):
            return NotImplemented
        return self.name == other.name and self.same_content(other)

    __hash__ = None  # type: ignore[assignment]  # keys are mutable

    def __repr__(self) -> str:
        return f"Key({self.name!r}, {self.value!r}, {self.meta!r})"


def _meta_name(name: str) -> str:
    return name[len("meta:/") :] if name.startswith("meta:/") else name
