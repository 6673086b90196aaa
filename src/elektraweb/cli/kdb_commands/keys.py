"""Reading and writing single keys: `kdb get`, `set`, `ls`, `find` and `file`."""

from __future__ import annotations

import sys

from elektraweb.cli.kdb_commands import subtree
from elektraweb.cli.kdb_commands.command import (
    BAD_ARGUMENTS,
    COMMAND_SPECIFIC,
    NO_NEWLINE,
    NOT_FOUND,
    NULL,
    OK,
    QUIET,
    Command,
    CommandError,
    Invocation,
    Option,
)
from elektraweb.kdb import cascade, names, validation
from elektraweb.kdb.database import KDB
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.posixre import PosixRegexError, compile_ere


def run_get(invocation: Invocation) -> int:
    name = names.canonical(invocation.arguments[0])
    verbose = invocation.flag("verbose")
    kdb = KDB()
    parent = name
    if invocation.flag("all"):
        parent = "/"
    elif verbose:
        # The key count libelektra prints is of the whole mountpoint the key is in.
        parent = subtree.mountpoint_of(kdb, name)
    # A one-shot read: of a big dump file only the records below ``parent`` are parsed.
    keys = KeySet(kdb.peek(parent))
    if verbose:
        print(f"got {len(keys)} keys")
    if not invocation.flag("all"):
        _add_link_targets(kdb, keys, name)
    if verbose and subtree.is_cascading(name):
        _explain_lookup(keys, name)
    key = cascade.lookup(keys, name)
    if key is None:
        raise CommandError(f"Did not find key '{name}'", NOT_FOUND)
    if verbose:
        _explain_result(key)
    warn_if_invalid(KeySet([key]))
    end = "" if invocation.flag("no_newline") else "\n"
    sys.stdout.write(_printable(key) + end)
    return OK


def _explain_lookup(keys: KeySet, name: str) -> None:
    """libelektra's lookup trace: the spec key (looked up with a callback), then, indented,
    the names tried after it; the namespaces only when no spec key steers the lookup."""
    trace = cascade.explain(keys, name)
    (spec_name, spec_found, _), rest = trace[0], trace[1:]
    print(f"searching {spec_name}, found: {_found(spec_name, spec_found)}, options: KDB_O_CALLBACK")
    in_namespaces = {
        names.with_namespace(name, ns) for ns in (*cascade.VALUE_NAMESPACES, "default")
    }
    for tried, found, _ in rest:
        if not (spec_found and tried in in_namespaces):
            print(f"    searching {tried}, found: {_found(tried, found)}")


def _found(name: str, found: bool) -> str:
    return name if found else "<nothing>"


def _add_link_targets(kdb: KDB, keys: KeySet, name: str) -> None:
    """Read the keys that override/# and fallback/# links lead to outside ``name``, as
    libelektra's `kdb get` does; a target's own spec key may link further on."""
    read = [subtree.cascading(name)]
    while True:
        trace = cascade.explain(keys, name)
        tried = {subtree.cascading(step.name) for step in trace if names.is_valid(step.name)}
        outside = {n for n in tried if not any(names.is_below_or_same(n, done) for done in read)}
        if not outside:  # every round reads a new subtree, and the links are finitely many
            return
        for target in sorted(outside):
            keys.extend(kdb.peek(target))
            read.append(target)


def warn_if_invalid(keys: KeySet) -> None:
    """Warn on stderr of every key whose value its metadata does not allow."""
    # A value written behind the KDB's back may break its own metadata: show it, still print
    # it (as libelektra's kdb get does with warnings), so the operator can see what to fix.
    problems = validation.find_problems(keys)
    for problem in problems:
        print(f"Warning {problem.code}: {problem.message}", file=sys.stderr)


def _explain_result(key: Key) -> None:
    if key.namespace == "default":
        print("The key was not found in any other namespace, taking the default")
    print(f"The resulting keyname is {key.name}")
    print(f"The resulting value size is {_value_size(key)}")
    if key.value is None:
        print("The key is null.")
    elif isinstance(key.value, bytes):
        print("The key is binary.")


def _value_size(key: Key) -> int:
    if key.value is None:
        return 0
    if isinstance(key.value, bytes):
        return len(key.value)
    # libelektra counts the C string's terminating NUL in the value size.
    return len(key.value.encode()) + 1


def _printable(key: Key) -> str:
    if isinstance(key.value, bytes):
        return "".join(f"\\x{byte:x}" for byte in key.value)
    return key.text


