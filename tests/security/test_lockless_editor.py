"""Issue 8 item 10: a program that saves a mounted file by rename, bypassing elektrad's lock,
races elektrad's writes; none of its saves may be lost without a report."""

from __future__ import annotations

import asyncio
import configparser
import json
import re
import sys
from pathlib import Path

from elektraweb.wire.client import ClientOptions, ZmqTransport
from elektraweb.wire.errors import ErrorCode, RemoteError
from elektraweb.wire.keys import KeyPair
from support.processes import Elektrad

EDITOR = Path(__file__).with_name("competing_editor.py")
SAVES = 400  # the editor's saves: bounded, so the race ends by itself
INODE = re.compile(r"inode (\d+)")


async def test_saves_of_an_editor_bypassing_the_lock_are_never_silently_lost(
    tmp_path: Path,
) -> None:
    client = KeyPair.generate()
    host = Elektrad(tmp_path / "host", client.public, "host")
    file = host.kdb_root / "user" / "race.ini"
    file.write_text("[editor]\nseq = 0\n\n[daemon]\nn = 0\n")
    await host.kdb("mount", "race.ini", "user:/race")
    await host.start()
    options = ClientOptions(timeout=10.0, retries=0, ping_interval=None)
    editor = await asyncio.create_subprocess_exec(
        sys.executable, str(EDITOR), str(file), str(SAVES), stdout=asyncio.subprocess.PIPE
    )
    reported: set[int] = set()  # inodes of saves a conflict reply says it put back
    written = conflicts = 0
    try:
        async with ZmqTransport(
            host.endpoint, server_key=host.public_key, keypair=client, options=options
        ) as link:
            finished = asyncio.ensure_future(editor.communicate())
            for n in range(1, 100_000):  # bounded; ends when the editor is done
                if finished.done():
                    break
                try:
                    await link.request("set", {"key": "user:/race/daemon/n", "value": str(n)})
                    written += 1
                except RemoteError as error:
                    assert error.code == ErrorCode.CONFLICT, error
                    conflicts += 1
                    reported.update(int(inode) for inode in INODE.findall(error.message))
            output, _ = await finished
            # Once the editor is done, elektrad's next write goes through and keeps its save.
            final = None
            for attempt in range(2):  # the first may meet the editor's last save
                try:
                    await link.request("set", {"key": "user:/race/daemon/n", "value": "final"})
                    final = attempt
                    break
                except RemoteError as error:
                    assert error.code == ErrorCode.CONFLICT, error
            assert final is not None
    finally:
        if editor.returncode is None:
            editor.kill()
            await editor.wait()
        await host.stop()
    assert editor.returncode == 0
    result = json.loads(output)
    silently_lost = [seq for seq, inode in result["missing"] if inode not in reported]
    assert silently_lost == [], (
        f"{len(silently_lost)} of {SAVES} saves lost without a report "
        f"({written} writes, {conflicts} conflicts)"
    )
    reread = configparser.ConfigParser(interpolation=None)
    reread.read_string(file.read_text())
    assert reread["editor"]["seq"] == str(SAVES)  # the editor's last save survived
    assert reread["daemon"]["n"] == "final"
