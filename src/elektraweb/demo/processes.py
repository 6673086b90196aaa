"""Daemons the demo runs as child processes: started, waited for, logged, and stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from elektraweb.cluster.config import ADMIN_PASSWORD_ENV

STOP_SECONDS = 15.0
"""How long a daemon may take to stop after SIGTERM before it is killed."""

ELEKTRAD_READY = re.compile(r"elektrad listening on .*, public key (?P<key>\S{40})")
CLUSTERD_READY = re.compile(r"clusterd listening on (?P<url>\S+), public key (?P<key>\S{40})")
FLEET_READY = re.compile(r"fleet: (?P<count>\d+) instances listening on .* in (?P<out>\S+)$")


class StartFailed(Exception):
    """A daemon exited, or said nothing we waited for, before it was ready."""


class Daemon:
    """One daemon started from `command`; it is ready when a stdout line matches `ready`.

    Its stderr, and its stdout after that line, go to `log_path`. It runs in its own session
    so that a Ctrl-C in the terminal reaches only the demo, which stops the daemons in order.
    """

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        ready: re.Pattern[str],
        log_path: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self._command = list(command)
        self._ready = ready
        self._env = env
        self.log_path = log_path
        self._process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None
        self._copier: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def start(self, timeout: float = 30.0) -> re.Match[str]:
        """Start the daemon and return the match of its ready line."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._process = await asyncio.create_subprocess_exec(
            *self._command,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._log,
            env=self._env,
            start_new_session=True,
        )
        assert self._process.stdout is not None
        try:
            async with asyncio.timeout(timeout):
                match = await self._wait_for_ready(self._process.stdout)
        except TimeoutError:
            await self.stop()
            raise StartFailed(
                f"{self.name} did not start within {timeout} s; see {self.log_path}"
            ) from None
        self._copier = asyncio.get_running_loop().create_task(self._copy(self._process.stdout))
        return match

    async def _wait_for_ready(self, stdout: asyncio.StreamReader) -> re.Match[str]:
        while line := await stdout.readline():
            assert self._log is not None
            self._log.write(line)
            self._log.flush()
            match = self._ready.search(line.decode(errors="replace"))
            if match:
                return match
        code = await self.wait()
        raise StartFailed(f"{self.name} exited with code {code} on start; see {self.log_path}")

    async def _copy(self, stdout: asyncio.StreamReader) -> None:
        # Keeps reading so a chatty daemon never blocks on a full pipe.
        while line := await stdout.readline():
            assert self._log is not None
            self._log.write(line)
            self._log.flush()

    async def wait(self) -> int:
        assert self._process is not None
        return await self._process.wait()

    async def stop(self, timeout: float = STOP_SECONDS) -> int | None:
        """SIGTERM, wait up to `timeout`, then SIGKILL; returns the exit code."""
        process = self._process
        if process is None:
            return None
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(timeout):
                    await process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        if self._copier is not None:
            await asyncio.gather(self._copier, return_exceptions=True)
        if self._log is not None:
            self._log.close()
            self._log = None
        return process.returncode


def _python_module(module: str) -> list[str]:
    # The running interpreter, so the daemons run from the same installation as the demo.
    return [sys.executable, "-m", module]


def elektrad(
    name: str,
    *,
    endpoint: str,
    kdb_root: Path,
    home: Path,
    state: Path,
    allow_key: str,
    log_path: Path,
    mount_dirs: Sequence[Path] = (),
) -> Daemon:
    """An elektrad serving the KDB below `kdb_root` at `endpoint` (events on its port + 2)
    to the client with public key `allow_key`, allowing remote mounts below `mount_dirs`;
    its ready match has the instance's `key`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KDB")}
    env.update(KDB_ROOT=str(kdb_root), HOME=str(home))
    command = [
        *_python_module("elektraweb.cli.elektrad"),
        "--listen", endpoint,
        "--state", str(state),
        f"--allow-key={allow_key}",  # one word: a z85 key may start with '-'
        *(f"--mount-dir={folder}" for folder in mount_dirs),
    ]  # fmt: skip
    return Daemon(name, command, ready=ELEKTRAD_READY, log_path=log_path, env=env)


def clusterd(
    *, http: str, state: Path, admin_password: str, log_path: Path, options: Sequence[str] = ()
) -> Daemon:
    """A clusterd serving HTTP at `http` (HOST:PORT) with further command line `options`;
    its ready match has `url` and `key`."""
    command = [
        *_python_module("elektraweb.cli.clusterd"),
        "--http",
        http,
        "--state",
        str(state),
        *options,
    ]
    env = {**os.environ, ADMIN_PASSWORD_ENV: admin_password}
    return Daemon("clusterd", command, ready=CLUSTERD_READY, log_path=log_path, env=env)


def fleet(*, count: int, allow_key: str, out: Path, log_path: Path) -> Daemon:
    """`elektra-web fleet`: `count` simulated instances serving the client `allow_key`; they
    are listed in `out` once the ready line is out."""
    command = [
        *_python_module("elektraweb.cli.elektra_web"), "fleet",
        "--count", str(count),
        f"--allow-key={allow_key}",
        "--out", str(out),
    ]  # fmt: skip
    return Daemon("fleet", command, ready=FLEET_READY, log_path=log_path)
