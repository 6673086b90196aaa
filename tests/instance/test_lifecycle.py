"""Starting, identifying and stopping elektrad as an operator does."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from elektraweb.wire.errors import RemoteError
from elektraweb.wire.keys import KeyPair
from elektraweb.wire.transport import LinkError

from .conftest import ELEKTRAD, Daemon


def run_elektrad(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ELEKTRAD), *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_show_key_creates_the_identity_once(tmp_path: Path, client_keys: KeyPair) -> None:
    state = tmp_path / "state"
    first = run_elektrad("--show-key", "--state", str(state))
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) == 40
    assert run_elektrad("--show-key", "--state", str(state)).stdout.strip() == key
    daemon = Daemon(tmp_path, client_keys).start()
    try:
        assert daemon.public_key == key  # the daemon serves with that identity
    finally:
        daemon.kill()


def test_bad_options_are_named(tmp_path: Path, client_keys: KeyPair) -> None:
    no_key = run_elektrad("--state", str(tmp_path))
    assert no_key.returncode == 2 and "--allow-key" in no_key.stderr
    bad_key = run_elektrad("--state", str(tmp_path), "--allow-key", "not-a-key")
    assert bad_key.returncode == 2 and "not-a-key" in bad_key.stderr
    bad_endpoint = run_elektrad(
        "--state", str(tmp_path), "--allow-key", client_keys.public, "--listen", "udp://nowhere"
    )
    assert bad_endpoint.returncode == 2 and "udp://nowhere" in bad_endpoint.stderr


async def test_sigterm_finishes_writes_in_progress(daemon: Daemon) -> None:
    async with daemon.transport(timeout=10.0, retries=0) as link:
        await link.request("set", {"key": "system:/stop/warmup", "value": "0"})
        writes = [
            asyncio.create_task(link.request("set", {"key": f"system:/stop/k{i}", "value": str(i)}))
            for i in range(30)
        ]
        await asyncio.sleep(0.01)
        code = await asyncio.to_thread(daemon.terminate)
        outcomes = await asyncio.gather(*writes, return_exceptions=True)
    assert code == 0
    assert "elektrad stopped" in daemon.log()
    acknowledged = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, dict)]
    assert all(isinstance(o, dict | LinkError) for o in outcomes), outcomes
    daemon.start()
    async with daemon.transport() as link:
        for i in acknowledged:
            assert (await link.request("get", {"key": f"system:/stop/k{i}"}))["value"] == str(i)


async def test_a_broken_config_file_does_not_stop_elektrad(
    tmp_path: Path, client_keys: KeyPair
) -> None:
    daemon = Daemon(tmp_path, client_keys)
    for args in (
        ("mount", "app.toml", "system:/app", "toml"),
        ("set", "system:/app/a", "1"),
        ("set", "system:/other", "2"),
    ):
        assert daemon.kdb(*args).returncode == 0
    (daemon.root / "system" / "app.toml").write_text("this is [[ not toml")
    daemon.start()
    try:
        async with daemon.transport() as link:
            assert (await link.request("get", {"key": "system:/other"}))["value"] == "2"
            with pytest.raises(RemoteError) as caught:
                await link.request("get", {"key": "system:/app/a"})
            assert "app.toml" in caught.value.message
    finally:
        daemon.kill()


def test_a_key_starting_with_a_dash_is_read_as_a_key_in_both_spellings(tmp_path: Path) -> None:
    for words in (["--allow-key", "-not-a-key"], ["--allow-key=-not-a-key"]):
        refused = run_elektrad("--state", str(tmp_path), *words)
        # Refused by the key check (naming it), not by argparse as a missing argument.
        assert refused.returncode == 2 and "--allow-key: " in refused.stderr, refused.stderr
        assert "-not-a-key" in refused.stderr and "expected one argument" not in refused.stderr
    assert "--allow-key=KEY" in run_elektrad("--help").stdout


async def test_an_allowed_key_may_start_with_a_dash(tmp_path: Path) -> None:
    client = next(k for k in iter(KeyPair.generate, None) if k.public.startswith("-"))
    daemon = Daemon(tmp_path, client).start()  # passes it as "--allow-key", "-..."
    try:
        async with daemon.transport() as link:
            assert (await link.request("version"))["instance"] == daemon.public_key
    finally:
        daemon.kill()
