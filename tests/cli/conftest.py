"""Fixtures for the `kdb` command's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.kdb_runner import Kdb


@pytest.fixture
def kdb(tmp_path: Path) -> Kdb:
    return Kdb(tmp_path)
