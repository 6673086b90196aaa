"""A write's metadata patch (docs/protocol.md §4), applied the same way by elektrad to its
keys and by clusterd to a cluster's desired state."""

from __future__ import annotations

from collections.abc import Mapping


def patched(meta: Mapping[str, str], patch: Mapping[str, str | None]) -> dict[str, str]:
    """``meta`` with a protocol metadata patch applied: a string sets, null removes."""
    result = dict(meta)
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    return result
