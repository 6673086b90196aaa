"""Completing key names for shells: `kdb complete`."""

from __future__ import annotations

import sys

from elektraweb.cli.kdb_commands import subtree
from elektraweb.cli.kdb_commands.command import NULL, OK, Command, Invocation
from elektraweb.kdb import names
from elektraweb.kdb.database import KDB
from elektraweb.kdb.errors import InvalidNameError

# Namespaces offered even when empty, in libelektra's order.
OFFERED_NAMESPACES = ("spec", "proc", "dir", "user", "system")


def run_complete(invocation: Invocation) -> int:
    argument = invocation.argument(0) or ""
    low, high = subtree.depth_range(invocation)
    try:
        name = names.canonical(argument) if argument else None
    except InvalidNameError:
        name = None  # a namespace being typed, such as "us"
    nodes = _hierarchy(KDB())
    if name is None or (not names.parts_of(name) and not subtree.ends_with_separator(argument)):
        # Completing a namespace: the namespace roots (or everything) starting with it.
        prefix, level, cascading = argument, 0, False
    else:
        prefix, cascading = name, subtree.is_cascading(name)
        level = len(names.parts_of(name)) + subtree.ends_with_separator(argument)
    end = "\0" if invocation.flag("null") else "\n"
    for node in sorted(nodes, key=names.sort_key):
        shown = subtree.cascading(node) if cascading else node
        if not shown.startswith(prefix):
            continue
        if low <= len(names.parts_of(node)) - level < high:
            has_children = nodes[node] and bool(names.parts_of(node))
            sys.stdout.write(node + ("/" if has_children else "") + end)
    return OK


def _hierarchy(kdb: KDB) -> dict[str, bool]:
    """Every key name, the names above them and the namespace roots, each with whether
    something is below it. Mountpoints without keys count as names too."""
    nodes = {names.join(namespace, ()): True for namespace in OFFERED_NAMESPACES}
    stored = [key.name for key in kdb.get("/") if key.namespace in OFFERED_NAMESPACES]
    stored.extend(mountpoint.name for mountpoint in kdb.mounts())
    for name in stored:
        namespace, parts = names.split(name)
        nodes.setdefault(name, False)
        for depth in range(len(parts)):
            nodes[names.join(namespace, parts[:depth])] = True
    return nodes


COMMANDS = {
    "complete": Command(
        name="complete",
        summary="Suggest how a key name could be completed.",
        arguments=("[<name>]",),
        run=run_complete,
        options=(*subtree.DEPTH_OPTIONS, NULL),
        details="Suggests namespaces, existing key names, the names above them and\n"
        "mountpoints that start with NAME; names with keys below them end with '/'.\n"
        "A cascading NAME matches in every namespace. Without --max-depth every depth\n"
        "is shown; --max-depth=1 shows NAME's level, or the next one after a trailing '/'.",
    ),
}
