"""What a `kdb` command is: its arguments, options, help text and exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NamedTuple

# Exit codes of libelektra's kdb (doc/help/kdb.md); 11-20 are command-specific.
OK = 0
BAD_OPTIONS = 1
BAD_ARGUMENTS = 2
UNKNOWN_COMMAND = 4
KDB_ERROR = 5
# libelektra's "unknown errors": its kdb ends with 7 when an exception escapes, which is what
# an invalid key name or an unknown format does there.
INVALID_INPUT = 7
NOT_FOUND = 11
COMMAND_SPECIFIC = 12


class CommandError(Exception):
    """A failure the command reports on stderr and turns into its exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class Option(NamedTuple):
    """One option; it takes a value when ``metavar`` is set, else it is a flag."""

    flags: tuple[str, ...]
    help: str
    metavar: str | None = None

    @property
    def dest(self) -> str:
        long = next((f for f in self.flags if f.startswith("--")), self.flags[0])
        return long.lstrip("-").replace("-", "_")


QUIET = Option(("-q", "--quiet"), "Suppress non-error messages.")
NULL = Option(("-0", "--null"), "Use binary 0 termination.")
NO_NEWLINE = Option(("-n", "--no-newline"), "Suppress the newline at the end of the output.")


class Invocation:
    """The parsed command line of one command, with typed access to its options."""

    def __init__(self, arguments: list[str], options: argparse.Namespace) -> None:
        self.arguments = arguments
        self._options = options

    def flag(self, name: str) -> bool:
        return bool(getattr(self._options, name, False))

    def value(self, name: str) -> str | None:
        value = getattr(self._options, name, None)
        return None if value is None else str(value)

    def argument(self, index: int) -> str | None:
        """An optional positional argument, None when it was not given."""
        return self.arguments[index] if index < len(self.arguments) else None


class Command(NamedTuple):
    """A `kdb` command. ``arguments`` name the positionals; ``[optional]`` ones last."""

    name: str
    summary: str
    arguments: tuple[str, ...]
    run: Callable[[Invocation], int]
    options: tuple[Option, ...] = ()
    details: str = ""
    # The command's own exit codes (11-20) and what they mean.
    exits: tuple[tuple[int, str], ...] = ()

    @property
    def min_arguments(self) -> int:
        return sum(1 for a in self.arguments if not a.startswith("["))

    @property
    def max_arguments(self) -> int:
        # A last argument written "[<name>...]" takes any number of values.
        if self.arguments and self.arguments[-1].endswith("...]"):
            return sys.maxsize
        return len(self.arguments)

    @property
    def usage(self) -> str:
        return " ".join(["kdb", self.name, "[options]", *self.arguments])
