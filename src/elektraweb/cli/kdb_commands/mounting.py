"""Mounting files into the key database: `kdb mount` and `kdb umount`."""

from __future__ import annotations

import sys

from elektraweb.cli.kdb_commands.command import (
    BAD_ARGUMENTS,
    NULL,
    OK,
    Command,
    CommandError,
    Invocation,
    Option,
)
from elektraweb.kdb import names
from elektraweb.kdb.database import KDB
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
            "<file> <mountpoint> [<format>] to mount\n"
            "usage: kdb mount [options] [<file> <mountpoint> [<format>]]",
            BAD_ARGUMENTS,
        )
    file, mountpoint = arguments[0], names.canonical(arguments[1])
    storage = arguments[2] if len(arguments) == 3 else format_for_file(file) or FALLBACK_FORMAT
    if storage not in FORMATS:
        raise CommandError(
            f"Invalid arguments passed: unknown format '{storage}' (known: {', '.join(FORMATS)})",
            BAD_ARGUMENTS,
        )
    KDB().mount(file, mountpoint, storage)
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
        arguments=("[<file>]", "[<mountpoint>]", "[<format>]"),
        run=run_mount,
        options=(
            NULL,
            Option(("-1", "--first"), "Suppress the first column (the file)."),
            Option(("-2", "--second"), "Suppress the second column (the mountpoint)."),
            Option(("-3", "--third"), "Suppress the third column (the format)."),
        ),
        details="Without arguments, list every mountpoint as 'FILE on MOUNTPOINT with format\n"
        "FORMAT'. With arguments, mount FILE at MOUNTPOINT in FORMAT (one of "
        f"{', '.join(FORMATS)};\nby default guessed from the file's extension, else "
        f"{FALLBACK_FORMAT}).\n\n"
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
}
