"""A key: a name, a value (text or binary) and metadata."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from elektraweb.kdb import names

Value = str | bytes | None
NOTHING_INHERITED: Mapping[str, str] = MappingProxyType({})


def lone_surrogate(text: str) -> str | None:
    """Where ``text`` holds a lone surrogate (JSON allows ``"\\ud800"``), which no file can
    store as UTF-8, e.g. ``"U+D800 at character 3"``; None when it has none."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return f"U+{ord(text[error.start]):04X} at character {error.start}"
    return None


class Key:
    """One key. ``name`` is canonical; metadata names carry no ``meta:/`` prefix.

    The parsed name (namespace, parts, sort key) is kept with the key, so KeySets sort and
    slice without parsing names again. ``inherited`` is the metadata a specification gave
    the key when it was read (``spec.apply_spec``): an entry of ``meta`` that still has that
    value is the spec's, not the key's own, and is never stored. A key without metadata has
    no dict for it until ``meta`` is first used (most keys of a big file have none).
    """

    __slots__ = ("_meta", "_name", "_namespace", "_parts", "_sort_key", "inherited", "value")

    _name: str
    _namespace: str
    _parts: tuple[str, ...]
    _sort_key: names.SortKey | None
    _meta: dict[str, str] | None

    def __init__(self, name: str, value: Value = None, meta: Mapping[str, str] | None = None):
        self.name = name
        self.value: Value = value
        self._meta = {_meta_name(k): str(v) for k, v in meta.items()} if meta else None
        self.inherited: Mapping[str, str] = NOTHING_INHERITED

    @classmethod
    def parsed(
        cls,
        name: str,
        namespace: str,
        parts: tuple[str, ...],
        value: Value = None,
        meta: dict[str, str] | None = None,
    ) -> Key:
        """A key whose canonical ``name``, namespace and unescaped parts the caller already
        knows (a storage format naming its keys part by part), so no name is parsed again;
        ``meta`` is taken over as it is."""
        key = cls.__new__(cls)
        key._name, key._namespace, key._parts, key._sort_key = name, namespace, parts, None
        key.value = value
        key._meta = meta
        key.inherited = NOTHING_INHERITED
        return key

    @property
    def meta(self) -> dict[str, str]:
        """The key's metadata, names without ``meta:/``; change it in place as a dict."""
        meta = self._meta
        if meta is None:
            meta = self._meta = {}
        return meta

    @meta.setter
    def meta(self, meta: dict[str, str]) -> None:
        self._meta = meta

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, name: str) -> None:
        """Rename the key; as in libelektra, not while it is in a KeySet (which keeps keys
        by name and in order): remove it, rename it, add it again, or add a renamed copy."""
        self._name, self._namespace, self._parts = names.parse(name)
        self._sort_key = None

    @property
    def namespace(self) -> str:
        return self._namespace

    @property
    def parts(self) -> tuple[str, ...]:
        return self._parts

    @property
    def basename(self) -> str:
        return self._parts[-1] if self._parts else ""

    @property
    def sort_key(self) -> names.SortKey:
        """The unescaped name, which orders keys like libelektra."""
        if self._sort_key is None:
            self._sort_key = names.unescaped(self._namespace, self._parts)
        return self._sort_key

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
        duplicate = Key.__new__(Key)
        if name is None:
            duplicate._name, duplicate._namespace = self._name, self._namespace
            duplicate._parts, duplicate._sort_key = self._parts, self._sort_key
        else:
            duplicate.name = name
        duplicate.value = self.value
        duplicate._meta = dict(self._meta) if self._meta else None
        duplicate.inherited = self.inherited
        return duplicate

    def same_content(self, other: Key) -> bool:
        return self.value == other.value and (self._meta or {}) == (other._meta or {})

    def revision(self) -> str:
        """A short content hash of value and metadata, used for compare-and-set."""
        import hashlib  # here, not at start-up: `kdb get` never needs a revision

        digest = hashlib.blake2b(digest_size=8)
        value = self.value
        if isinstance(value, bytes):
            digest.update(b"b" + value)
        elif value is not None:
            digest.update(b"s" + value.encode("utf-8", "surrogatepass"))
        meta = self._meta or {}
        for meta_name in sorted(meta):
            entry = f"\0{meta_name}={meta[meta_name]}"
            digest.update(entry.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Key):
            return NotImplemented
        return self._name == other._name and self.same_content(other)

    __hash__ = None  # type: ignore[assignment]  # keys are mutable

    def __repr__(self) -> str:
        return f"Key({self._name!r}, {self.value!r}, {self._meta or {}!r})"


def _meta_name(name: str) -> str:
    return name[len("meta:/") :] if name.startswith("meta:/") else name
