"""Elektra's own dump format: every key with its value (text or binary) and all metadata,
one record per key (see ``dump_records``)."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from types import MappingProxyType
from typing import NamedTuple

from elektraweb.kdb import names
from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import ALL_METADATA, Document, previous_state
from elektraweb.kdb.storage.dump_layout import Layout, render, splice
from elektraweb.kdb.storage.dump_records import END, HEADER, RecordReader, RecordWriter
from elektraweb.kdb.storage.dump_region import Region, Unusual, insertion_point, records_below

_NO_COPIES: Mapping[tuple[str, str], str] = MappingProxyType({})


class _Original(NamedTuple):
    data: bytes
    # (key name, metadata name) -> name of the key it was copied from ($copymeta), so that
    # writing the file again keeps the sharing.
    copies: Mapping[tuple[str, str], str] = _NO_COPIES
    # Known when ``data`` is exactly the rendering of the document's keys, without $copymeta.
    layout: Layout | None = None


class DumpFormat:
    """The default storage: full fidelity for names, text and binary values, and metadata."""

    name = "dump"
    native_meta = ALL_METADATA
    typed_values = False

    def read(self, data: bytes, mountpoint: str) -> Document:
        reader = RecordReader(data, names.canonical(mountpoint))
        return Document(reader.read(), _Original(data, reader.copies))

    def read_below(self, data: bytes, mountpoint: str, start: str) -> KeySet:
        """The keys of ``read`` at or below ``start``; only their records are parsed."""
        document = self.read_region(data, mountpoint, start)
        if document is None:
            return self.read(data, names.canonical(mountpoint)).keys.below(start)
        return document.keys

    def read_region(self, data: bytes, mountpoint: str, start: str) -> Document | None:
        """The keys at or below ``start`` as a document whose write changes only their
        records; None if the file needs a full read (see ``dump_region``) or keeps the records
        apart (a file not in key order)."""
        mountpoint = names.canonical(mountpoint)
        prefix = names.prefix_below(mountpoint)
        if not start.startswith(prefix):
            return None
        relative = start[len(prefix) :].encode()
        try:
            spans = records_below(data, relative)
        except Unusual:
            return None
        if any(one[1] != other[0] for one, other in pairwise(spans)):
            return None
        first, last = (spans[0][0], spans[-1][1]) if spans else (-1, -1)
        records = data[first:last] if spans else b""
        try:
            keys = RecordReader(HEADER + records + END, mountpoint).read()
        except ResourceError:
            return None  # the full read names the line in the file itself
        return Document(keys, Region(data, relative, first, last))

    def write(self, keys: KeySet, mountpoint: str, previous: Document | None) -> bytes:
        return self.write_document(keys, mountpoint, previous)[0]

    def write_document(
        self, keys: KeySet, mountpoint: str, previous: Document | None
    ) -> tuple[bytes, Document]:
        """``write``, and the document its bytes read back as, without parsing them: the
        file holds all there is to a key, so that is ``keys`` itself."""
        mountpoint = names.canonical(mountpoint)
        if previous is not None and isinstance(previous.state, Region):
            return self._write_region(keys, mountpoint, previous.state)
        original = previous_state(previous, _Original, "dump")
        if (
            previous is not None
            and original is not None
            and original.layout is None
            and previous.keys == keys
        ):
            # A file written by other means (version 1, another order) stays as it is as
            # long as its keys are unchanged.
            return original.data, previous
        writer = RecordWriter(keys, mountpoint, original.copies if original else {})
        order = list(keys)
        if original is not None and original.layout is not None:
            data, layout = splice(writer, order, original.layout, original.data)
        else:
            data, layout = render(writer, order)
        state = _Original(data, writer.kept_copies, None if writer.kept_copies else layout)
        return data, Document(writer.keys, state)

    def _write_region(
        self, keys: KeySet, mountpoint: str, region: Region
    ) -> tuple[bytes, Document]:
        """The file of ``region`` with the records of its keys replaced by those of
        ``keys`` (every one of them at or below the region's name)."""
        writer = RecordWriter(keys, mountpoint, {})
        records = b"".join(writer.record(key) for key in keys)
        first, last = region.start, region.end
        if first < 0:
            first = last = insertion_point(region.data, region.relative)
        data = b"".join([region.data[:first], records, region.data[last:]])
        return data, Document(writer.keys, _Original(data))


FORMAT = DumpFormat()
