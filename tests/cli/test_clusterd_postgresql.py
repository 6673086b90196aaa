"""`clusterd --database postgresql://...` end to end: real clusterd processes on one real
PostgreSQL database serve the same users, sessions, instances and cluster state; a database
clusterd cannot use stops it at start with one line naming it, never its password."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from yarl import URL

from support.postgres import PostgresServer
from support.processes import Api, Clusterd, Elektrad, copy_identity, free_port

BIN = Path(sys.prefix) / "bin"
PORT_KEY = quote("system:/app/port")


def _replica_of(first: Clusterd, base: Path, database_url: str) -> Clusterd:
    """Another clusterd on the same database, with the first one's keypair."""
    return Clusterd(copy_identity(first.state, base), database_url=database_url)


async def test_a_second_clusterd_on_the_database_serves_what_the_first_wrote(
    tmp_path: Path, postgres_dsn: str
) -> None:
    first = Clusterd(tmp_path / "first", database_url=postgres_dsn)
    host = Elektrad(tmp_path / "web", first.public_key, "web")
    second = _replica_of(first, tmp_path / "second", postgres_dsn)
    borrowed: Api | None = None
    try:
        await asyncio.gather(host.start(), first.start())
        api = first.api
        status, web = await api(
            "POST",
            "/api/instances",
            {"name": "web", "endpoint": host.endpoint, "public_key": host.public_key},
        )
        assert status == 201, web
        status, cluster = await api("POST", "/api/clusters", {"name": "prod"})
        assert status == 201, cluster
        members = f"/api/clusters/{cluster['id']}/instances"
        joined = await api("POST", members, {"instance": web["id"]})
        assert joined[0] == 201, joined
        path = f"/api/clusters/{cluster['id']}/kdb/{PORT_KEY}"
        status, written = await api("PUT", path, "8080")
        assert status == 200, written
        status, port = await api("GET", path)  # the first one now holds the state it read
        assert (status, port["value"]) == (200, "8080")
        status, user = await api(
            "POST", "/api/users", {"name": "olga", "password": "olgas-password", "role": "editor"}
        )
        assert status == 201, user

        await second.start()  # logs in as admin: the admin the first one made
        status, users = await second.api("GET", "/api/users")
        assert {entry["name"] for entry in users} == {"admin", "olga"}
        status, instances = await second.api("GET", "/api/instances")
        assert [(entry["id"], entry["name"]) for entry in instances] == [(web["id"], "web")]
        status, clusters = await second.api("GET", "/api/clusters")
        assert [entry["name"] for entry in clusters] == ["prod"]
        status, port = await second.api("GET", path)
        assert (status, port["value"]) == (200, "8080")

        # The first one's session cookie works on the second: one write through it, seen by
        # the first, which reads the cluster's desired state anew (its version moved on).
        borrowed = Api(second.url)
        borrowed.session.cookie_jar.update_cookies(
            first.api.session.cookie_jar.filter_cookies(URL(first.url))
        )
        status, me = await borrowed("GET", "/api/me")
        assert (status, me["user"]) == (200, "admin"), me
        status, written = await borrowed("PUT", path, "9090")
        assert status == 200, written
        status, port = await api("GET", path)
        assert (status, port["value"]) == (200, "9090")
        status, found = await api("GET", f"/api/instances/{web['id']}/kdb/{PORT_KEY}")
        assert (status, found["value"]) == (200, "9090")  # the member has it too
        password = urlsplit(postgres_dsn).password
        assert password and password not in first.log() + second.log()
        assert "database postgresql://elektraweb:***@127.0.0.1" in first.log()
    finally:
        if borrowed is not None:
            await borrowed.close()
        await host.stop()
        await asyncio.gather(first.stop(), second.stop())


@pytest.fixture
def unreachable_url() -> str:
    return f"postgresql://clusterd:s3cret-pw@127.0.0.1:{free_port()}/clusterd"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mysql://clusterd:s3cret-pw@127.0.0.1/clusterd",
            "database URL mysql://clusterd:***@127.0.0.1/clusterd is not postgresql://",
        ),
        (None, "cannot connect to database postgresql://clusterd:***@127.0.0.1:"),
        ("wrong password", "password authentication failed"),
    ],
    ids=["not a database URL", "no server there", "refused login"],
)
def test_a_database_clusterd_cannot_use_stops_it_at_start_naming_it_without_its_password(
    tmp_path: Path,
    unreachable_url: str,
    postgres_server: PostgresServer,
    url: str | None,
    message: str,
) -> None:
    if url is None:
        url = unreachable_url
    elif url == "wrong password":
        url = postgres_server.dsn().replace(postgres_server.password, "s3cret-pw")
    done = subprocess.run(
        [str(BIN / "clusterd"), "--http", "127.0.0.1:0", "--state", str(tmp_path),
         "--database", url, "--admin-password", "clusterd-test-admin"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 1
    [line] = [line for line in done.stderr.splitlines() if "cannot start" in line]
    assert line.startswith("clusterd: cannot start: ") and message in line, done.stderr
    assert "s3cret-pw" not in done.stderr + done.stdout
