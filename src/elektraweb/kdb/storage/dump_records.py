"""The records of Elektra's dump format: reading a file's records into keys, and writing a
key's record.

Version 2 (written and read), one command per key or metadata entry, sizes in bytes::

    kdbOpen 2
    $key string <name size> <value size>     (or ``binary``; a binary key of size 0 has no
    <name relative to the mountpoint>         value at all, ``binary-empty`` with size 0
    <value>                                   is an empty binary value, b"")
    $meta <name size> <value size>
    <metadata name>
    <metadata value>
    $copymeta <key name size> <metadata name size>    (metadata shared with an earlier key)
    <key name>
    <metadata name>
    $end

Version 1 (read only) uses ``ksNew``/``keyNew``/``keyMeta``/``keyCopyMeta``/``keyEnd``/
``ksEnd`` with NUL-terminated payloads and full key names (``system/...`` or ``system:/...``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from elektraweb.kdb import names
from elektraweb.kdb.errors import KDBError, ResourceError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet

_VERSION_2 = b"kdbOpen 2"
_KEY_RECORD = re.compile(
    rb"\$key (?P<type>string|binary(?:-empty)?) (?P<first>[0-9]+) (?P<second>[0-9]+)\n"
)
_META_RECORD = re.compile(rb"\$meta(?P<type>) (?P<first>[0-9]+) (?P<second>[0-9]+)\n")
_BINARY = "binary"
HEADER = b"kdbOpen 2\n"
# The value of a binary $key record of size 0, by its type: libelektra's ``binary`` of size
# 0 is no value at all, so an empty binary value (b"") needs a type of its own to survive.
_EMPTY = b"binary-empty"
_EMPTY_BINARY: Mapping[bytes, bytes | None] = MappingProxyType({b"binary": None, _EMPTY: b""})
END = b"$end\n"


class RecordReader:
    """The keys of a version 1 or 2 file below ``mountpoint``, and the metadata its
    $copymeta records share (``copies``), which a write keeps shared."""

    def __init__(self, data: bytes, mountpoint: str) -> None:
        self.data = data
        self.mountpoint = mountpoint
        self.prefix = names.prefix_below(mountpoint)
        self.keys: dict[str, Key] = {}
        self.copies: dict[tuple[str, str], str] = {}

    def read(self) -> KeySet:
        data = self.data
        if not data:
            return KeySet()
        end_of_line = data.find(b"\n")
        header = data[: end_of_line if end_of_line >= 0 else len(data)]
        if header.rstrip(b"\r") == _VERSION_2:
            self._read_version_2(end_of_line + 1)
        elif header.split() == [b"kdbOpen", b"1"]:
            self._read_version_1(end_of_line + 1)
        else:
            raise self._error(0, f"expected 'kdbOpen 1' or 'kdbOpen 2', found {header[:40]!r}")
        return KeySet(self.keys.values())

    def _error(self, pos: int, message: str) -> ResourceError:
        line = self.data.count(b"\n", 0, pos) + 1
        return ResourceError(f"dump: line {line}: {message}")

    def _command(self, pos: int) -> tuple[list[bytes], int]:
        """The words of the command line at ``pos`` and where its payload starts."""
        end_of_line = self.data.find(b"\n", pos)
        if end_of_line < 0:
            end_of_line = len(self.data)
        return self.data[pos:end_of_line].split(), end_of_line + 1

    def _sizes(self, words: list[bytes], pos: int, usage: str) -> tuple[int, int]:
        """The two sizes that end a command line of the form ``usage``."""
        try:
            first, second = int(words[-2]), int(words[-1])
        except (ValueError, IndexError):
            first = second = -1
        if len(words) != usage.count("<") + 1 or first < 0 or second < 0:
            raise self._error(pos, f"expected '{usage}', found {b' '.join(words)[:60]!r}")
        return first, second

    def _payload(self, start: int, size: int) -> tuple[bytes, int]:
        """``size`` bytes at ``start``, which must be followed by a line break (version 2)."""
        end = start + size
        if end >= len(self.data) or self.data[end] != 0x0A:
            raise self._error(start, f"expected a line break after {size} bytes")
        return self.data[start:end], end + 1

    def _text(self, raw: bytes, pos: int, what: str) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self._error(pos, f"{what} is not valid UTF-8") from None

    def _key(self, full_name: str, value: str | bytes | None, pos: int) -> Key:
        try:
            key = Key(full_name, value)
        except KDBError as error:
            raise self._error(pos, error.message) from None
        if "." in full_name and not names.is_below_or_same(key.name, self.mountpoint):
            raise self._error(pos, f"the key {key.name} is not below {self.mountpoint}")
        return key

    def _relative(self, raw: bytes, pos: int) -> str:
        name = self._text(raw, pos, "the key name")
        return self.prefix + name if name else self.mountpoint

    def _read_version_2(self, pos: int) -> None:
        data, size, keys = self.data, len(self.data), self.keys
        prefix, mountpoint = self.prefix, self.mountpoint
        key_record, meta_record = _KEY_RECORD.match, _META_RECORD.match
        current: Key | None = None
        value: str | bytes | None
        while pos < size:
            # Fast path for well-formed $key and $meta records; anything unusual (and every
            # error) goes through the general code below, which explains what is wrong.
            record = key_record(data, pos) or meta_record(data, pos)
            if record is not None:
                first_start = record.end()
                first_end = first_start + int(record["first"])
                second_end = first_end + 1 + int(record["second"])
                if second_end < size and data[first_end] == 10 and data[second_end] == 10:
                    first = data[first_start:first_end]
                    second = data[first_end + 1 : second_end]
                    try:
                        if not record["type"]:
                            if current is not None:
                                current.meta[first.decode()] = second.decode()
                                pos = second_end + 1
                                continue
                        elif b"." not in first and not (second and record["type"] == _EMPTY):
                            name = prefix + first.decode() if first else mountpoint
                            value = (
                                second.decode()
                                if record["type"] == b"string"
                                else (second or _EMPTY_BINARY[record["type"]])
                            )
                            current = Key(name, value)
                            keys[current.name] = current
                            pos = second_end + 1
                            continue
                    except (UnicodeDecodeError, KDBError):
                        pass
            start = pos
            words, pos = self._command(pos)
            command = words[0] if words else b""
            if command == b"$key":
                name_size, value_size = self._sizes(
                    words, start, "$key <type> <name size> <value size>"
                )
                raw_name, pos = self._payload(pos, name_size)
                raw_value, pos = self._payload(pos, value_size)
                if words[1] == b"string":
                    value = self._text(raw_value, start, "the value")
                elif words[1] in _EMPTY_BINARY:
                    if value_size and words[1] == _EMPTY:
                        raise self._error(start, "a binary-empty key with a value")
                    value = raw_value if value_size else _EMPTY_BINARY[words[1]]
                else:
                    raise self._error(start, f"unknown key type {words[1]!r}")
                current = self._key(self._relative(raw_name, start), value, start)
                keys[current.name] = current
            elif command in (b"$meta", b"$copymeta"):
                if current is None:
                    raise self._error(start, f"{command.decode()} before the first $key")
                usage = (
                    "$meta <name size> <value size>"
                    if command == b"$meta"
                    else "$copymeta <key name size> <metadata name size>"
                )
                first_size, second_size = self._sizes(words, start, usage)
                first, pos = self._payload(pos, first_size)
                second, pos = self._payload(pos, second_size)
                if command == b"$meta":
                    current.meta[self._text(first, start, "the metadata name")] = self._text(
                        second, start, "the metadata value"
                    )
                else:
                    self._copy_meta(
                        current,
                        self._relative(first, start),
                        self._text(second, start, "the metadata name"),
                        start,
                    )
            elif command == b"$end":
                return
            else:
                raise self._error(start, f"unknown command {command[:40]!r}")

    def _copy_meta(self, key: Key, source_name: str, meta_name: str, pos: int) -> None:
        source = self.keys.get(names.canonical(source_name))
        if source is None:
            raise self._error(
                pos, f"metadata is copied from {source_name}, which is not defined before"
            )
        value = source.meta.get(meta_name)
        if value is None:
            key.meta.pop(meta_name, None)  # as libelektra's keyCopyMeta from a key without it
            return
        key.meta[meta_name] = value
        self.copies[(key.name, meta_name)] = source.name

    def _read_version_1(self, pos: int) -> None:
        data = self.data
        current: tuple[str, bytes, dict[str, str], int] | None = None
        while pos < len(data):
            start = pos
            words, pos = self._command(pos)
            command = words[0] if words else b""
            if command in (b"keyNew", b"keyMeta", b"keyCopyMeta"):
                first_size, second_size = self._sizes(
                    words, start, f"{command.decode()} <size> <size>"
                )
                first = data[pos : pos + first_size].rstrip(b"\0")
                second = data[pos + first_size : pos + first_size + second_size]
                if pos + first_size + second_size > len(data):
                    raise self._error(start, "the file ends inside a key")
                _, pos = self._command(pos + first_size + second_size)  # rest of that line
                if command == b"keyNew":
                    current = (self._version_1_name(first, start), second, {}, start)
                elif current is None:
                    raise self._error(start, f"{command.decode()} before keyNew")
                elif command == b"keyMeta":
                    current[2][self._text(first, start, "the metadata name")] = self._text(
                        second.rstrip(b"\0"), start, "the metadata value"
                    )
                else:
                    source = self.keys.get(names.canonical(self._version_1_name(first, start)))
                    meta_name = self._text(second.rstrip(b"\0"), start, "the metadata name")
                    if source is None or meta_name not in source.meta:
                        raise self._error(start, "metadata is copied from a key defined later")
                    current[2][meta_name] = source.meta[meta_name]
                    self.copies[(names.canonical(current[0]), meta_name)] = source.name
            elif command == b"keyEnd":
                if current is None:
                    raise self._error(start, "keyEnd before keyNew")
                name, raw, meta, key_start = current
                if _BINARY in meta:
                    value: str | bytes | None = raw or None
                else:
                    value = (
                        self._text(raw[:-1] if raw.endswith(b"\0") else raw, key_start, "the value")
                        if raw
                        else None
                    )
                key = self._key(name, value, key_start)
                key.meta.update(meta)
                self.keys[key.name] = key
                current = None
            elif command == b"ksEnd":
                return
            elif command not in (b"ksNew", b""):
                raise self._error(start, f"unknown command {command[:40]!r}")

    def _version_1_name(self, raw: bytes, pos: int) -> str:
        """Version 1 names are full names, in libelektra's old spelling ``user/app``."""
        name = self._text(raw, pos, "the key name")
        namespace, slash, rest = name.partition("/")
        if slash and namespace in names.NAMESPACE_RANK and namespace != names.CASCADING:
            name = f"{namespace}:/{rest}"
        if not name.startswith(self.prefix) and name != self.mountpoint:
            try:
                inside = names.is_below_or_same(name, self.mountpoint)
            except KDBError as error:
                raise self._error(pos, error.message) from None
            if not inside:
                raise self._error(
                    pos,
                    f"the key {name} is not below {self.mountpoint} "
                    "(version 1 files hold full key names)",
                )
        return name


