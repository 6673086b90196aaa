"""Real daemons for tests: elektrad and clusterd as processes on loopback, each with its own
temporary state, started the way the demo starts them (`elektraweb.demo.processes`).

    clusterd = Clusterd(tmp_path / "clusterd")          # its keypair exists from here on
    host = Elektrad(tmp_path / "web", clusterd.public_key, "web")
    try:
        await asyncio.gather(host.start(), clusterd.start())  # clusterd.api is logged in
        ...
    finally:
        await host.stop()
        await clusterd.stop()                           # SIGTERM; asserts a clean exit
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp

from elektraweb.demo import processes
from elektraweb.wire import ClientOptions, Reconnect
from elektraweb.wire.keys import ensure_keypair

KDB = Path(sys.executable).parent / "kdb"
ADMIN_PASSWORD = "clusterd-test-admin"
STOP_SECONDS = 15.0

QUICK_LINK = ClientOptions(
    timeout=2.0, reconnect=Reconnect(interval=0.05, max_interval=0.2), ping_interval=None
)
"""How a test's client links to an `Elektrad`: short deadlines and quick reconnects, so that
a daemon going away or coming back shows within a test's patience."""


_handed_out: set[int] = set()


def _below_ephemeral_range() -> range:
    """Ports the kernel never picks by itself (for `connect` or a bind to port 0): the range
    below its ephemeral one. A port chosen there and bound a moment later cannot be taken in
    between by some outgoing connection, which a port the kernel once handed out can."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return range(10000, max(low, 10100))


def free_port(offsets: Sequence[int] = ()) -> int:
    """A free loopback TCP port p such that p + each offset is free as well, never handed out
    before by this process.

    Free when asked: another process may bind it before the caller does; only processes that
    choose ports explicitly can, since it lies below the kernel's ephemeral range.
    """
    candidates = _below_ephemeral_range()
    for _ in range(1000):
        port = random.choice(candidates)
        wanted = [port + offset for offset in (0, *offsets)]
        if _handed_out.intersection(wanted):
            continue
        try:
            for each in wanted:
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", each))
        except (OSError, OverflowError):
            continue
        _handed_out.update(wanted)
        return port
    raise RuntimeError(f"found no free loopback port p with p + {list(offsets)} free too")


def free_port_pair() -> int:
    """A free loopback port whose port + 2, where elektrad publishes its events, is free too."""
    return free_port(offsets=(2,))


class Elektrad:
    """One host: elektrad with its own `KDB_ROOT`, `HOME` and state below `base`, serving the
    client whose public key is `allow_key`. It keeps its port and its key across restarts."""

    def __init__(
        self, base: Path, allow_key: str, name: str = "elektrad", mount_dirs: Sequence[Path] = ()
    ) -> None:
        self.base, self.name, self.allow_key = base, name, allow_key
        self.mount_dirs = tuple(mount_dirs)
        self.kdb_root, self.home = base / "kdb", base / "home"
        # As on a real host, the configuration directories exist before elektrad starts.
        for namespace in ("system", "user"):
            (self.kdb_root / namespace).mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        self.endpoint = f"tcp://127.0.0.1:{free_port_pair()}"
        self.log_path = base / "elektrad.log"
        self.public_key = ""
        self.daemon: processes.Daemon | None = None

    async def start(self) -> Elektrad:
        """Start it and wait for its start line; `public_key` is then the instance's key."""
        self.daemon = processes.elektrad(
            self.name,
            endpoint=self.endpoint,
            kdb_root=self.kdb_root,
            home=self.home,
            state=self.base / "state",
            allow_key=self.allow_key,  # passed as --allow-key=KEY: a key may start with '-'
            log_path=self.log_path,
            mount_dirs=self.mount_dirs,
        )
        self.public_key = (await self.daemon.start())["key"]
        return self

    async def stop(self) -> int | None:
        """SIGTERM (SIGKILL if it lingers); its exit code, None if it was not started."""
        daemon, self.daemon = self.daemon, None
        return None if daemon is None else await daemon.stop()

    async def kill(self) -> None:
        """SIGKILL: the daemon vanishes without closing anything itself."""
        assert self.daemon is not None and self.daemon.pid is not None, "not started"
        os.kill(self.daemon.pid, signal.SIGKILL)
        await self.stop()

    def environment(self) -> dict[str, str]:
        """The host's environment: its own `KDB_ROOT` and `HOME`, no other KDB settings."""
        env = {name: value for name, value in os.environ.items() if not name.startswith("KDB")}
        env.update(KDB_ROOT=str(self.kdb_root), HOME=str(self.home))
        return env

    async def kdb(self, *args: str, stdin: str | None = None) -> str:
        """Run `kdb` on this host, as its administrator would, with `stdin` as its input;
        fails the test unless it succeeds, and returns its standard output."""
        process = await asyncio.create_subprocess_exec(
            str(KDB),
            *args,
            env=self.environment(),
            stdin=None if stdin is None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        output, errors = await process.communicate(None if stdin is None else stdin.encode())
        assert process.returncode == 0, f"kdb {' '.join(args)}: {errors.decode()}"
        return output.decode().strip()


class ElektradPublishingApart(Elektrad):
    """An `Elektrad` publishing its events at a port of its own (`--events`, its request port
    + 7 instead of + 2): only its `version` answer tells a client where to subscribe."""

    def __init__(self, base: Path, allow_key: str, name: str = "elektrad") -> None:
        super().__init__(base, allow_key, name)
        request_port = free_port(offsets=(7,))
        self.endpoint = f"tcp://127.0.0.1:{request_port}"
        self.events_endpoint = f"tcp://127.0.0.1:{request_port + 7}"

    async def start(self) -> ElektradPublishingApart:
        command = [
            sys.executable, "-m", "elektraweb.cli.elektrad",
            "--listen", self.endpoint,
            "--events", self.events_endpoint,
            "--state", str(self.base / "state"),
            f"--allow-key={self.allow_key}",
        ]  # fmt: skip
        self.daemon = processes.Daemon(
            self.name,
            command,
            ready=processes.ELEKTRAD_READY,
            log_path=self.log_path,
            env=self.environment(),
        )
        self.public_key = (await self.daemon.start())["key"]
        return self


class EnrollingElektrad(Elektrad):
    """An `Elektrad` given no clusterd key: it enrolls at clusterd's `url` with `token`
    (`elektrad --enroll`; no `--token` if `token` is None), and on a restart uses the key it
    pinned then; with `url` None it starts on the pinned key alone, as its systemd unit does.
    `options` go on its command line too (`--clusterd-key`, `--token-file` ...)."""

    def __init__(
        self,
        base: Path,
        url: str | None,
        token: str | None,
        name: str = "elektrad",
        options: Sequence[str] = (),
    ) -> None:
        super().__init__(base, "", name)
        self.url, self.token, self.options = url, token, tuple(options)

    def command(self) -> list[str]:
        enroll = [] if self.url is None else ["--enroll", self.url, "--name", self.name]
        if self.url is not None and self.token is not None:
            enroll += ["--token", self.token]
        return [
            sys.executable, "-m", "elektraweb.cli.elektrad",
            "--listen", self.endpoint,
            "--state", str(self.base / "state"),
            *enroll,
            *self.options,
        ]  # fmt: skip

    async def start(self) -> EnrollingElektrad:
        self.daemon = processes.Daemon(
            self.name,
            self.command(),
            ready=processes.ELEKTRAD_READY,
            log_path=self.log_path,
            env=self.environment(),
        )
        self.public_key = (await self.daemon.start())["key"]
        return self

    async def refused(self) -> tuple[int, str]:
        """Run it expecting it not to start: its exit code and what it said on stderr."""
        process = await asyncio.create_subprocess_exec(
            *self.command(),
            env=self.environment(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(STOP_SECONDS):
                _, errors = await process.communicate()
        finally:
            if process.returncode is None:  # it started after all: the test fails, it stops
                process.kill()
                await process.wait()
        assert process.returncode is not None
        return process.returncode, errors.decode()


class Api:
    """clusterd's REST API as a script uses it: JSON in and out, the session cookie kept."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = aiohttp.ClientSession(
            url,
            # The proof of origin that a cookie-authenticated write needs.
            headers={"X-Requested-With": "tests"},
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # keep cookies of 127.0.0.1
        )

    async def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """`(status, JSON body)`; the body is None when the answer has none."""
        async with self.session.request(method, path, json=body) as response:
            text = await response.text()
            return response.status, json.loads(text) if text else None

    async def close(self) -> None:
        await self.session.close()


def copy_identity(source: Path, destination: Path) -> Path:
    """`destination`, a new replica's state dir, with the CURVE keypair of the clusterd whose
    state dir is `source`: replicas are one clusterd to the instances, which allow one key
    (docs/deploy.md, Adding a replica)."""
    destination.mkdir(mode=0o700, parents=True)
    for key_file in source.glob("curve.key*"):
        shutil.copy2(key_file, destination / key_file.name)
    return destination


class Clusterd:
    """clusterd with its state in `base`, on any free loopback port.

    Its keypair is made at once, so elektrad processes allowing `public_key` can start
    alongside. With `database_url` (`--database`) it keeps its tables there, not in `base`.
    `start()` waits for the start line and logs in as `admin` (`api`); `stop()` ends it with a
    signal and fails the test unless it exits with code 0 by itself.
    """

    def __init__(
        self,
        base: Path,
        admin_password: str = ADMIN_PASSWORD,
        options: Sequence[str] = (),
        database_url: str | None = None,
    ) -> None:
        self.state = base
        self.admin_password = admin_password
        self.public_key = ensure_keypair(base).public
        self.log_path = base / "clusterd.log"
        database = () if database_url is None else ("--database", database_url)
        self.daemon = processes.clusterd(
            http="127.0.0.1:0",
            state=base,
            admin_password=admin_password,
            log_path=self.log_path,
            options=[*database, *options],
        )
        self.url = ""
        self._api: Api | None = None
        self._started = False

    @property
    def api(self) -> Api:
        assert self._api is not None, "clusterd is not started"
        return self._api

    async def start(self) -> Clusterd:
        self._started = True
        ready = await self.daemon.start()
        self.url = ready["url"]
        self._api = Api(self.url)
        status, body = await self._api(
            "POST", "/api/login", {"user": "admin", "password": self.admin_password}
        )
        assert status == 200, f"admin login failed: {status} {body}"
        return self

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    async def kill(self) -> None:
        """SIGKILL: clusterd vanishes mid-request, its database as the crash left it."""
        if self._api is not None:
            await self._api.close()
            self._api = None
        assert self._started and self.daemon.pid is not None, "not started"
        self._started = False
        os.kill(self.daemon.pid, signal.SIGKILL)
        await self.daemon.stop()

    async def stop(self, signum: signal.Signals = signal.SIGTERM) -> None:
        """Send `signum`, wait for the exit (SIGKILL after STOP_SECONDS) and assert it was a
        clean one. Stopping again, or a clusterd never started, does nothing."""
        if self._api is not None:
            await self._api.close()
            self._api = None
        if not self._started or self.daemon.pid is None:
            return
        self._started = False
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.daemon.pid, signum)
        try:
            async with asyncio.timeout(STOP_SECONDS):
                await self.daemon.wait()
        finally:
            code = await self.daemon.stop()  # kills it if it is still there
        assert code == 0, f"clusterd exited with {code} on {signum.name}:\n{self.log()}"


@contextlib.asynccontextmanager
async def started_clusterd(base: Path) -> AsyncIterator[Clusterd]:
    """A started `Clusterd` with its state in `base`, stopped (cleanly, or the test fails)
    when the block ends."""
    daemon = Clusterd(base)
    try:
        yield await daemon.start()
    finally:
        await daemon.stop()
