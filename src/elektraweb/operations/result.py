"""What running an operation gives its daemon: the reply's result and the keys it changed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from elektraweb.kdb.key import Key
from elektraweb.operations.store import KeyChange


@dataclass(slots=True)
class OperationResult:
    """An operation's result (the reply's ``result``) and the keys it changed.

    A write names its ``subject`` (the request's key) and that key's ``current`` state, which
    elektrad reports first in the reply's ``changes`` (docs/protocol.md §4)."""

    result: dict[str, Any]
    changes: list[KeyChange] = field(default_factory=list)
    subject: str | None = None
    current: Key | None = None
    deferred: Callable[[], dict[str, Any]] | None = None
    """Work that needs no store, such as a find's matching: the daemon runs it once the store
    is free again (elektrad off its KDB worker, clusterd off its event loop), and its return
    value is the result."""


def subject_first(
    changes: Sequence[KeyChange], subject: str, current: Key | None
) -> list[KeyChange]:
    """A write's changes as its daemon reports them: the request's key ``subject`` first (as
    ``current``, before and after alike, when the write left it unchanged), then the other
    changed keys in order (docs/protocol.md §4, Changes)."""
    first = next((change for change in changes if change.key == subject), None)
    ordered = [first or KeyChange(subject, current, current)]
    ordered.extend(change for change in changes if change is not first)
    return ordered
