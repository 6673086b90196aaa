"""Issue 8 item 7: the first admin's password need not sit on clusterd's command line, where
every local user can read it in /proc/PID/cmdline for the daemon's whole life."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from elektraweb.demo import processes
from support.processes import Api

PASSWORD = "from-a-file-1"


def _clusterd(state: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "elektraweb.cli.clusterd", "--http", "127.0.0.1:0",
            "--state", str(state), *options]  # fmt: skip


async def test_password_from_a_file_is_not_in_the_command_line_and_logs_in(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "admin-password"
    secret.write_text(PASSWORD + "\n")  # an editor's trailing newline is not part of it
    env = {k: v for k, v in os.environ.items() if k != "CLUSTERD_ADMIN_PASSWORD"}
    daemon = processes.Daemon(
        "clusterd",
        _clusterd(tmp_path / "state", "--admin-password-file", str(secret)),
        ready=processes.CLUSTERD_READY,
        log_path=tmp_path / "clusterd.log",
        env=env,
    )
    ready = await daemon.start()
    api = Api(ready["url"])
    try:
        assert daemon.pid is not None
        cmdline = Path(f"/proc/{daemon.pid}/cmdline").read_bytes()
        assert str(secret).encode() in cmdline  # the right process
        assert PASSWORD.encode() not in cmdline
        status, body = await api("POST", "/api/login", {"user": "admin", "password": PASSWORD})
        assert (status, body["name"]) == (200, "admin")
        status, _ = await api("POST", "/api/login", {"user": "admin", "password": PASSWORD + "\n"})
        assert status == 401
    finally:
        await api.close()
        assert await daemon.stop() == 0
    assert PASSWORD not in (tmp_path / "clusterd.log").read_text()


def test_an_empty_or_missing_password_file_is_refused_by_name(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    for path, problem in ((empty, "is empty"), (tmp_path / "missing", "cannot read")):
        run = subprocess.run(
            _clusterd(tmp_path / "state", "--admin-password-file", str(path)),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert run.returncode == 2
        assert "--admin-password-file: " in run.stderr and problem in run.stderr
        assert str(path) in run.stderr
    assert not (tmp_path / "state").exists()  # refused before anything was created
