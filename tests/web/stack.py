"""A real elektra-web on loopback for the browser tests and the web benchmark: one clusterd and
some elektrad processes, each started from its console script with its own temporary state.

Each elektrad gets its own `KDB_ROOT` (so `kdb` on "that host" is `kdb` with that variable) and
the demo's sample configuration; clusterd gets an admin password and every instance registered
through the REST API, the way an operator would.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elektraweb.cluster.config import ADMIN_PASSWORD_ENV
from support.processes import copy_identity, free_port_pair

BIN = Path(sys.executable).parent
ADMIN_PASSWORD = "admin-secret-1"
START_SECONDS = 20.0
_LISTENING = re.compile(r"clusterd listening on (http://\S+?),")


@dataclass
class Answer:
    status: int
    body: Any


class RestClient:
    """JSON over HTTP with a cookie jar, as a script would talk to clusterd."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def request(self, method: str, path: str, body: Any = None) -> Answer:
        data = None if body is None else json.dumps(body).encode()
        return self._send(method, path, data, "application/json")

    def request_text(self, method: str, path: str, text: str) -> Answer:
        """A request whose body is `text` as it is (a file to import), not JSON."""
        return self._send(method, path, text.encode(), "text/plain")

    def _send(self, method: str, path: str, data: bytes | None, content_type: str) -> Answer:
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": content_type, "X-Requested-With": "tests"},
        )
        try:
            with self._opener.open(request, timeout=30) as response:
                text = response.read().decode()
                status = response.status
        except urllib.error.HTTPError as error:
            text, status = error.read().decode(), error.code
        return Answer(status, json.loads(text) if text else None)

    def login(self, user: str, password: str) -> Answer:
        return self.request("POST", "/api/login", {"user": user, "password": password})


