"""Turning elektrad's options into a Config: defaults, endpoints, allowed keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from elektraweb.instance.config import Config, ConfigError
from elektraweb.wire.keys import KeyPair, ensure_keypair


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