def run_set(invocation: Invocation) -> int:
    name = names.canonical(invocation.arguments[0])
    subtree.refuse_unstored(name)
    value = invocation.arguments[1]
    parent = subtree.cascading(name)
    kdb = KDB()
    # Of a big dump file only the records below ``parent`` are read, and rewritten.
    keys = KeySet(kdb.peek(parent))
    if subtree.is_cascading(name):
        key = cascade.lookup(keys, name)
        if key is None or key.namespace not in subtree.WRITABLE_NAMESPACES:
            raise CommandError(subtree.AMBIGUOUS_WRITE, COMMAND_SPECIFIC)
        report = [f'Set string to "{value}"', f"Using name {key.name}"]
    else:
        existing = keys.lookup(name)
        if existing is None:
            key = Key(name)
            report = [f'Create a new key {name} with string "{value}"']
        else:
            key = existing
            report = [f'Set string to "{value}"']
    key = key.copy()  # the peek's keys are read-only
    key.value = value
    keys.add(key)
    kdb.set(keys, parent, validate=not invocation.flag("force"))
    if not invocation.flag("quiet"):
        print("\n".join(report))
    return OK


def run_ls(invocation: Invocation) -> int:
    argument = invocation.arguments[0]
    root = names.canonical(argument)
    min_depth, max_depth = subtree.depth_range(invocation)
    keys = KDB().get(root)
    selected = subtree.below(keys, root)
    if invocation.flag("verbose"):
        print(f"size of all keys in mount point: {len(keys)}")
        print(f"size of requested keys: {len(selected)}")
    # As in libelektra: a trailing '/' (or the root of a namespace) lists from the next level.
    offset = 1 if not names.parts_of(root) or subtree.ends_with_separator(argument) else 0
    root_depth = len(names.parts_of(root))
    end = "\0" if invocation.flag("null") else "\n"
    for key in selected:
        depth = len(key.parts) - root_depth
        if min_depth + offset <= depth < max_depth + offset:
            sys.stdout.write(key.name + end)
    return OK


def run_find(invocation: Invocation) -> int:
    pattern = invocation.arguments[0]
    try:
        regex = compile_ere(pattern)
    except PosixRegexError as error:
        raise CommandError(f"Invalid arguments passed: {error}", BAD_ARGUMENTS) from error
    end = "\0" if invocation.flag("null") else "\n"
    for key in KDB().get("/"):
        if regex.search(key.name):
            sys.stdout.write(key.name + end)
    return OK


def run_file(invocation: Invocation) -> int:
    name = names.canonical(invocation.arguments[0])
    if subtree.is_cascading(name):
        namespace = invocation.value("namespace")
        if namespace is None:
            raise CommandError(
                f"Aborting: a cascading name has no file of its own; give its namespace, "
                f"e.g. 'user:{name}', or -N user",
                BAD_ARGUMENTS,
            )
        name = names.with_namespace(name, namespace)
    end = "" if invocation.flag("no_newline") else "\n"
    sys.stdout.write(f"{KDB().file_of(name)}{end}")
    return OK


COMMANDS = {
    "get": Command(
        name="get",
        summary="Get the value of a key stored in the key database.",
        arguments=("<key name>",),
        run=run_get,
        options=(
            Option(("-a", "--all"), "Consider all of the keys (for override/fallback links)."),
            NO_NEWLINE,
            Option(("-v", "--verbose"), "Explain the cascading lookup: every name tried."),
        ),
        details="A name starting with '/' is looked up cascading: proc, dir, user, system,\n"
        "then default, steered by the spec keys' override/# and fallback/#.",
        exits=((NOT_FOUND, "no key found"),),
    ),
    "set": Command(
        name="set",
        summary="Set the value of a key.",
        arguments=("<key name>", "<value>"),
        run=run_set,
        options=(
            QUIET,
            Option(("-f", "--force"), "Store the value without checking it against its spec."),
        ),
        details="Creates the key if it does not exist. A cascading name (starting with '/')\n"
        "sets the key it resolves to; to create a key, give its namespace.\n"
        "Use '--' before a value that starts with '-':  kdb set -- user:/tests/neg -3",
        exits=((COMMAND_SPECIFIC, "a cascading name that resolves to no key"),),
    ),
    "ls": Command(
        name="ls",
        summary="List the names of keys below a key.",
        arguments=("<key name>",),
        run=run_ls,
        options=(
            *subtree.DEPTH_OPTIONS,
            NULL,
            Option(("-v", "--verbose"), "Print how many keys were read and selected."),
        ),
        details="A cascading name (starting with '/') lists that path in every namespace.",
    ),
    "find": Command(
        name="find",
        summary="Find keys whose name contains a match of a POSIX extended regular expression.",
        arguments=("<regex>",),
        run=run_find,
        options=(NULL,),
    ),
    "file": Command(
        name="file",
        summary="Print the file a key is stored in.",
        arguments=("<key name>",),
        run=run_file,
        options=(
            NO_NEWLINE,
            Option(
                ("-N", "--namespace"),
                "Namespace for a cascading name (without it, a cascading name is exit 2).",
                metavar="NS",
            ),
        ),
    ),
}