@dataclass
class Instance:
    """One elektrad: its host's KDB_ROOT and HOME, endpoint, key, and registry id."""

    name: str
    root: Path
    home: Path
    port: int
    public_key: str = ""
    process: subprocess.Popen[bytes] | None = None
    id: int | None = None

    @property
    def endpoint(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def mount_dir(self) -> Path:
        """Where admins may mount files from the web client (`--mount-dir`)."""
        return self.root.parent / "files"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "KDB_ROOT": str(self.root), "HOME": str(self.home)}

    def kdb(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the `kdb` command on this instance's host, with `stdin` as its input."""
        return subprocess.run(
            [str(BIN / "kdb"), *args],
            env=self.env,
            cwd=self.home,
            input=stdin,
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def start_kdb(self, *args: str) -> subprocess.Popen[str]:
        """Start the `kdb` command on this instance's host, its input and errors in pipes."""
        return subprocess.Popen(
            [str(BIN / "kdb"), *args],
            env=self.env,
            cwd=self.home,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )


@dataclass
class Stack:
    """clusterd plus elektrad processes under `base`; stop() ends every process it started."""

    base: Path
    url: str = ""
    clusterd_key: str = ""
    clusterd_state: Path | None = None
    """The state dir of the first clusterd started, whose keypair its replicas get."""
    instances: dict[str, Instance] = field(default_factory=dict)
    _clusterd: subprocess.Popen[str] | None = None
    _processes: list[subprocess.Popen[Any]] = field(default_factory=list)

    def start_clusterd(self, *options: str, name: str = "clusterd") -> subprocess.Popen[str]:
        """Start clusterd with its command line `options` besides address, state and logging,
        with its state in `name` and its log in `name`.log; `url` is then its address. A
        clusterd of another name is a replica of the first: its state dir gets the first
        one's keypair (docs/deploy.md, Adding a replica)."""
        state = self.base / name
        if self.clusterd_state is None:
            self.clusterd_state = state
        elif state != self.clusterd_state and not state.exists():
            copy_identity(self.clusterd_state, state)
        shown = subprocess.run(
            [str(BIN / "clusterd"), "--show-key", "--state", str(state)],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        self.clusterd_key = shown.stdout.strip()
        log = (self.base / f"{name}.log").open("w")
        process = subprocess.Popen(
            [
                str(BIN / "clusterd"),
                "--http",
                "127.0.0.1:0",
                "--state",
                str(state),
                "--log-level",
                "WARNING",
                *options,
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            # Not on the command line, where every local user could read it.
            env={**os.environ, ADMIN_PASSWORD_ENV: ADMIN_PASSWORD},
        )
        self._clusterd = process
        self._processes.append(process)
        assert process.stdout is not None
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"clusterd exited: see {self.base / f'{name}.log'}")
            found = _LISTENING.search(line)
            if found:
                self.url = found[1]
                return process
        raise RuntimeError("clusterd did not say it was listening")

    def add_instance(
        self,
        name: str,
        *,
        sample: bool = True,
        prepare: Callable[[Instance], None] | None = None,
        enrollment_token: str | None = None,
    ) -> Instance:
        """Prepare a host (KDB_ROOT with the demo's sample configuration, then `prepare`, e.g.
        to write a big file) and start elektrad: allowing clusterd's key, or enrolling at
        clusterd with `enrollment_token`."""
        root, home = self.base / name / "root", self.base / name / "home"
        home.mkdir(parents=True)
        root.mkdir(parents=True)
        instance = Instance(name, root, home, free_port_pair())
        instance.mount_dir.mkdir()
        if sample:
            from elektraweb.demo.sample import write_sample

            write_sample(root, home, name)
        if prepare is not None:
            prepare(instance)
        state = root / "elektrad"
        instance.public_key = subprocess.run(
            [str(BIN / "elektrad"), "--show-key", "--state", str(state)],
            env=instance.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
        log = (self.base / f"elektrad-{name}.log").open("w")
        instance.process = subprocess.Popen(
            [
                str(BIN / "elektrad"),
                "--listen",
                instance.endpoint,
                "--state",
                str(state),
                *(
                    ["--allow-key", self.clusterd_key]
                    if enrollment_token is None
                    else ["--enroll", self.url, "--token", enrollment_token, "--name", name]
                ),
                "--mount-dir",
                str(instance.mount_dir),
                "--log-level",
                "WARNING",
            ],
            env=instance.env,
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._processes.append(instance.process)
        self.instances[name] = instance
        return instance

    def admin(self) -> RestClient:
        client = RestClient(self.url)
        answer = client.login("admin", ADMIN_PASSWORD)
        assert answer.status == 200, answer.body
        return client

    def register(self, instance: Instance, client: RestClient | None = None) -> dict[str, Any]:
        """Register through the REST API; retried while the fresh elektrad is still starting."""
        client = client or self.admin()
        body = {
            "name": instance.name,
            "endpoint": instance.endpoint,
            "public_key": instance.public_key,
        }
        deadline = time.monotonic() + START_SECONDS
        while True:
            answer = client.request("POST", "/api/instances", body)
            if answer.status == 201 or time.monotonic() > deadline:
                break
            if answer.status not in (502, 504):
                break
            time.sleep(0.2)
        assert answer.status == 201, answer.body
        instance.id = answer.body["id"]
        return dict(answer.body)

    def add_user(self, name: str, password: str, role: str) -> None:
        answer = self.admin().request(
            "POST", "/api/users", {"name": name, "password": password, "role": role}
        )
        assert answer.status == 201, answer.body

    def stop(self) -> None:
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self._processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()


@contextmanager
def running_stack(
    base: Path, names: Sequence[str], clusterd_options: Sequence[str] = ()
) -> Iterator[Stack]:
    """clusterd (started with `clusterd_options`) with one registered elektrad per name;
    everything stopped afterwards."""
    stack = Stack(base)
    try:
        stack.start_clusterd(*clusterd_options)
        client = stack.admin()
        for name in names:
            stack.add_instance(name)
        for name in names:
            stack.register(stack.instances[name], client)
        yield stack
    finally:
        stack.stop()
