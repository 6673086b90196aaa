"""Turning elektrad's options into a Config: defaults, endpoints, allowed keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from elektraweb.instance.config import Config, ConfigError, announced_events
from elektraweb.wire.keys import KeyPair, ensure_keypair

KEY = KeyPair.generate().public


def test_defaults_follow_kdb_root(tmp_path: Path) -> None:
    key = KeyPair.generate().public
    relocated = Config.build(allow_keys=[key], environ={"KDB_ROOT": str(tmp_path)})
    assert relocated.state_dir == tmp_path / "elektrad"
    assert relocated.listen == "tcp://*:33333"
    assert relocated.events == "tcp://*:33335"
    assert Config.build(allow_keys=[key], environ={}).state_dir == Path("/var/lib/elektrad")


def test_events_sit_beside_the_request_port(tmp_path: Path) -> None:
    key = KeyPair.generate().public
    config = Config.build(listen="10.1.2.3:4000", allow_keys=[key], environ={})
    assert (config.listen, config.events) == ("tcp://10.1.2.3:4000", "tcp://10.1.2.3:4002")
    with pytest.raises(ConfigError, match="--events"):
        Config.build(listen="tcp://h:1", events="tcp://h:1", allow_keys=[key], environ={})


def test_allowed_keys_come_from_text_or_files(tmp_path: Path) -> None:
    clusterd = ensure_keypair(tmp_path / "clusterd")
    plain = KeyPair.generate().public
    listed = tmp_path / "key.txt"
    listed.write_text(plain + "\n")
    config = Config.build(
        allow_keys=[str(tmp_path / "clusterd" / "curve.key"), str(listed), plain], environ={}
    )
    assert config.allowed_keys == (clusterd.public, plain)
    with pytest.raises(ConfigError, match="nonsense"):
        Config.build(allow_keys=["nonsense"], environ={})


@pytest.mark.parametrize(
    ("requests", "events", "announced"),
    [
        ("tcp://0.0.0.0:33333", "tcp://0.0.0.0:33335", {"port": 33335}),
        ("tcp://127.0.0.1:33333", "tcp://[::]:4000", {"port": 4000}),
        ("tcp://10.0.0.5:33333", "tcp://10.0.0.5:33335", {"port": 33335}),
        ("tcp://0.0.0.0:33333", "tcp://10.0.0.6:33335", {"host": "10.0.0.6", "port": 33335}),
        ("tcp://[::1]:1", "tcp://[fd00::6]:2", {"host": "[fd00::6]", "port": 2}),
    ],
)
def test_the_event_endpoint_is_announced_as_clients_reach_it(
    requests: str, events: str, announced: dict[str, object]
) -> None:
    """Every interface, or the request socket's address: clients use the host they send
    requests to (which may be a name or a NAT address elektrad cannot know)."""
    assert announced_events(requests, events) == announced


@pytest.mark.parametrize(
    "endpoint",
    [
        "tcp://127.0.0.1:6000",
        "tcp://localhost:6000",
        "tcp://[::1]:6000",
        "ipc:///run/elektra/notify",
    ],
)
def test_elektra_notify_goes_to_loopback_or_ipc(endpoint: str) -> None:
    config = Config.build(allow_keys=[KEY], elektra_notify=endpoint, environ={})
    assert config.elektra_notify == endpoint


def test_elektra_notify_to_another_host_needs_the_opt_in() -> None:
    with pytest.raises(ConfigError, match=r"tcp://10\.0\.0\.5:6000.*--elektra-notify-remote"):
        Config.build(allow_keys=[KEY], elektra_notify="tcp://10.0.0.5:6000", environ={})
    config = Config.build(
        allow_keys=[KEY],
        elektra_notify="tcp://10.0.0.5:6000",
        elektra_notify_remote=True,
        environ={},
    )
    assert config.elektra_notify == "tcp://10.0.0.5:6000"
    with pytest.raises(ConfigError, match="not an endpoint"):
        Config.build(allow_keys=[KEY], elektra_notify="localhost", environ={})


def test_mount_dirs_are_real_existing_directories(tmp_path: Path) -> None:
    key = KeyPair.generate().public
    (tmp_path / "files").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "files")
    config = Config.build(
        allow_keys=[key],
        mount_dirs=[str(tmp_path / "link"), tmp_path / "x" / ".." / "files"],
        environ={},
    )
    assert config.mount_dirs == ((tmp_path / "files").resolve(),)
    assert Config.build(allow_keys=[key], environ={}).mount_dirs == ()  # remote mounting off
    with pytest.raises(ConfigError, match=r"--mount-dir .*missing: no such directory"):
        Config.build(allow_keys=[key], mount_dirs=[tmp_path / "missing"], environ={})
    with pytest.raises(ConfigError, match="--mount-dir /: / would allow every file"):
        Config.build(allow_keys=[key], mount_dirs=["/"], environ={})
