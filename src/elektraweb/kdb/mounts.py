"""Mountpoints: which file, in which storage format, holds which part of the key database.

The mount table is itself kept as keys below ``system:/elektra/mountpoints`` (one entry per
``mount`` call, named after the mountpoint with its slashes escaped)::

    system:/elektra/mountpoints/user:\\/app          (the entry)
    system:/elektra/mountpoints/user:\\/app/path     = app.toml
    system:/elektra/mountpoints/user:\\/app/format   = toml

Those keys live in the bootstrap file ``elektra.ecf`` (dump format) in the system root. Every
persistent namespace also has a default mount at its root, ``default.ecf`` (dump format), which
keeps every key not below another mountpoint. ``proc:/`` and ``default:/`` are never stored.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

from elektraweb.kdb import names
from elektraweb.kdb.errors import MountError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import get_format

ELEKTRA = "system:/elektra"
MOUNTPOINTS = "system:/elektra/mountpoints"
DEFAULT_FILE = "default.ecf"
BOOTSTRAP_FILE = "elektra.ecf"
DEFAULT_FORMAT = "dump"
# Namespaces kept in files, in the order a cascading mountpoint expands to.
PERSISTENT_NAMESPACES = ("spec", "dir", "user", "system")
MEMORY_NAMESPACES = ("proc", "default")
_REGIONS_CACHED = 4096  # parents whose mounts are remembered; a daemon sees many parents


class Paths(NamedTuple):
    """Where each namespace keeps its files (libelektra's resolver, ``KDB_ROOT`` aware).

    ``system``, ``user``, ``dir`` and ``spec`` are the roots that relative mount paths and the
    default storage resolve against; ``home`` and ``cwd`` anchor absolute paths of user and
    dir mounts, which libelektra reads as relative to the home or working directory.
    """

    system: Path
    user: Path
    dir: Path
    spec: Path
    home: Path
    cwd: Path

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> Paths:
        """libelektra's defaults, or everything below ``$KDB_ROOT`` when that is set."""
        env = os.environ if environ is None else environ
        home = Path(env.get("HOME") or pwd.getpwuid(os.getuid()).pw_dir)
        cwd = Path.cwd() if cwd is None else cwd
        root = env.get("KDB_ROOT")
        if root:
            base = Path(os.path.abspath(root))
            return cls(base / "system", base / "user", base / "dir", base / "spec", home, cwd)
        return cls(
            system=Path("/etc/kdb"),
            user=home / ".config",
            dir=cwd / ".dir",
            spec=Path("/usr/share/elektra/specification"),
            home=home,
            cwd=cwd,
        )

    def root_of(self, namespace: str) -> Path:
        root: Path = getattr(self, namespace)
        return root

    def resolve(self, file: str, namespace: str) -> Path:
        """The file a mount path means in ``namespace`` (libelektra's resolver rules)."""
        path = Path(file)
        if not path.is_absolute():
            resolved = self.root_of(namespace) / path
        elif namespace in ("system", "spec"):
            resolved = path
        else:
            anchor = self.home if namespace == "user" else self.cwd
            resolved = anchor / path.relative_to("/")
        return Path(os.path.normpath(resolved))


class Mountpoint(NamedTuple):
    """One recorded mount: a key (cascading or one namespace), a file as given, a format,
    the check plugins named with it (``elektraweb.kdb.plugins``) and, for a cascading
    mount that leaves some namespaces out (``kdb spec-mount``), the ones it covers."""

    name: str
    path: str
    format: str
    plugins: tuple[str, ...] = ()
    only: tuple[str, ...] = ()

    @property
    def namespaces(self) -> tuple[str, ...]:
        namespace = names.namespace_of(self.name)
        if namespace != names.CASCADING:
            return (namespace,)
        return self.only or PERSISTENT_NAMESPACES

    @staticmethod
    def entry_name(name: str) -> str:
        """Where the mount table records the mountpoint ``name``."""
        return names.child(MOUNTPOINTS, name)

    def resolved(self, paths: Paths) -> list[Mount]:
        """The mounts this mountpoint makes: one per namespace, each with its file."""
        return _expand(self, paths)

    def keys(self) -> KeySet:
        """This mountpoint's entry in the mount table."""
        entry = self.entry_name(self.name)
        keys = KeySet(
            [
                Key(entry, ""),
                Key(names.child(entry, "path"), self.path),
                Key(names.child(entry, "format"), self.format),
            ]
        )
        for field_name in ("plugins", "only"):
            if listed := getattr(self, field_name):
                keys.add(Key(names.child(entry, field_name), " ".join(listed)))
        return keys


class Mount(NamedTuple):
    """A mountpoint resolved for one namespace: the keys at and below ``name`` live in ``file``."""

    name: str
    file: Path
    format: str
    origin: str  # the recorded mountpoint's name, or "" for built-in mounts

    @property
    def builtin(self) -> bool:
        return self.origin == ""


class Region(NamedTuple):
    """The keys of ``mount`` at and below ``start``."""

    mount: Mount
    start: str


class MountTable:
    """The recorded mountpoints plus the built-in mounts, resolved against ``paths``."""

    def __init__(self, mountpoints: Iterable[Mountpoint], paths: Paths) -> None:
        self.paths = paths
        self.mountpoints = tuple(sorted(mountpoints, key=lambda mp: names.sort_key(mp.name)))
        resolved = [
            Mount(names.join(ns, ()), paths.root_of(ns) / DEFAULT_FILE, DEFAULT_FORMAT, "")
            for ns in PERSISTENT_NAMESPACES
        ]
        resolved.append(bootstrap_mount(paths))
        for mountpoint in self.mountpoints:
            resolved.extend(_expand(mountpoint, paths))
        self.mounts = tuple(resolved)
        self._by_key = {names.split(m.name): m for m in resolved}
        self._submounts = {
            m: tuple(o.name for o in resolved if _strictly_below(o, *names.split(m.name)))
            for m in resolved
        }
        self._regions: dict[str, tuple[Region, ...]] = {}

    def mount_of(self, name: str) -> Mount:
        """The mount that stores the key ``name`` (the deepest mountpoint at or above it)."""
        namespace, parts = names.split(name)
        if namespace not in PERSISTENT_NAMESPACES:
            raise MountError(f"{name!r} is not stored in any file: {_why_unmounted(namespace)}")
        for depth in range(len(parts), -1, -1):
            mount = self._by_key.get((namespace, parts[:depth]))
            if mount is not None:
                return mount
        raise AssertionError("every persistent namespace has a root mount")

    def regions(self, parent: str) -> tuple[Region, ...]:
        """Each mount holding keys at or below ``parent`` (cascading: in every namespace),
        with the name at which its share of them starts."""
        regions = self._regions.get(parent)
        if regions is None:
            if len(self._regions) >= _REGIONS_CACHED:
                self._regions.clear()
            regions = self._regions[parent] = tuple(self._compute_regions(parent))
        return regions

    def _compute_regions(self, parent: str) -> Iterator[Region]:
        namespace, parts = names.split(parent)
        spaces = PERSISTENT_NAMESPACES if namespace == names.CASCADING else (namespace,)
        for space in spaces:
            if space not in PERSISTENT_NAMESPACES:
                continue
            start = names.join(space, parts)
            yield Region(self.mount_of(start), start)
            for mount in self.mounts:
                if _strictly_below(mount, space, parts):
                    yield Region(mount, mount.name)

    def submounts(self, mount: Mount) -> tuple[str, ...]:
        """Mountpoints strictly below ``mount``: their keys are not ``mount``'s."""
        return self._submounts[mount]

    def adding(self, mountpoint: Mountpoint) -> MountTable:
        """This table plus ``mountpoint``; MountError says why it cannot be mounted."""
        _check_mountpoint_name(mountpoint.name)
        get_format(mountpoint.format)
        if not mountpoint.path:
            raise MountError(f"cannot mount {mountpoint.name}: the file name is empty")
        taken = {m.name: m for m in self.mounts}
        files = {m.file: m for m in self.mounts}
        for mount in _expand(mountpoint, self.paths):
            if mount.name in taken:
                other = taken[mount.name]
                raise MountError(
                    f"cannot mount {mountpoint.name}: mountpoint {mount.name} is already "
                    f"mounted (file {other.file})",
                    key=mountpoint.name,
                )
            if mount.file in files:
                other = files[mount.file]
                raise MountError(
                    f"cannot mount {mount.file} at {mount.name}: that file is already "
                    f"mounted at {other.name}",
                    key=mountpoint.name,
                )
        return MountTable((*self.mountpoints, mountpoint), self.paths)

    def removing(self, name: str) -> MountTable:
        """This table without the mountpoint ``name`` (as it was mounted)."""
        canonical = names.canonical(name)
        remaining = [mp for mp in self.mountpoints if mp.name != canonical]
        if len(remaining) == len(self.mountpoints):
            raise MountError(f"cannot unmount {canonical}: nothing is mounted there", key=name)
        return MountTable(remaining, self.paths)

    @classmethod
    def from_keys(cls, ks: KeySet, paths: Paths) -> MountTable:
        """Read the entries below ``system:/elektra/mountpoints``; MountError for a bad one."""
        mountpoints = []
        for entry in ks.children(MOUNTPOINTS, depth=1):
            name = names.basename(entry)
            path = ks.lookup(names.child(entry, "path"))
            fmt = ks.lookup(names.child(entry, "format"))
            if path is None or fmt is None or not path.text or not fmt.text:
                raise MountError(f"mountpoint entry {entry} lacks 'path' or 'format'", key=entry)
            try:
                canonical = names.canonical(name)
            except ValueError as exc:
                raise MountError(f"mountpoint entry {entry}: {exc}", key=entry) from exc
            listed = [
                tuple(key.text.split()) if (key := ks.lookup(names.child(entry, f))) else ()
                for f in ("plugins", "only")
            ]
            if not set(listed[1]) <= set(PERSISTENT_NAMESPACES):
                raise MountError(f"mountpoint entry {entry}: bad 'only' {listed[1]}", key=entry)
            mountpoints.append(Mountpoint(canonical, path.text, fmt.text, *listed))
        return cls(mountpoints, paths)


def bootstrap_mount(paths: Paths) -> Mount:
    """The built-in mount of ``system:/elektra``, which holds the mount table itself."""
    return Mount(ELEKTRA, paths.system / BOOTSTRAP_FILE, DEFAULT_FORMAT, "")


def _expand(mountpoint: Mountpoint, paths: Paths) -> list[Mount]:
    parts = names.parts_of(mountpoint.name)
    mounts: list[Mount] = []
    files: set[Path] = set()
    # A cascading mount of an absolute path resolves spec and system to the same file; that
    # file then holds the system keys only, since one file cannot serve two namespaces.
    for namespace in reversed(mountpoint.namespaces):
        file = paths.resolve(mountpoint.path, namespace)
        if file in files:
            continue
        files.add(file)
        mounts.append(Mount(names.join(namespace, parts), file, mountpoint.format, mountpoint.name))
    mounts.reverse()
    return mounts


def _strictly_below(mount: Mount, namespace: str, parts: tuple[str, ...]) -> bool:
    space, mount_parts = names.split(mount.name)
    depth = len(parts)
    return space == namespace and len(mount_parts) > depth and mount_parts[:depth] == parts


def _why_unmounted(namespace: str) -> str:
    if namespace in MEMORY_NAMESPACES:
        return f"{namespace}:/ keys are kept in memory only"
    if namespace == names.CASCADING:
        return "a cascading name denotes one key in several namespaces; give a namespace"
    return f"{namespace}:/ keys are never stored"


def _check_mountpoint_name(name: str) -> None:
    namespace, parts = names.split(name)
    if namespace not in PERSISTENT_NAMESPACES and namespace != names.CASCADING:
        raise MountError(f"cannot mount {name}: {_why_unmounted(namespace)}", key=name)
    if not parts:
        raise MountError(
            f"cannot mount {name}: the root of a namespace always uses the default storage",
            key=name,
        )
    if namespace in (names.CASCADING, "system") and parts[0] == "elektra":
        raise MountError(
            f"cannot mount {name}: system:/elektra is reserved for the KDB's own configuration",
            key=name,
        )
