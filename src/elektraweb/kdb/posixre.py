"""POSIX extended regular expressions (as glibc's regcomp with REG_EXTENDED), matched by RE2.

libelektra's validation plugin compiles ``check/validation`` with regcomp(3), and ``kdb find``
takes the same dialect. This module translates such a pattern into RE2's syntax and compiles it
with google-re2, whose automata match in time linear in the value: no pattern can make a
search backtrack for seconds (``(a+)+$``, ``((.*)*)*!``).

- bracket expressions follow POSIX: ``\\`` is an ordinary character inside them, ``]`` first
  is literal, ``[:class:]`` (ASCII, as in the C locale), ``[=c=]`` and ``[.c.]`` work;
- outside brackets ``\\`` makes the next character literal, except glibc's extensions
  ``\\w \\W \\s \\S \\b \\B \\< \\> \\` \\'``; so ``\\d`` is a plain ``d``, as in
  glibc (write ``[0-9]`` or ``[[:digit:]]``);
- ``^``/``$`` anchor at the start/end of the whole value and ``.`` matches a newline, unless
  ``newline`` is set (REG_NEWLINE): then they work per line and ``.``/``[^...]`` skip ``\\n``;
- refused with an error that says why: back-references ``\\1``-``\\9`` (POSIX leaves them
  undefined in EREs; no linear-time engine can match them), Python's or Perl's own syntax such
  as ``(?...)``, repetition counts over 1000 and patterns whose automaton exceeds
  ``MAX_PROGRAM_BYTES``;
- ``\\<`` and ``\\>`` are RE2's ``\\b``: RE2 has no look-around, and the two differ only where
  the pattern beside them can match a non-word character.

Matching is leftmost-first instead of POSIX leftmost-longest; that never changes whether a
value matches, only which substring would be reported, and we only ask whether it matches.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import re2

_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "0-9a-zA-Z",
    "upper": "A-Z",
    "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v",
    "blank": " \\t",
    "punct": "!-/:-@\\[-`{-~",
    "xdigit": "0-9A-Fa-f",
    "cntrl": "\\x00-\\x1f\\x7f",
    "print": "\\x20-\\x7e",
    "graph": "\\x21-\\x7e",
}
_GLIBC_ESCAPES = {
    "w": "\\w",
    "W": "\\W",
    "s": "\\s",
    "S": "\\S",
    "b": "\\b",
    "B": "\\B",
    "<": "\\b",
    ">": "\\b",
    "`": "\\A",
    "'": "\\z",
}
_SPECIAL_IN_CLASS = frozenset("\\]^-[&~|")
MAX_PROGRAM_BYTES = 8 << 20
"""Memory RE2 may use for one compiled pattern; a larger automaton is refused as too large."""


class PosixRegexError(ValueError):
    """A pattern that is not a valid POSIX extended regular expression."""


def _class_char(char: str) -> str:
    return "\\" + char if char in _SPECIAL_IN_CLASS else char


def _bracket_element(pattern: str, i: int) -> tuple[str, str | None, int]:
    """One element of a bracket expression at ``i``: (Python text, its char or None, next i)."""
    if pattern.startswith(("[:", "[=", "[."), i):
        kind = pattern[i + 1]
        end = pattern.find(kind + "]", i + 2)
        if end < 0:
            raise PosixRegexError(f"unterminated '[{kind}' in '{pattern}'")
        inner = pattern[i + 2 : end]
        if kind == ":":
            if inner not in _CLASSES:
                raise PosixRegexError(f"unknown character class '[:{inner}:]' in '{pattern}'")
            return _CLASSES[inner], None, end + 2
        if len(inner) != 1:
            raise PosixRegexError(f"unsupported collating element '[{kind}{inner}{kind}]'")
        return _class_char(inner), inner, end + 2
    return _class_char(pattern[i]), pattern[i], i + 1


def _bracket(pattern: str, i: int, newline: bool) -> tuple[str, int]:
    """Translate the bracket expression whose ``[`` is at ``i - 1``; returns (text, next i)."""
    negate = pattern.startswith("^", i)
    if negate:
        i += 1
    items: list[str] = []
    first = True
    while i < len(pattern) and (first or pattern[i] != "]"):
        first = False
        text, char, i = _bracket_element(pattern, i)
        if char is not None and pattern.startswith("-", i) and not pattern.startswith("-]", i):
            high_text, high, i = _bracket_element(pattern, i + 1)
            if high is None or high < char:
                raise PosixRegexError(f"invalid range '{char}-{high_text}' in '{pattern}'")
            text = f"{text}-{high_text}"
        items.append(text)
    if i >= len(pattern):
        raise PosixRegexError(f"unterminated bracket expression in '{pattern}'")
    if negate and newline:
        items.append("\\n")
    return "[" + ("^" if negate else "") + "".join(items) + "]", i + 1


def translate(pattern: str, *, newline: bool = False) -> str:
    """The RE2 text equivalent to the POSIX extended regex ``pattern``."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        i += 1
        if char == "\\":
            if i >= len(pattern):
                raise PosixRegexError(f"trailing backslash in '{pattern}'")
            escaped = pattern[i]
            i += 1
            if escaped in _GLIBC_ESCAPES:
                out.append(_GLIBC_ESCAPES[escaped])
            elif escaped in "123456789":
                raise PosixRegexError(
                    f"back-reference '\\{escaped}' is not supported (no linear-time match): "
                    f"'{pattern}'"
                )
            else:
                out.append(_literal(escaped))
        elif char == "[":
            text, i = _bracket(pattern, i, newline)
            out.append(text)
        elif char == "(" and pattern.startswith("?", i):
            raise PosixRegexError(f"'(?' is not valid in a POSIX extended regex: '{pattern}'")
        elif char == "^" and not newline:
            out.append("\\A")
        elif char == "$" and not newline:
            out.append("\\z")
        else:
            out.append(char)
    return "".join(out)


def _literal(char: str) -> str:
    return "\\" + char if char in string.punctuation else char


class PosixRegex:
    """A compiled pattern; ``search`` tells whether it matches anywhere in a text."""

    def __init__(self, source: str, compiled: re2._Regexp) -> None:
        self.source = source
        self._compiled = compiled

    def search(self, text: str) -> bool:
        # Values may hold lone surrogates (JSON's "\\ud800"); they are searched as their bytes.
        return self._compiled.search(text.encode("utf-8", "surrogatepass")) is not None


def compile_ere(
    pattern: str, *, ignorecase: bool = False, newline: bool = False, anchored: bool = False
) -> PosixRegex:
    """Compile a POSIX extended regex; ``anchored`` wraps it in ``^(...)$``."""
    text = translate(pattern, newline=newline)
    if anchored:
        text = f"^(?:{text})$" if newline else f"\\A(?:{text})\\z"
    flags = ("m" if newline else "s") + ("i" if ignorecase else "")
    # Here, not at the top: every `kdb get` checks its keys, few have a regex to compile,
    # and loading RE2 costs each start about 2 ms.
    import re2

    options = re2.Options()
    options.max_mem = MAX_PROGRAM_BYTES
    options.log_errors = False
    options.never_capture = True
    try:
        encoded = f"(?{flags}){text}".encode("utf-8", "surrogatepass")
        return PosixRegex(pattern, re2.compile(encoded, options))
    except re2.error as error:
        message = error.args[0] if error.args else error
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        raise PosixRegexError(f"invalid regular expression '{pattern}': {message}") from None
