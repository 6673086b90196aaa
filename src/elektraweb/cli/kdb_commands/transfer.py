"""Keys in and out of the KDB in a storage format: `kdb export` and `kdb import`.

The formats write names relative to one key, so both commands need a key with a namespace.
"""

from __future__ import annotations

import sys

from elektraweb.cli.kdb_commands import subtree
from elektraweb.cli.kdb_commands.command import (
    BAD_ARGUMENTS,
    COMMAND_SPECIFIC,
    INVALID_INPUT,
    OK,
    Command,
    CommandError,
    Invocation,
    Option,
)
from elektraweb.cli.kdb_commands.keys import warn_if_invalid
from elektraweb.kdb.database import KDB
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.spec import strip_spec
from elektraweb.kdb.storage import FORMATS, StorageFormat, get_format

DEFAULT_FORMAT = "dump"
ELEKTRA = "system:/elektra"

# libelektra's import strategies (kdb-import.md, elektra-merge-strategy.md), with the older
# spellings kept so existing scripts work: our/their (cmerge), preserve (old default),
# import (deprecated, "imported keys win").
STRATEGIES = {
    "abort": "abort",
    "preserve": "abort",
    "ours": "ours",
    "our": "ours",
    "theirs": "theirs",
    "their": "theirs",
    "import": "theirs",
    "cut": "cut",
}


def run_export(invocation: Invocation) -> int:
    name = subtree.namespaced(invocation.arguments[0], "to export", COMMAND_SPECIFIC)
    storage = _format(invocation)
    # What the files hold: without metadata a key only shows because its spec key has it.
    selected = strip_spec(KDB().get(name)).below(name)
    if invocation.flag("without_elektra"):
        selected.cut(ELEKTRA)
    sys.stdout.buffer.write(storage.write(selected, name, None))
    return OK


def run_import(invocation: Invocation) -> int:
    name = subtree.namespaced(invocation.arguments[0], "to import into")
    subtree.refuse_unstored(name)
    strategy = _strategy(invocation.value("strategy") or "abort")
    storage = _format(invocation)
    imported = storage.read(sys.stdin.buffer.read(), name).keys
    kdb = KDB()
    keys = kdb.get(name)
    if strategy == "cut":
        keys.cut(name)
    stored = strip_spec(keys)
    conflicts = [
        key.name
        for key in imported
        if (existing := stored.lookup(key.name)) is not None and not existing.same_content(key)
    ]
    if conflicts and strategy == "abort":
        listed = "\n".join(f"  {conflict}" for conflict in conflicts)
        raise CommandError(
            f"Import aborted: {len(conflicts)} key(s) exist with a different value or "
            f"metadata:\n{listed}\nUse -s ours, -s theirs or -s cut to resolve.",
            COMMAND_SPECIFIC,
        )
    kept = set(conflicts) if strategy == "ours" else set()
    for key in imported:
        if key.name not in kept:
            keys.add(key)
    # libelektra's own exports may carry checks we do not know or judge differently: their
    # keys come in as they are, their problems are reported as `kdb get` reports them.
    # What the KDB's specification demands is still enforced.
    kdb.set(keys, name, own_checks=False)
    taken = {key.name for key in imported} - kept
    warn_if_invalid(KeySet(key for key in kdb.get(name).below(name) if key.name in taken))
    if invocation.flag("verbose"):
        print(f"The merged keyset with strategy {strategy} is:")
        for key in keys.below(name):
            print(key.name)
    return OK


def _format(invocation: Invocation) -> StorageFormat:
    name = invocation.argument(1) or DEFAULT_FORMAT
    if name not in FORMATS:
        raise CommandError(
            f"Invalid arguments passed: unknown format '{name}' (known: {', '.join(FORMATS)})",
            INVALID_INPUT,
        )
    return get_format(name)


def _strategy(raw: str) -> str:
    strategy = STRATEGIES.get(raw)
    if strategy is None:
        raise CommandError(
            f"Invalid arguments passed: '{raw}' is not a valid strategy (abort, ours, theirs, cut)",
            BAD_ARGUMENTS,
        )
    return strategy


_FORMATS_HELP = f"Formats: {', '.join(FORMATS)} (default {DEFAULT_FORMAT}, Elektra's own format)."

COMMANDS = {
    "export": Command(
        name="export",
        summary="Export keys from the key database to stdout.",
        arguments=("<key name>", "[<format>]"),
        run=run_export,
        options=(Option(("-E", "--without-elektra"), "Omit the system:/elektra keys."),),
        details=_FORMATS_HELP + "\nThe key names in the output are relative to <key name>, which\n"
        "needs a namespace.",
        exits=((COMMAND_SPECIFIC, "no namespace given"),),
    ),
    "import": Command(
        name="import",
        summary="Import keys from stdin into the key database.",
        arguments=("<key name>", "[<format>]"),
        run=run_import,
        options=(
            Option(
                ("-s", "--strategy"), "How to resolve conflicts (default abort).", metavar="NAME"
            ),
            Option(("-v", "--verbose"), "Print the names of the merged keys."),
        ),
        details=_FORMATS_HELP
        + "\n\nA conflict is a key that exists both in the KDB and in the input, with a\n"
        "different value or metadata. Keys only in the KDB are kept, keys only in the\n"
        "input are added. Strategies:\n"
        "  abort   fail if there is any conflict, change nothing (default)\n"
        "  ours    on a conflict keep the KDB's key\n"
        "  theirs  on a conflict take the imported key\n"
        "  cut     remove every key below <key name> first, then import\n"
        "Imported keys whose own check/* metadata refuses their value are imported with a\n"
        "warning (as 'kdb get' gives); what the key database's spec:/ keys demand is enforced.\n"
        "libelektra's older names work too: our, their, preserve (= abort), import (= theirs).",
        exits=((COMMAND_SPECIFIC, "aborted because of conflicts"),),
    ),
}
