"""`elektra-web demo`: clusterd and three elektrad on loopback, registered and ready to look at.

Every daemon runs as a child process with its own directory below the demo's: `clusterd/`
(keypair, database) and `<instance>/` (`kdb/` its KDB_ROOT, `home/`, `state/`, and `files/`,
where admins may mount files from the web client), logs in `logs/`.
web-1 and web-2 form the cluster `shop`, which owns a few keys; db-1 stands alone. Ports are
fixed relative to clusterd's (instance n listens on port + 10 + 4n, publishes on 2 more), so a
demo directory can be used again: it is kept by default, with every change made in it.
A daemon that exits (or is killed) is started again with exponential backoff; meanwhile
clusterd shows its instance offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import aiohttp

from elektraweb.demo import processes
from elektraweb.demo.processes import Daemon, StartFailed
from elektraweb.demo.sample import write_sample
from elektraweb.wire.keys import ensure_keypair

DEFAULT_PORT = 33334
HOST = "127.0.0.1"
ADMIN = "admin"
CLUSTER = "shop"
INSTANCES = ("web-1", "web-2", "db-1")
MEMBERS = ("web-1", "web-2")
CLUSTER_KEYS = {
    "system:/demo/features/new_checkout": "1",
    "system:/demo/web/server/workers": "8",
    "system:/demo/cache/ttl_seconds": "600",
}
"""What the cluster sets on its members (and locks there)."""

Say = Callable[[str], None]


def say_on_stdout(line: str) -> None:
    # Flushed: the demo's output often goes to a pipe (tee, a test) that waits for each line.
    print(line, flush=True)


def instance_port(port: int, index: int) -> int:
    """The request port of the demo's instance `index`; its events are on the port + 2."""
    return port + 10 + 4 * index


def _admin_password(base: Path) -> str:
    """The demo's admin password: kept in the demo directory, so a reused one still logs in."""
    file = base / "admin-password"
    if file.exists():
        return file.read_text(encoding="utf-8").strip()
    password = secrets.token_urlsafe(12)
    descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(password + "\n")
    return password


class _Instance:
    """One demo instance: its elektrad, with the sample configuration on first use."""

    def __init__(self, name: str, port: int, clusterd_key: str, base: Path) -> None:
        self.name = name
        self.endpoint = f"tcp://{HOST}:{port}"
        self.public_key = ""
        home = base / name
        kdb_root, user_home = home / "kdb", home / "home"
        if not kdb_root.exists():
            write_sample(kdb_root, user_home, name)
        # Admins may mount files of this directory from the web client (and no others).
        mountable = home / "files"
        mountable.mkdir(parents=True, exist_ok=True)
        self.daemon = processes.elektrad(
            name,
            endpoint=self.endpoint,
            kdb_root=kdb_root,
            home=user_home,
            state=home / "state",
            allow_key=clusterd_key,
            log_path=base / "logs" / f"{name}.log",
            mount_dirs=(mountable,),
        )


class _Api:
    """clusterd's REST API as the demo's admin."""

    def __init__(self, url: str) -> None:
        # X-Requested-With: what a cookie-authenticated write needs instead of an Origin.
        # An unsafe jar: aiohttp keeps no cookies of IP-address hosts such as 127.0.0.1 otherwise.
        self._session = aiohttp.ClientSession(
            url,
            headers={"X-Requested-With": "elektra-web"},
            cookie_jar=aiohttp.CookieJar(unsafe=True),
        )

    async def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self._session.request(method, path, json=body) as response:
            answer = await response.json() if response.content_type == "application/json" else None
            return response.status, answer

    async def expect(self, method: str, path: str, body: Any, *accepted: int) -> Any:
        status, answer = await self(method, path, body)
        if status not in accepted:
            raise RuntimeError(f"{method} {path} answered {status}: {answer}")
        return answer

    async def close(self) -> None:
        await self._session.close()


async def _register(api: _Api, instances: list[_Instance]) -> None:
    ids: dict[str, int] = {}
    for instance in instances:
        status, answer = await api(
            "POST",
            "/api/instances",
            {
                "name": instance.name,
                "endpoint": instance.endpoint,
                "public_key": instance.public_key,
                "description": f"demo instance {instance.name}",
            },
        )
        if status == 201:
            ids[instance.name] = answer["id"]
        elif status == 409 and answer["error"]["code"] == "duplicate-instance":
            # A reused demo directory, perhaps with another --port: keep the endpoint current.
            ids[instance.name] = answer["error"]["instance"]
            await api.expect(
                "PUT", f"/api/instances/{ids[instance.name]}", {"endpoint": instance.endpoint}, 200
            )
        else:
            raise RuntimeError(f"registering {instance.name} answered {status}: {answer}")
    status, answer = await api("POST", "/api/clusters", {"name": CLUSTER, "description": "demo"})
    if status == 409:
        cluster_id = answer["error"]["cluster"]
    elif status == 201:
        cluster_id = answer["id"]
    else:
        raise RuntimeError(f"creating cluster {CLUSTER} answered {status}: {answer}")
    for name in MEMBERS:
        await api.expect(
            "POST", f"/api/clusters/{cluster_id}/instances", {"instance": ids[name]}, 201, 409
        )
    for key, value in CLUSTER_KEYS.items():
        await api.expect("PUT", f"/api/clusters/{cluster_id}/kdb/{quote(key)}", value, 200)


