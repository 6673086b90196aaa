"""`pip install` of a wheel or an sdist built from a clean checkout serves a web client that starts.

The checkout is a copy of the files git knows (no node_modules, no static/vendor/), as a fresh
clone has them: the build hook in setup.py has to fetch preact and htm with npm by itself, both
when a wheel is built from the checkout and when one is built from the sdist. The wheel built
from the sdist then goes into a new virtual environment, whose clusterd serves the libraries the
page imports, and refuses to start once one of them is gone.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from elektraweb.web.assets import VENDORED

PROJECT = Path(__file__).resolve().parents[2]
READY = re.compile(r"clusterd listening on (?P<url>\S+),")
IMPORT_MAP_TARGET = re.compile(r'"(/vendor/[^"]+\.js)"')

pytestmark = pytest.mark.timeout(600)


def _clean_checkout(target: Path) -> Path:
    """The tracked and not ignored files of the project, copied to `target`."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT, check=True, capture_output=True,
    ).stdout.decode()  # fmt: skip
    for name in filter(None, listed.split("\0")):
        source = PROJECT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with the wheel built from a clean checkout; returns its bin directory."""
    scratch = tmp_path_factory.mktemp("packaging")
    checkout = _clean_checkout(scratch / "checkout")
    assert not (checkout / "src/elektraweb/web/static/vendor").exists()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(scratch / "direct"), str(checkout)], check=True
    )
    (direct,) = (scratch / "direct").glob("elektraweb-*.whl")
    with zipfile.ZipFile(direct) as built:
        assert set(VENDORED) <= {Path(name).name for name in built.namelist()}
    subprocess.run(
        [sys.executable, "setup.py", "-q", "sdist", "-d", str(scratch / "sdist")],
        cwd=checkout, check=True, capture_output=True,
    )  # fmt: skip
    (sdist,) = (scratch / "sdist").glob("elektraweb-*.tar.gz")
    with tarfile.open(sdist) as source:
        carried = {Path(name).name for name in source.getnames()}
    assert {"setup.py", "package.json", "package-lock.json"} <= carried
    assert not set(VENDORED) & carried  # so the wheel below is the build hook's work
    subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(scratch / "dist"), str(sdist)], check=True
    )
    (wheel,) = (scratch / "dist").glob("elektraweb-*.whl")
    environment = scratch / "venv"
    venv.create(environment, with_pip=True)
    bin_dir = environment / "bin"
    subprocess.run(
        [bin_dir / "python", "-m", "pip", "--disable-pip-version-check", "-q", "install",
         str(wheel)],
        check=True,
    )  # fmt: skip
    return bin_dir


async def _start_clusterd(bin_dir: Path, state: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(bin_dir / "clusterd"), "--http", "127.0.0.1:0", "--state", str(state),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        cwd=state.parent,  # not the project: nothing may come from the source tree
    )  # fmt: skip


@pytest.fixture
async def clusterd_url(installed: Path, tmp_path: Path) -> AsyncIterator[str]:
    process = await _start_clusterd(installed, tmp_path / "state")
    assert process.stdout is not None
    try:
        async with asyncio.timeout(60):
            while line := (await process.stdout.readline()).decode():
                if match := READY.search(line):
                    break
            else:
                assert process.stderr is not None
                raise AssertionError((await process.stderr.read()).decode())
        yield match["url"]
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def test_the_installed_clusterd_serves_every_library_the_page_imports(
    clusterd_url: str,
) -> None:
    async with aiohttp.ClientSession(clusterd_url) as session:
        async with session.get("/") as page:
            assert page.status == 200
            imported = set(IMPORT_MAP_TARGET.findall(await page.text()))
        assert imported == {f"/vendor/{name}" for name in VENDORED}
        for path in sorted(imported):
            async with session.get(path) as library:
                assert library.status == 200, path
                assert "javascript" in library.content_type
                assert "export" in await library.text()  # an ES module, not an error page


async def test_without_a_library_the_installed_clusterd_refuses_to_start_and_says_why(
    installed: Path, tmp_path: Path
) -> None:
    (vendor_dir,) = installed.parent.glob("lib/python*/site-packages/elektraweb/web/static/vendor")
    removed = vendor_dir / "htm.js"
    kept = removed.read_bytes()
    removed.unlink()
    try:
        process = await _start_clusterd(installed, tmp_path / "state")
        async with asyncio.timeout(60):
            _, error = await process.communicate()
    finally:
        removed.write_bytes(kept)
    assert process.returncode == 1
    message = error.decode()
    assert "htm.js" in message and "preact.js" not in message
    assert "make install" in message
