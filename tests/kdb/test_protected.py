"""What remote writes may not change: /elektra in every namespace, spec mountpoint metadata."""

from __future__ import annotations

import pytest

from elektraweb.kdb.protected import protected_root, refusal


@pytest.mark.parametrize(
    "name",
    [
        "system:/elektra",
        "system:/elektra/mountpoints/user:\\/app/path",
        "user:/elektra/x",
        "dir:/elektra",
        "spec:/elektra/mountpoints",
    ],
)
def test_the_kdbs_own_keys_are_protected_in_every_namespace(name: str) -> None:
    reason = refusal(name)
    assert reason is not None and name in reason and "mount operations" in reason


@pytest.mark.parametrize("name", ["system:/elektrax", "system:/app/elektra", "user:/", "system:/"])
def test_neighbours_and_ancestors_are_not(name: str) -> None:
    assert protected_root(name) is None and refusal(name) is None


def test_only_a_change_of_spec_mountpoint_metadata_is_refused() -> None:
    before = {"mountpoint": "app.ini", "type": "long"}
    assert refusal("spec:/app", before, {**before, "type": "string"}) is None
    assert refusal("spec:/app", None, {"default": "1"}) is None
    reason = refusal("spec:/app", before, {"type": "long"})
    assert reason is not None and "'mountpoint'" in reason and "spec:/app" in reason
    assert refusal("spec:/app", None, {"mountpoint": "/etc/shadow"}) is not None
    assert refusal("user:/app", None, {"mountpoint": "/etc/shadow"}) is None  # not read there
