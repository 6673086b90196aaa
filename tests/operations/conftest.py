"""Every test here runs once against each key store (tests/support/key_stores.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.key_stores import ClusterHarness, ElektradHarness, Harness


@pytest.fixture(params=["elektrad", "cluster"])
def keys(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "elektrad":
        yield ElektradHarness(tmp_path)
        return
    cluster = ClusterHarness(tmp_path)
    yield cluster
    cluster.database.close()
