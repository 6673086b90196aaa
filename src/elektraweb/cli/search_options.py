"""``--search-budget`` and ``--search-limit``: how far one ``find`` may go, on either daemon."""

from __future__ import annotations

import argparse

from elektraweb.kdb.search import DEFAULT_SEARCH_LIMITS, SearchLimits

_DEFAULTS = DEFAULT_SEARCH_LIMITS


def add_search_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--search-budget",
        metavar="SECONDS",
        type=float,
        default=_DEFAULTS.budget_seconds,
        help="time one find may take; then it answers what it found with budget_exceeded "
        f"(default {_DEFAULTS.budget_seconds})",
    )
    parser.add_argument(
        "--search-limit",
        metavar="N",
        type=int,
        default=_DEFAULTS.max_results,
        help=f"most results one find may ask for (default {_DEFAULTS.max_results})",
    )


def search_limits(parser: argparse.ArgumentParser, options: argparse.Namespace) -> SearchLimits:
    """The limits the options give; a bad value ends the program with a usage error."""
    try:
        return SearchLimits(budget_seconds=options.search_budget, max_results=options.search_limit)
    except ValueError as error:
        parser.error(f"--search-budget/--search-limit: {error}")
