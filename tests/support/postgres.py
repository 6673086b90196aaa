"""A throwaway PostgreSQL server for the tests: Debian's postgresql binaries, a cluster made by
initdb in a temporary directory, listening on loopback with password (SCRAM) authentication,
stopped and deleted when the test session ends. No mock: the tests of the PostgreSQL store and of
clusterd's replicas run against it.

`make install` installs Debian's postgresql. PostgreSQL refuses to run as root, so as root the
server runs as the `postgres` user that the package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from support.processes import free_port

_SERVER_USER = "postgres"


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError(
            "PostgreSQL is not installed: `make install` installs Debian's postgresql "
            "(or: apt-get install postgresql)"
        )
    return Path(found[-1]).parent


def _as_server_user() -> list[str]:
    return ["runuser", "-u", _SERVER_USER, "--"] if os.geteuid() == 0 else []


@dataclass
class PostgresServer:
    """One running throwaway server: `dsn(database)` gives a URL clusterd and psycopg accept."""

    directory: Path
    port: int
    password: str
    superuser: str = "elektraweb"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{self.superuser}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database `name`; return its DSN."""
        self._psql(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        self._psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _psql(self, statement: str) -> None:
        subprocess.run(
            [str(_binaries() / "psql"), self.dsn(), "-v", "ON_ERROR_STOP=1", "-qc", statement],
            check=True,
            capture_output=True,
        )


def start_server() -> Iterator[PostgresServer]:
    """Make, start, yield and finally stop and delete a server (a generator for a fixture)."""
    binaries = _binaries()
    directory = Path(tempfile.mkdtemp(prefix="elektraweb-pg-"))
    password = secrets.token_urlsafe(16)
    server = PostgresServer(directory, free_port(), password)
    data = directory / "data"
    password_file = directory / "password"
    password_file.write_text(password + "\n")
    if os.geteuid() == 0:
        owner = pwd.getpwnam(_SERVER_USER)
        os.chown(directory, owner.pw_uid, owner.pw_gid)
        os.chown(password_file, owner.pw_uid, owner.pw_gid)
    run = _as_server_user()
    subprocess.run(
        [
            *run,
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            server.superuser,
            "--auth=scram-sha-256",
            f"--pwfile={password_file}",
            "--encoding=UTF8",
            "--locale=C",
        ],
        check=True,
        capture_output=True,
    )
    # fsync stays on: the durability tests kill clusterd, never the server, but an acknowledged
    # write must mean what it means in production.
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={server.port} "
        f"-c unix_socket_directories={directory} -c max_connections=200"
    )
    subprocess.run(
        [
            *run,
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(directory / "server.log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield server
    finally:
        subprocess.run(
            [*run, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(directory, ignore_errors=True)
