"""Searching keys: POSIX ERE by RE2, stopped by a result limit or a time budget."""

from __future__ import annotations

import itertools

import pytest

from elektraweb.kdb.posixre import PosixRegexError
from elektraweb.kdb.search import SearchLimits, compile_pattern, search_keys

LIMITS = SearchLimits()
KEYS = [(f"user:/app/host{i}", f"10.0.0.{i}") for i in range(10)]


def test_names_then_values_in_the_order_given() -> None:
    found = search_keys(
        KEYS,
        compile_pattern("host[[:digit:]]$", LIMITS),
        in_values=False,
        limit=100,
        budget_seconds=1,
    )
    assert found.keys == [name for name, _ in KEYS]
    assert (found.truncated, found.budget_exceeded) == (False, False)
    by_value = search_keys(
        KEYS, compile_pattern("\\.7$", LIMITS), in_values=True, limit=100, budget_seconds=1
    )
    assert by_value.keys == ["user:/app/host7"]


def test_the_result_limit_truncates() -> None:
    found = search_keys(
        KEYS, compile_pattern("host", LIMITS), in_values=False, limit=3, budget_seconds=1
    )
    assert found.keys == [name for name, _ in KEYS[:3]]
    assert found.reply() == {"keys": found.keys, "truncated": True, "budget_exceeded": False}


def test_the_time_budget_stops_the_search_with_what_it_found() -> None:
    ticks = itertools.count()  # a clock that advances one second per look

    found = search_keys(
        KEYS,
        compile_pattern("host", LIMITS),
        in_values=False,
        limit=100,
        budget_seconds=3.5,
        clock=lambda: float(next(ticks)),
    )
    assert found.keys == [name for name, _ in KEYS[:3]]
    assert (found.truncated, found.budget_exceeded) == (True, True)


def test_pathological_patterns_match_in_linear_time() -> None:
    # Backtracking engines need about 2**n steps for these; RE2 answers at once.
    keys = [("user:/x", "a" * 5000 + "!"), ("user:/y", "x" * 5000)]
    for pattern in ["(a+)+$", "((.*)*)*!", "(a|aa)*b", "(x+x+)+y"]:
        found = search_keys(
            keys, compile_pattern(pattern, LIMITS), in_values=True, limit=10, budget_seconds=60
        )
        assert found.budget_exceeded is False
    assert search_keys(
        keys, compile_pattern("((.*)*)*!", LIMITS), in_values=True, limit=10, budget_seconds=60
    ).keys == ["user:/x"]


def test_values_with_lone_surrogates_are_searched_not_crashed_on() -> None:
    found = search_keys(
        [("user:/s", "a\ud800b")],
        compile_pattern("a.*b", LIMITS),
        in_values=True,
        limit=1,
        budget_seconds=1,
    )
    assert found.keys == ["user:/s"]


def test_overlong_and_unsupported_patterns_are_refused_with_the_reason() -> None:
    with pytest.raises(PosixRegexError, match="more than 10"):
        compile_pattern("a" * 11, SearchLimits(max_pattern_chars=10))
    with pytest.raises(PosixRegexError, match="back-reference"):
        compile_pattern("(a)\\1", LIMITS)


@pytest.mark.parametrize(
    ("limits", "problem"),
    [
        ({"budget_seconds": 0}, "budget"),
        ({"max_results": 0}, "result limit"),
        ({"max_pattern_chars": 0}, "longest pattern"),
    ],
)
def test_limits_must_be_usable(limits: dict[str, float], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        SearchLimits(**limits)  # type: ignore[arg-type]
