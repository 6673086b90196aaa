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

    def seed(
        self, parent: str, values: dict[str, str], meta: dict[str, dict[str, str]] | None = None
    ) -> None:
        """Create keys below ``parent`` with one `kdb import` (names relative, "" = parent)."""
        stdin = dump(values, meta or {})
        done = self.run_bytes("import", parent, stdin=stdin)
        assert done.returncode == 0, done.stderr.decode()

    def get(self, name: str) -> str:
        return self.ok("get", name).removesuffix("\n")


def dump(values: dict[str, str], meta: dict[str, dict[str, str]]) -> bytes:
    """Keys in Elektra's dump format (kdbOpen 2), names relative to the parent."""
    out = [b"kdbOpen 2\n"]
    for name, value in values.items():
        raw_name, raw_value = name.encode(), value.encode()
        out.append(
            b"$key string %d %d\n%s\n%s\n" % (len(raw_name), len(raw_value), raw_name, raw_value)
        )
        for meta_name, meta_value in meta.get(name, {}).items():
            raw_meta, raw_meta_value = meta_name.encode(), meta_value.encode()
            out.append(
                b"$meta %d %d\n%s\n%s\n"
                % (len(raw_meta), len(raw_meta_value), raw_meta, raw_meta_value)
            )
    out.append(b"$end\n")
    return b"".join(out)
