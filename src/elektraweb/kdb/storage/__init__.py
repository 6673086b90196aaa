"""Storage formats: turn a file's bytes into keys and keys back into bytes.

Each format lives in its own module and is imported only when a mount needs it, so a
``kdb get`` on a dump-only database never pays for loading tomlkit or ruamel.yaml.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

from elektraweb.kdb.errors import MountError, ResourceError
from elektraweb.kdb.keyset import KeySet

if TYPE_CHECKING:  # a read needs no removed lines: dataclasses and difflib cost start-up time
    from elektraweb.kdb.storage.removed_lines import RemovedLines


class Document:
    """A parsed file: its keys (full names below the mountpoint) and the format's own
    round-trip state (comments, order, formatting), handed back on write, and the lines
    earlier writes removed from the file (``storage.removed_lines``)."""

    __slots__ = ("keys", "removed", "state")

    def __init__(self, keys: KeySet, state: object = None) -> None:
        self.keys = keys
        self.state = state
        self.removed: tuple[RemovedLines, ...] = ()


class _AllMetadata(frozenset[str]):
    def __contains__(self, item: object) -> bool:
        return isinstance(item, str)


# ``native_meta`` of a format that keeps every metadata name in the file itself.
ALL_METADATA: frozenset[str] = _AllMetadata()


class StorageFormat(Protocol):
    name: str
    # Metadata names the format keeps in the file itself; the database keeps any other
    # metadata (and values it cannot place) in a sidecar so that nothing is dropped.
    native_meta: frozenset[str]
    # Whether the format writes numbers and booleans natively: a new value's type then comes
    # from its `check/type` (or `type`), its own or its specification's (`tree.typed_scalar`).
    typed_values: bool

    def read(self, data: bytes, mountpoint: str) -> Document:
        """Parse ``data``; raise ResourceError naming the line for a malformed file."""
        ...

    def write(self, keys: KeySet, mountpoint: str, previous: Document | None) -> bytes:
        """Render ``keys``; with ``previous`` change only what differs from it."""
        ...


@runtime_checkable
class DocumentWriter(Protocol):
    """A format that knows what its output reads back as, so a write need not parse it."""

    def write_document(
        self, keys: KeySet, mountpoint: str, previous: Document | None
    ) -> tuple[bytes, Document]:
        """``write``, and the document its bytes read back as. The document's ``keys`` are
        ``keys`` itself when every key reads back as given."""
        ...


@runtime_checkable
class RegionReader(Protocol):
    """A format that can read and rewrite the keys of one part of a file without building
    the rest (one-shot readers and writers such as ``kdb get`` and ``kdb set``)."""

    def read_below(self, data: bytes, mountpoint: str, start: str) -> KeySet:
        """The keys ``read`` finds at or below the canonical name ``start`` (which lies at
        or below ``mountpoint``); errors as ``read``."""
        ...

    def read_region(self, data: bytes, mountpoint: str, start: str) -> Document | None:
        """Those keys as a document that ``write`` (given it as ``previous``, with keys
        only at or below ``start``) turns into the whole file with just that part changed;
        None where the file does not allow it."""
        ...


_State = TypeVar("_State")


def previous_state(
    previous: Document | None, kind: type[_State], format_name: str
) -> _State | None:
    """The ``kind`` of round-trip state the format ``format_name`` left in ``previous`` when it
    read it; None for a new file. A document another format read is a programming error."""
    if previous is None:
        return None
    if not isinstance(previous.state, kind):
        raise TypeError(f"the previous document was not read by the {format_name} format")
    return previous.state


def decode_text(data: bytes, format_name: str) -> str:
    """A text format's file as ``str``; a ResourceError names the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ResourceError(f"{format_name}: byte {error.start} is not valid UTF-8") from None


_MODULES = {
    "dump": "elektraweb.kdb.storage.dump",
    "ini": "elektraweb.kdb.storage.ini",
    "json": "elektraweb.kdb.storage.json_format",
    "yaml": "elektraweb.kdb.storage.yaml_format",
    "toml": "elektraweb.kdb.storage.toml_format",
    "ni": "elektraweb.kdb.storage.ni",
    "mini": "elektraweb.kdb.storage.mini",
}
FORMATS = tuple(_MODULES)
# The usual file name extension of each format (mini files are named like ini files).
EXTENSIONS = {
    "dump": "ecf",
    "ini": "ini",
    "json": "json",
    "yaml": "yaml",
    "toml": "toml",
    "ni": "ni",
    "mini": "ini",
}


def get_format(name: str) -> StorageFormat:
    """The storage format called ``name`` (imported on first use)."""
    module_name = _MODULES.get(name)
    if module_name is None:
        raise MountError(f"unknown storage format {name!r} (known: {', '.join(FORMATS)})")
    fmt: StorageFormat = importlib.import_module(module_name).FORMAT
    return fmt


def format_for_file(filename: str) -> str | None:
    """Guess the format from a file name's extension (``app.toml`` → ``toml``)."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return {
        "ini": "ini",
        "json": "json",
        "yaml": "yaml",
        "yml": "yaml",
        "toml": "toml",
        "dump": "dump",
        "ecf": "dump",
        "ni": "ni",
    }.get(suffix)