FIRST_RESTART_DELAY = 1.0
LONGEST_RESTART_DELAY = 60.0
"""A daemon that exits is started again after FIRST_RESTART_DELAY seconds, twice as long after
each failed or short-lived run, up to LONGEST_RESTART_DELAY."""


async def _keep_running(daemon: Daemon, say: Say) -> None:
    """Start `daemon` again whenever it exits, with exponential backoff, until cancelled.

    A run that lasted longer than the longest delay counts as healthy and resets the delay."""
    loop = asyncio.get_running_loop()
    delay = FIRST_RESTART_DELAY
    started = loop.time()
    while True:
        code = await daemon.wait()
        await daemon.stop()  # closes its log, so that the next start opens it afresh
        if loop.time() - started > LONGEST_RESTART_DELAY:
            delay = FIRST_RESTART_DELAY
        say(
            f"elektra-web demo: {daemon.name} exited with code {code}; "
            f"restarting in {delay:g} s (see {daemon.log_path})"
        )
        await asyncio.sleep(delay)
        delay = min(delay * 2, LONGEST_RESTART_DELAY)
        started = loop.time()
        try:
            await daemon.start()
        except StartFailed as error:
            say(f"elektra-web demo: {error}")
        else:
            say(f"elektra-web demo: {daemon.name} is running again")


async def _set_up(base: Path, port: int, daemons: list[Daemon], say: Say, *, kept: bool) -> None:
    """Start every daemon (each is added to `daemons` first, to be stopped whatever happens),
    register the instances and form the cluster, then say how to log in."""
    clusterd_key = ensure_keypair(base / "clusterd").public
    password = _admin_password(base)
    instances = [
        _Instance(name, instance_port(port, index), clusterd_key, base)
        for index, name in enumerate(INSTANCES)
    ]
    clusterd = processes.clusterd(
        http=f"{HOST}:{port}",
        state=base / "clusterd",
        admin_password=password,
        log_path=base / "logs" / "clusterd.log",
    )
    daemons += [instance.daemon for instance in instances] + [clusterd]
    # Every start runs to its end, so that none is left half-started when another fails.
    results = await asyncio.gather(*(daemon.start() for daemon in daemons), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    ready = cast(list[re.Match[str]], results)
    for instance, started in zip(instances, ready, strict=False):
        instance.public_key = started["key"]
    url = ready[-1]["url"]
    api = _Api(url)
    try:
        await api.expect("POST", "/api/login", {"user": ADMIN, "password": password}, 200)
        await _register(api, instances)
    finally:
        await api.close()
    say(f"elektra-web demo: open {url}/ and log in as {ADMIN} with password {password}")
    say(f"  instances: {', '.join(INSTANCES)}; cluster {CLUSTER}: {', '.join(MEMBERS)}")
    where = (
        f"{base} (kept: the next start uses it again, with your changes)"
        if kept
        else f"{base} (temporary: removed when the demo stops)"
    )
    say(f"  files and logs in {where}; Ctrl-C stops everything")


def default_directory() -> Path:
    """Where the demo keeps its files unless told otherwise: $XDG_DATA_HOME/elektra-web/demo."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "elektra-web" / "demo"


async def run(
    port: int = DEFAULT_PORT,
    directory: Path | None = None,
    say: Say = say_on_stdout,
    *,
    temporary: bool = False,
) -> int:
    """Run the demo until SIGINT, SIGTERM or SIGHUP; a daemon that exits is started again.

    Its files are in `directory` (default `default_directory()`), kept for the next start;
    `temporary` uses a new directory instead and removes it at the end."""
    if temporary:
        base = Path(tempfile.mkdtemp(prefix="elektra-web-demo-")).resolve()
    else:
        base = (directory or default_directory()).resolve()
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[None] = loop.create_future()
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def request_stop() -> None:
        if not stop.done():
            stop.set_result(None)

    for signum in signals:
        loop.add_signal_handler(signum, request_stop)
    daemons: list[Daemon] = []
    supervisors: list[asyncio.Task[None]] = []
    try:
        base.mkdir(parents=True, exist_ok=True)
        set_up = asyncio.ensure_future(_set_up(base, port, daemons, say, kept=not temporary))
        await asyncio.wait((set_up, stop), return_when=asyncio.FIRST_COMPLETED)
        if not set_up.done():
            set_up.cancel()
            await asyncio.gather(set_up, return_exceptions=True)
            return 0
        set_up.result()
        supervisors += [loop.create_task(_keep_running(daemon, say)) for daemon in daemons]
        await stop
        return 0
    except (StartFailed, RuntimeError, OSError, aiohttp.ClientError) as error:
        say(f"elektra-web demo: {error}")
        return 1
    finally:
        stop.cancel()
        for supervisor in supervisors:
            supervisor.cancel()
        await asyncio.gather(*supervisors, return_exceptions=True)
        # clusterd first, so it does not report its instances going away one by one.
        for daemon in reversed(daemons):
            await daemon.stop()
        for signum in signals:
            loop.remove_signal_handler(signum)
        if temporary:
            with contextlib.suppress(OSError):
                shutil.rmtree(base)
