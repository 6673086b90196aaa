"""Runs the installed `kdb` as a real process against a throw-away key database."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

KDB_EXECUTABLE = Path(sys.prefix) / "bin" / "kdb"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


class Kdb:
    """Runs `kdb` with ``KDB_ROOT``, ``HOME`` and the working directory inside ``base``."""

    def __init__(self, base: Path) -> None:
        self.root = base / "kdb"
        self.home = base / "home"
        self.cwd = base / "work"
        for directory in (self.root, self.home, self.cwd):
            directory.mkdir()
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("KDB")}
        self.env.update(KDB_ROOT=str(self.root), HOME=str(self.home))

    def run_bytes(self, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [str(KDB_EXECUTABLE), *args],
            input=stdin,
            capture_output=True,
            cwd=self.cwd,
            env=self.env,
            timeout=60,
            check=False,
        )

    def __call__(self, *args: str, stdin: str = "") -> Result:
        done = self.run_bytes(*args, stdin=stdin.encode())
        return Result(done.returncode, done.stdout.decode(), done.stderr.decode())

    def ok(self, *args: str, stdin: str = "") -> str:
        """Run, insist on exit code 0, and return stdout."""
        result = self(*args, stdin=stdin)
        assert result.code == 0, f"kdb {' '.join(args)} failed ({result.code}): {result.err}"
        return result.out

    def fails(self, code: int, *args: str, stdin: str = "") -> str:
        """Run, insist on exit code ``code``, and return stderr."""
        result = self(*args, stdin=stdin)
        assert result.code == code, (
            f"kdb {' '.join(args)}: expected exit {code}, got {result.code}: "
            f"{result.out}{result.err}"
        )
        return result.err

    def get(self, name: str) -> str:
        return self.ok("get", name).removesuffix("\n")
