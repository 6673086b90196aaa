"""The change feed on a real KDB and real files, without a daemon around it."""

from __future__ import annotations

import os
from pathlib import Path

from elektraweb.instance.changefeed import ChangeFeed
from elektraweb.kdb import KDB
from elektraweb.kdb.mounts import Paths
from elektraweb.operations.store import KeyChange


def test_recheck_publishes_what_another_program_saved_in_the_file_of_a_key(
    tmp_path: Path,
) -> None:
    paths = Paths.from_environ({"KDB_ROOT": str(tmp_path), "HOME": str(tmp_path)}, cwd=tmp_path)
    file = paths.user / "app.ini"
    file.parent.mkdir(parents=True)
    file.write_text("[s]\na = 1\n")
    kdb = KDB(paths)
    kdb.mount("app.ini", "user:/app", "ini")
    emitted: list[KeyChange] = []
    feed = ChangeFeed(kdb, emitted.extend)
    feed.prime()
    save = file.with_name("editor.tmp")
    save.write_text("[s]\na = 2\n")
    os.replace(save, file)  # an editor's save, which a write of user:/app/s/b ran into

    feed.recheck("user:/app/s/b")
    feed.recheck("proc:/app/s/b")  # no file holds it: nothing to look at

    assert [(change.key, change.old and change.old.value, change.new and change.new.value)
            for change in emitted] == [("user:/app/s/a", "1", "2")]
