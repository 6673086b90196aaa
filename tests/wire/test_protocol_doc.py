"""docs/protocol.md describes every operation and error code the code knows."""

from __future__ import annotations

import re
from pathlib import Path

from elektraweb.wire import OPERATION_NAMES, ErrorCode

PROTOCOL = (Path(__file__).parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")


def test_every_operation_has_a_section() -> None:
    headings = re.findall(r"^### (.+)$", PROTOCOL, re.MULTILINE)
    documented = {op for heading in headings for op in re.findall(r"`([a-z-]+)`", heading)}
    assert documented == OPERATION_NAMES


def test_every_error_code_is_in_the_table() -> None:
    table = PROTOCOL.split("| code | meaning |", 1)[1].split("\n\n", 1)[0]
    rows = set(re.findall(r"^\| `([a-z-]+)` \|", table, re.MULTILINE))
    assert rows == {code.value for code in ErrorCode}
