"""Revisions: content hashes of a key that writes can send back for compare-and-set."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping


def revision(value: str | None, meta: Mapping[str, str]) -> str:
    """The revision of a key with this value and metadata (docs/protocol.md §3).

    Equal content gives the same revision on every host, so a revision read from one elektrad
    can be compared with any later state of the key.
    """
    text = json.dumps(
        [value, dict(sorted(meta.items()))], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]