def _meta_order(name: str) -> tuple[str, ...]:
    return tuple(name.split("/"))  # libelektra orders metadata by name, part by part


def _meta_of(keys: KeySet, name: str | None, meta_name: str) -> str | None:
    key = None if name is None else keys.lookup(name)
    return None if key is None else key.meta.get(meta_name)


class RecordWriter:
    """Version 2 records of the keys of one file."""

    def __init__(
        self, keys: KeySet, mountpoint: str, copies: Mapping[tuple[str, str], str]
    ) -> None:
        self.keys = keys
        self.mountpoint = mountpoint
        self.prefix = names.prefix_below(mountpoint)
        self.copies = copies
        self.written: set[str] = set()  # names rendered so far, needed only for $copymeta
        self.kept_copies: dict[tuple[str, str], str] = {}

    def record(self, key: Key) -> bytes:
        """The $key record of ``key`` with its metadata, in libelektra's order."""
        name = key.name
        if name.startswith(self.prefix):
            relative = name[len(self.prefix) :]
        elif name == self.mountpoint:
            relative = ""
        else:
            raise ResourceError(
                f"key {name} is not below the mountpoint {self.mountpoint}", key=name
            )
        try:
            raw_name = relative.encode()
            value = key.value
            if isinstance(value, bytes):
                kind, raw = b"binary" if value else _EMPTY, value
            else:
                kind, raw = (b"binary", b"") if value is None else (b"string", value.encode())
            out = [b"$key %b %d %d\n%b\n%b\n" % (kind, len(raw_name), len(raw), raw_name, raw)]
            for meta_name in sorted(key.meta, key=_meta_order):
                out.append(self._meta_record(name, meta_name, key.meta[meta_name]))
        except UnicodeEncodeError:
            raise ResourceError(
                f"the key {name} holds text that is not valid Unicode", key=name
            ) from None
        if self.copies:
            self.written.add(name)
        return b"".join(out)

    def _meta_record(self, name: str, meta_name: str, meta_value: str) -> bytes:
        raw_meta = meta_name.encode()
        source = self.copies.get((name, meta_name)) if self.copies else None
        if source in self.written and _meta_of(self.keys, source, meta_name) == meta_value:
            assert source is not None
            self.kept_copies[(name, meta_name)] = source
            raw_source = (source[len(self.prefix) :] if source != self.mountpoint else "").encode()
            return b"$copymeta %d %d\n%b\n%b\n" % (
                len(raw_source),
                len(raw_meta),
                raw_source,
                raw_meta,
            )
        raw_value = meta_value.encode()
        return b"$meta %d %d\n%b\n%b\n" % (len(raw_meta), len(raw_value), raw_meta, raw_value)
