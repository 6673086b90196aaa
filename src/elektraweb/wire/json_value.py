"""`JSON`: any JSON value, for the places where the content really is arbitrary.

Read-only containers (`Mapping`, `Sequence`), so that a `dict[str, str]` or a list of them is
one too. Content with a known shape has a TypedDict instead (`wire.replies`); as mypy does not
count a TypedDict as `JSON`, what is only encoded (an answer, an audit entry's parts) is
`Encodable`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

JSON: TypeAlias = Mapping[str, "JSON"] | Sequence["JSON"] | str | int | float | bool | None
JSONObject: TypeAlias = Mapping[str, JSON]
EncodableObject: TypeAlias = Mapping[str, object]
"""A JSON object whose members may be TypedDicts (an API error object, an event): only
encoded, which checks it, never read back as typed."""
Encodable: TypeAlias = EncodableObject | Sequence[object] | str | int | float | bool | None
"""A JSON value whose containers may hold TypedDicts: only encoded, which checks it."""


def as_object(value: JSON, what: str) -> JSONObject:
    """`value`, which must be a JSON object; TypeError naming `what` otherwise."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a JSON object, got {value!r:.60}")
    return value
