"""Selecting the keys a command works on: a subtree, in one namespace or in all of them."""

from __future__ import annotations

import sys

from elektraweb.cli.kdb_commands.command import (
    BAD_ARGUMENTS,
    BAD_OPTIONS,
    CommandError,
    Invocation,
    Option,
)
from elektraweb.kdb import names
from elektraweb.kdb.database import KDB
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet

# Namespaces a cascading write may land in; proc:/ lives only in memory and default:/
# is computed from spec:/, so writing there would be lost.
WRITABLE_NAMESPACES = ("dir", "user", "system")
# libelektra's words, verbatim: scripts match them.
AMBIGUOUS_WRITE = "Aborting: A cascading write to a non-existent key is ambiguous."


def is_cascading(name: str) -> bool:
    return names.namespace_of(name) == names.CASCADING


def cascading(name: str) -> str:
    """The cascading form of a name (``user:/app`` → ``/app``)."""
    return names.with_namespace(name, names.CASCADING)


def mountpoint_of(kdb: KDB, name: str) -> str:
    """The cascading name of the deepest mountpoint at or above ``name``, else ``/``."""
    path = cascading(name)
    above = [
        cascading(mountpoint.name)
        for mountpoint in kdb.mounts()
        if names.is_below_or_same(path, cascading(mountpoint.name))
    ]
    return max(above, key=lambda found: len(names.parts_of(found)), default="/")


def namespaced(argument: str, purpose: str, exit_code: int = BAD_ARGUMENTS) -> str:
    """The canonical name of ``argument``, refused when it is cascading; ``purpose`` finishes
    the sentence "Specify a namespace ..." of the refusal."""
    name = names.canonical(argument)
    if is_cascading(name):
        raise CommandError(
            f"Aborting: Specify a namespace {purpose}, e.g. 'user:{name}'.", exit_code
        )
    return name


def refuse_unstored(name: str) -> None:
    """A `kdb` write to ``proc:/`` or ``default:/`` would report success and vanish with the
    process: the one lives in a process's memory, the other is computed from ``spec:/``."""
    namespace = names.namespace_of(name)
    if namespace in ("proc", "default"):
        kind = (
            "live only in the memory of a process"
            if namespace == "proc"
            else ("are computed from spec:/ defaults")
        )
        raise CommandError(
            f"Aborting: cannot write {name}: {namespace}:/ keys {kind} and are never stored; "
            "use the user:/, system:/, dir:/ or spec:/ namespace",
            BAD_ARGUMENTS,
        )


def below(keys: KeySet, name: str) -> list[Key]:
    """The key ``name`` and every key below it, in order.

    A cascading name selects its path in every namespace, as libelektra's ``ksCut`` does.
    """
    if not is_cascading(name):
        return list(keys.below(name))
    parts = names.parts_of(name)
    depth = len(parts)
    return [key for key in keys if key.parts[:depth] == parts]


def renamed(name: str, source: str, destination: str) -> str:
    """``name`` (at or below ``source``) moved to the same place below ``destination``."""
    return names.child(destination, *names.relative_parts(name, source))


DEPTH_OPTIONS = (
    Option(("-m", "--min-depth"), "Minimum depth relative to the key (default 0).", "DEPTH"),
    Option(
        ("-M", "--max-depth"),
        "Maximum depth relative to the key, exclusive "
        "(default unlimited; 1 with a trailing '/' shows the next level).",
        "DEPTH",
    ),
)


def depth_range(invocation: Invocation) -> tuple[int, int]:
    """The --min-depth and --max-depth given (default 0 and unlimited), checked."""
    low = _depth(invocation, "min_depth", 0)
    high = _depth(invocation, "max_depth", sys.maxsize)
    if high <= low:
        raise CommandError(
            f"Invalid arguments passed: the maximum depth ({high}) has to be larger "
            f"than the minimum depth ({low})",
            BAD_ARGUMENTS,
        )
    return low, high


def _depth(invocation: Invocation, option: str, default: int) -> int:
    raw = invocation.value(option)
    if raw is None:
        return default
    if not raw.isdigit():
        flag = "--" + option.replace("_", "-")
        raise CommandError(
            f"Invalid options passed: {flag} needs a number of levels (0 or more), not '{raw}'",
            BAD_OPTIONS,
        )
    return int(raw)


def ends_with_separator(argument: str) -> bool:
    """A trailing unescaped '/': the caller asks for the level below the name."""
    return argument.endswith("/") and not argument.endswith("\\/")
