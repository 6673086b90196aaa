"""docs/api.md lists exactly the routes clusterd serves, with their roles and statuses."""

from __future__ import annotations

import re
from pathlib import Path

from elektraweb.cluster.api.dispatch import ROUTES

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_the_route_table_in_the_docs_is_the_servers() -> None:
    rows = re.findall(
        r"^\| `([A-Z]+ /api/[^`]*)` \| (\w+) \| (\d+) \|", API_DOC.read_text(), re.MULTILINE
    )
    served = [(f"{r.method} {r.template}", r.role or "none", str(r.status)) for r in ROUTES]
    assert sorted(rows) == sorted(served)
