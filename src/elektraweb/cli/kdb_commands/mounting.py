"""Mounting files into the key database: `kdb mount` and `kdb umount`."""

from __future__ import annotations

import sys

from elektraweb.cli.kdb_commands.command import (
    BAD_ARGUMENTS,
    NOT_FOUND,
    NULL,
    OK,
    Command,
    CommandError,
    Invocation,
    Option,
)
from elektraweb.kdb import names
from elektraweb.kdb.database import KDB
from elektraweb.kdb.errors import MountError
from elektraweb.kdb.plugins import CHECKS, split_plugins
from elektraweb.kdb.storage import FORMATS, format_for_file

FALLBACK_FORMAT = "dump"


def run_mount(invocation: Invocation) -> int:
    arguments = invocation.arguments
    if not arguments:
        _list_mounts(invocation)
        return OK
    if len(arguments) == 1:
        raise CommandError(
            "Invalid arguments passed: give no arguments to list the mountpoints, or "
            "<file> <mountpoint> [<format and plugins>...] to mount\n"
            f"usage: {COMMANDS['mount'].usage}",
            BAD_ARGUMENTS,
        )
    file, mountpoint = arguments[0], names.canonical(arguments[1])
    storage, checks = _plugins(arguments[2:], mountpoint)
    KDB().mount(file, mountpoint, storage or format_for_file(file) or FALLBACK_FORMAT, checks)
    return OK


def _plugins(listed: list[str], mountpoint: str) -> tuple[str | None, tuple[str, ...]]:
    try:
        return split_plugins(listed, mountpoint)
    except MountError as error:
        raise CommandError(f"Invalid arguments passed: {error.message}", BAD_ARGUMENTS) from None


def run_spec_mount(invocation: Invocation) -> int:
    mountpoint = names.canonical(invocation.arguments[0])
    if names.namespace_of(mountpoint) != names.CASCADING:
        raise CommandError(
            f"Invalid arguments passed: the mountpoint must be cascading (start with '/'), "
            f"not '{mountpoint}'",
            BAD_ARGUMENTS,
        )
    kdb = KDB()
    spec_name = names.with_namespace(mountpoint, "spec")
    spec_key = kdb.get(spec_name).lookup(spec_name)
    file = spec_key.meta.get("mountpoint") if spec_key is not None else None
    if spec_key is None or not file:
        raise CommandError(
            f"{spec_name} has no metadata 'mountpoint' naming the file to mount: "
            "mount a specification there first",
            NOT_FOUND,
        )
    listed = [*spec_key.meta.get("infos/plugins", "").split(), *invocation.arguments[1:]]
    storage, checks = _plugins(listed, mountpoint)
    storage = storage or format_for_file(file) or FALLBACK_FORMAT
    kdb.mount(file, mountpoint, storage, checks, replace=True)
    return OK


def _list_mounts(invocation: Invocation) -> None:
    columns = [not invocation.flag(flag) for flag in ("first", "second", "third")]
    end = "\0" if invocation.flag("null") else "\n"
    for mountpoint in KDB().mounts():
        values = (mountpoint.path, mountpoint.name, mountpoint.format)
        if all(columns):
            sys.stdout.write(f"{values[0]} on {values[1]} with format {values[2]}{end}")
        else:
            shown = (value for value, show in zip(values, columns, strict=True) if show)
            sys.stdout.write("".join(value + end for value in shown))


def run_umount(invocation: Invocation) -> int:
    KDB().umount(names.canonical(invocation.arguments[0]))
    return OK


COMMANDS = {
    "mount": Command(
        name="mount",
        summary="Mount a file into the key database, or list the mountpoints.",
        arguments=("[<file>]", "[<mountpoint>]", "[<format and plugins>...]"),
        run=run_mount,
        options=(
            NULL,
            Option(("-1", "--first"), "Suppress the first column (the file)."),
            Option(("-2", "--second"), "Suppress the second column (the mountpoint)."),
            Option(("-3", "--third"), "Suppress the third column (the format)."),
        ),
        details="Without arguments, list every mountpoint as 'FILE on MOUNTPOINT with format\n"
        "FORMAT'. With arguments, mount FILE at MOUNTPOINT in FORMAT, one of\n"
        f"  {', '.join(FORMATS)}\n"
        f"(by default guessed from the file's extension, else {FALLBACK_FORMAT}). libelektra's\n"
        f"check plugins may be listed too, in any order:\n  {', '.join(CHECKS)}\n"
        "they are recorded; the checks are always on.\n\n"
        "A relative FILE resolves per namespace: system: /etc/kdb/FILE, user: ~/.config/FILE,\n"
        "dir: $PWD/.dir/FILE (all below $KDB_ROOT when that is set). A cascading mountpoint\n"
        "(starting with '/') mounts the file in the spec, dir, user and system namespaces.\n"
        "One file cannot be mounted twice.\n\n"
        "Example:  kdb mount app.toml user:/app toml",
    ),
    "umount": Command(
        name="umount",
        summary="Unmount a mountpoint from the key database.",
        arguments=("<mountpoint>",),
        run=run_umount,
        details="The mounted file stays as it is; its keys just leave the key database.",
    ),
    "spec-mount": Command(
        name="spec-mount",
        summary="Mount the file a specification names, in dir, user and system.",
        arguments=("</mountpoint>", "[<plugin>...]"),
        run=run_spec_mount,
        details="spec:/MOUNTPOINT names the file in its metadata 'mountpoint' and the format\n"
        "and plugins in 'infos/plugins' (e.g. 'dump validation'); more plugins may follow\n"
        "on the command line. A spec-mount already there is replaced; namespaces mounted\n"
        "at MOUNTPOINT on their own (spec:/MOUNTPOINT, usually) are left out.",
        exits=((NOT_FOUND, "the spec key names no file in 'mountpoint'"),),
    ),
}
