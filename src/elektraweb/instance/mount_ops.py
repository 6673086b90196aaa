"""Mounts over the wire: list them (anyone), mount and unmount (confined to ``--mount-dir``).

elektrad decides on its own which files a remote mount may reach, whatever its client is
allowed: every file a mountpoint resolves to (one per namespace: relative paths below the
namespace roots, absolute ``user:``/``dir:`` paths below ``$HOME`` and the working directory)
is resolved to its real path (symlinks, ``..``) and must lie inside one of the operator's
``--mount-dir`` directories. Without any, remote mounting is off. The same rule decides which
mountpoints a remote ``umount`` may remove, so mounts the operator made on the host stay.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from elektraweb.instance.context import Host
from elektraweb.kdb.mounts import Mountpoint, MountTable
from elektraweb.kdb.protected import protected_root
from elektraweb.kdb.storage import FORMATS, format_for_file
from elektraweb.operations.arguments import Args
from elektraweb.operations.result import OperationResult
from elektraweb.wire.errors import ErrorCode, RemoteError, bad_request

MOUNT_DIR_OPTION = "--mount-dir"


def _real_files(host: Host, mountpoint: Mountpoint) -> list[Path]:
    return [Path(os.path.realpath(mount.file)) for mount in mountpoint.resolved(host.kdb.paths)]


def _outside(host: Host, files: list[Path]) -> Path | None:
    """The first of ``files`` (real paths) outside every allowed directory, or None."""
    for file in files:
        if not any(file.is_relative_to(folder) and file != folder for folder in host.mount_dirs):
            return file
    return None


def _unusable(file: Path) -> str:
    """Why ``file`` cannot hold keys ("" if it can, or may be created to)."""
    try:
        return "is a directory" if file.is_dir() else ""
    except OSError as error:  # a name too long, a parent that is a file, ...
        return f"cannot be used: {error.strerror}"


def _check_enabled(host: Host, op: str) -> None:
    if not host.mount_dirs:
        raise RemoteError(
            ErrorCode.FORBIDDEN,
            f"{op}: remote mounting is off on this host; its operator allows it for the files "
            f"below a directory by starting elektrad with {MOUNT_DIR_OPTION} DIR",
        )


def _allowed_dirs(host: Host) -> str:
    return ", ".join(str(folder) for folder in host.mount_dirs)


def mount_list(host: Host) -> list[dict[str, Any]]:
    """Every recorded mountpoint, with the files it resolves to and whether a remote
    ``umount`` may remove it (``managed``: all its files lie inside ``--mount-dir``)."""
    listing = []
    for mountpoint in host.kdb.mounts():
        files = _real_files(host, mountpoint)
        listing.append(
            {
                "mountpoint": mountpoint.name,
                "file": mountpoint.path,
                "format": mountpoint.format,
                "files": [str(file) for file in files],
                "managed": bool(host.mount_dirs) and _outside(host, files) is None,
            }
        )
    return listing


def mounts(host: Host, args: Args) -> OperationResult:
    return OperationResult(
        {"mounts": mount_list(host), "mount_dirs": [str(folder) for folder in host.mount_dirs]}
    )


def mount(host: Host, args: Args) -> OperationResult:
    _check_enabled(host, "mount")
    name = args.key("mountpoint")
    path = args.text("path")
    if not path or "\0" in path:
        raise bad_request("mount: argument 'path' must name a file")
    storage = args.text("format", "") or format_for_file(path)
    if storage not in FORMATS:
        raise bad_request(
            f"mount: argument 'format' must be one of {', '.join(FORMATS)}"
            + ("" if args.text("format", "") else f" (none follows from the name {path!r})")
        )
    mountpoint = Mountpoint(name, path, storage)
    for resolved in mountpoint.resolved(host.kdb.paths):
        root = protected_root(resolved.name)
        if root is not None:
            raise RemoteError(
                ErrorCode.PROTECTED,
                f"mount: {name} is protected: {root} holds the KDB's own configuration",
                key=name,
            )
    files = _real_files(host, mountpoint)
    outside = _outside(host, files)
    if outside is not None:
        raise RemoteError(
            ErrorCode.FORBIDDEN,
            f"mount: path {path!r} at {name} resolves to {outside}, which is outside the "
            f"directories this host allows remote mounts in ({_allowed_dirs(host)})",
            key=name,
        )
    # The table compares the paths as written; a symlink or `..` may name a mounted file too.
    table = MountTable(host.kdb.mounts(), host.kdb.paths)
    taken = {Path(os.path.realpath(existing.file)) for existing in table.mounts}
    for file in files:
        problem = "is already mounted" if file in taken else _unusable(file)
        if problem:
            raise bad_request(f"mount: path {path!r} at {name}: {file} {problem}")
    entry = host.kdb.mount(path, name, storage)
    result = {"mountpoint": entry.name, "file": entry.path, "format": entry.format}
    return OperationResult({**result, "files": [str(file) for file in files]})


def umount(host: Host, args: Args) -> OperationResult:
    _check_enabled(host, "umount")
    name = args.key("mountpoint")
    found = next((mp for mp in host.kdb.mounts() if mp.name == name), None)
    if found is None:
        raise RemoteError(ErrorCode.NOT_FOUND, f"umount: nothing is mounted at {name}", key=name)
    outside = _outside(host, _real_files(host, found))
    if outside is not None:
        raise RemoteError(
            ErrorCode.FORBIDDEN,
            f"umount: {name} holds {outside}, outside the directories this host allows remote "
            f"mounts in ({_allowed_dirs(host)}); its operator unmounts it with kdb umount",
            key=name,
        )
    host.kdb.umount(name)
    return OperationResult({"mountpoint": name, "file": found.path, "format": found.format})
