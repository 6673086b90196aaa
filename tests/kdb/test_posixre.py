"""POSIX extended regular expressions, translated to RE2."""

from __future__ import annotations

import pytest

from elektraweb.kdb.posixre import PosixRegexError, compile_ere


def matches(pattern: str, value: str, **options: bool) -> bool:
    return compile_ere(pattern, **options).search(value)


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("[[:digit:]]+", "abc123", True),
        ("^[[:digit:]]+$", "123", True),
        ("^[[:digit:]]+$", "12a", False),
        ("^[[:alpha:][:digit:]_]+$", "a_1", True),
        ("^[[:upper:]]$", "a", False),
        ("^[[:space:]]$", "\t", True),
        ("^[[:punct:]]+$", "!-/:@[`{~", True),
        ("^[[:xdigit:]]+$", "0fA9", True),
        ("^[^[:digit:]]$", "a", True),
        ("^[]a]+$", "]a]", True),
        ("^[^]a]$", "b", True),
        ("^[a-]+$", "a-a", True),
        ("^[\\]+$", "\\\\", True),  # a backslash is an ordinary character in brackets
        ("^[[=a=]]$", "a", True),
        ("^[[.-.]]$", "-", True),
        ("^\\d$", "d", True),  # glibc: an escaped ordinary character is that character
        ("^\\d$", "1", False),
        ("^a\\.b$", "a.b", True),
        ("^a\\.b$", "axb", False),
        ("^a.b$", "a\nb", True),  # '.' matches a newline without REG_NEWLINE
        ("^abc$", "abc\n", False),  # '$' is the end of the value, not before a last newline
        ("\\<word\\>", "a word here", True),
        ("\\<word\\>", "swordfish", False),
        ("\\bx\\B", "xy", True),
        ("^a{2,3}$", "aaa", True),
        ("^a{2,3}$", "aaaa", False),
        ("^(on|off)$", "on", True),
        ("^\\w+\\s\\S$", "ab c", True),
    ],
)
def test_posix_semantics(pattern: str, value: str, expected: bool) -> None:
    assert matches(pattern, value) is expected


def test_newline_mode_works_per_line() -> None:
    assert matches("^b$", "a\nb\nc", newline=True)
    assert not matches("^b$", "a\nb\nc")
    assert not matches("a.b", "a\nb", newline=True)
    assert not matches("a[^x]b", "a\nb", newline=True)


def test_anchored_and_ignorecase() -> None:
    assert not compile_ere("a|b", anchored=True).search("ab")
    assert compile_ere("a|b", anchored=True).search("b")
    assert compile_ere("^[a-z]+$", ignorecase=True).search("ABC")


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("(?i)a", "'(?' is not valid"),
        ("[[:word:]]", "unknown character class"),
        ("[abc", "unterminated bracket"),
        ("[[:alpha:]", "unterminated bracket"),
        ("[[:alpha", "unterminated '[:'"),
        ("[z-a]", "invalid range"),
        ("a\\", "trailing backslash"),
        ("(a", "invalid regular expression"),
        ("*a", "invalid regular expression"),
        ("^(ab)\\1$", "back-reference '\\1' is not supported"),
        ("(a{1000}){1000}", "invalid repetition size"),
    ],
)
def test_invalid_patterns_say_why(pattern: str, problem: str) -> None:
    with pytest.raises(PosixRegexError) as caught:
        compile_ere(pattern)
    assert problem in str(caught.value)
