"""POSIX extended regular expressions (as glibc's regcomp with REG_EXTENDED) on top of ``re``.

libelektra's validation plugin compiles ``check/validation`` with regcomp(3). This module
translates such a pattern into an equivalent Python pattern:

- bracket expressions follow POSIX: ``\\`` is an ordinary character inside them, ``]`` first
  is literal, ``[:class:]`` (ASCII, as in the C locale), ``[=c=]`` and ``[.c.]`` work;
- outside brackets ``\\`` makes the next character literal, except glibc's extensions
  ``\\w \\W \\s \\S \\b \\B \\< \\> \\` \\'`` and back-references ``\\1``-``\\9``; so ``\\d`` is a
  plain ``d``, as in glibc (write ``[0-9]`` or ``[[:digit:]]``);
- ``^``/``$`` anchor at the start/end of the whole value and ``.`` matches a newline, unless
  ``newline`` is set (REG_NEWLINE): then they work per line and ``.``/``[^...]`` skip ``\\n``;
- Python's own syntax that POSIX lacks, such as ``(?...)``, is an error.

Matching is leftmost-first instead of POSIX leftmost-longest; that never changes whether a
value matches, only which substring would be reported, and we only ask whether it matches.
"""

from __future__ import annotations

import re

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
    "<": "\\b(?=\\w)",
    ">": "\\b(?<=\\w)",
    "`": "\\A",
    "'": "\\Z",
}
_SPECIAL_IN_CLASS = frozenset("\\]^-[&~|")


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
    """The Python ``re`` text equivalent to the POSIX extended regex ``pattern``."""
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
                out.append("\\" + escaped)
            else:
                out.append(re.escape(escaped))
        elif char == "[":
            text, i = _bracket(pattern, i, newline)
            out.append(text)
        elif char == "(" and pattern.startswith("?", i):
            raise PosixRegexError(f"'(?' is not valid in a POSIX extended regex: '{pattern}'")
        elif char == "^" and not newline:
            out.append("\\A")
        elif char == "$" and not newline:
            out.append("\\Z")
        else:
            out.append(char)
    return "".join(out)


def compile_ere(
    pattern: str, *, ignorecase: bool = False, newline: bool = False, anchored: bool = False
) -> re.Pattern[str]:
    """Compile a POSIX extended regex; ``anchored`` wraps it in ``^(...)$``."""
    text = translate(pattern, newline=newline)
    if anchored:
        text = f"^(?:{text})$" if newline else f"\\A(?:{text})\\Z"
    flags = re.MULTILINE if newline else re.DOTALL
    if ignorecase:
        flags |= re.IGNORECASE
    try:
        return re.compile(text, flags)
    except re.error as error:
        raise PosixRegexError(f"invalid regular expression '{pattern}': {error}") from None
