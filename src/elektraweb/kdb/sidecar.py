"""Sidecars: what a storage format cannot hold, kept beside its file so nothing is dropped.

A toml file has no place for ``check/type`` on a key, a json object cannot carry a value of
its own, an ini file knows no binary values. Such metadata and values go to a sidecar, a dump
file named after the data file with a leading dot and ``.meta`` appended (``app.toml`` →
``.app.toml.meta``), and are merged back on every read. The sidecar holds only keys that
need it and disappears when none do.
"""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path

from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import ALL_METADATA

# Marks a sidecar key whose value (not only metadata) the data file could not hold.
VALUE_HELD = "internal/sidecar/value"
SIDECAR_FORMAT = "dump"


def sidecar_path(file: Path) -> Path:
    return file.with_name(f".{file.name}.meta")


def for_format(keys: KeySet, native_meta: Container[str]) -> KeySet:
    """The keys as the storage format should see them: only metadata it holds natively.

    ``keys`` itself for a format that holds all metadata; otherwise a new KeySet.
    """
    if native_meta is ALL_METADATA:
        return keys
    if all(name in native_meta for key in keys for name in key.meta):
        return KeySet(keys)
    result = KeySet()
    for key in keys:
        if all(name in native_meta for name in key.meta):
            result.add(key)
        else:
            meta = {n: v for n, v in key.meta.items() if n in native_meta}
            result.add(Key(key.name, key.value, meta))
    return result


def leftovers(desired: KeySet, read_back: KeySet) -> KeySet:
    """What the sidecar must hold so that data file plus sidecar read back as ``desired``.

    ``read_back`` is what the format reads from the bytes it wrote, so anything the format
    could not place, for whatever reason, is caught here rather than lost.
    """
    result = KeySet()
    for key in desired:
        back = read_back.lookup(key.name)
        value_lost = back is None or back.value != key.value
        meta = {n: v for n, v in key.meta.items() if back is None or back.meta.get(n) != v}
        if value_lost or meta:
            if value_lost:
                meta[VALUE_HELD] = "1"
            result.add(Key(key.name, key.value if value_lost else None, meta))
    return result


def merged(data_keys: KeySet, sidecar_keys: KeySet) -> KeySet:
    """The data file's keys with the sidecar's values and metadata put back.

    A sidecar entry holding only metadata for a key that is gone from the data file (someone
    removed it by hand) is stale and ignored.
    """
    if not len(sidecar_keys):
        return data_keys
    result = KeySet(data_keys)
    for extra in sidecar_keys:
        meta = dict(extra.meta)
        value_held = meta.pop(VALUE_HELD, None) is not None
        target = result.lookup(extra.name)
        if target is None:
            if not value_held:
                continue
            target = Key(extra.name)
            result.add(target)
        else:
            target = target.copy()
            result.add(target)
        if value_held:
            target.value = extra.value
        target.meta.update(meta)
    return result
