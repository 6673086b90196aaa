"""The change feed's file watch on real directories and real inotify: what wakes it, what not."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

from elektraweb.instance.changefeed import DEBOUNCE, STEP
from elektraweb.instance.filewatch import Batch, DirectoryWatch

BATCH_TIMEOUT = 10.0


@contextmanager
def watching(directory: Path, *relevant: Path) -> Iterator[DirectoryWatch]:
    watch = DirectoryWatch([directory], lambda path: path in relevant)
    try:
        yield watch
    finally:
        watch.close()


def read_in_another_process(file: Path) -> None:
    """A plain open and read of `file`, as a `cat` or a backup does it."""
    code = "import sys; open(sys.argv[1], 'rb').read()"
    subprocess.run([sys.executable, "-c", code, str(file)], check=True)


def test_reading_a_file_queues_no_event_but_saving_it_does(tmp_path: Path) -> None:
    file = tmp_path / "app.ini"
    file.write_text("a = 1\n")
    with watching(tmp_path, file) as watch:
        read_in_another_process(file)
        file.stat()
        assert not watch.pending()  # the kernel queued nothing: nobody is woken
        with file.open("r+") as opened:  # an editor's save in place
            opened.write("a = 2\n")
        assert watch.pending() == Batch({file}, closed={file})


def test_renames_deletes_creates_and_attributes_are_seen(tmp_path: Path) -> None:
    file, other = tmp_path / "app.ini", tmp_path / "other.ini"
    file.write_text("a = 1\n")
    with watching(tmp_path, file) as watch:
        save = tmp_path / "app.ini.tmp"
        save.write_text("a = 2\n")
        other.write_text("not watched")
        assert not watch.pending()  # events of files that hold no mount are dropped
        os.replace(save, file)  # `kdb set`, or an editor that renames its copy over
        assert watch.pending() == Batch({file})  # renamed in whole: nobody writes it now
        file.unlink()
        assert watch.pending() == Batch({file})
        file.write_text("a = 3\n")
        assert watch.pending() == Batch({file}, closed={file})
        file.chmod(0o600)
        assert watch.pending() == Batch({file})
        with file.open("r+") as opened:  # written in place: its close is told apart
            opened.truncate()
            assert watch.pending() == Batch()  # no close yet, and nothing else to tell
            opened.write("a = 4\n")
        assert watch.pending() == Batch({file}, closed={file})


def test_a_directory_made_later_is_seen_and_losing_the_watched_one_means_everything(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    later = config / "later"
    with watching(config, later) as watch:
        later.mkdir()
        assert watch.pending() == Batch({later})
        shutil.rmtree(config)
        assert watch.pending().everything


async def next_batch(batches: AsyncIterator[Batch]) -> Batch:
    return await asyncio.wait_for(anext(batches), BATCH_TIMEOUT)


async def test_reads_between_changes_yield_nothing_and_changes_are_coalesced(
    tmp_path: Path,
) -> None:
    file, sidecar = tmp_path / "app.ini", tmp_path / "app.ini.meta"
    file.write_text("a = 1\n")
    stopping = asyncio.Event()
    with watching(tmp_path, file, sidecar) as watch:
        batches = watch.batches(stopping, step=STEP, debounce=DEBOUNCE)
        waiting = asyncio.ensure_future(next_batch(batches))
        for _ in range(5):
            await asyncio.to_thread(read_in_another_process, file)
        # Written together, as elektrad writes a file and its metadata: one batch for both.
        file.write_text("a = 2\n")
        sidecar.write_text("meta\n")
        # The first batch is the write: the reads before it yielded nothing.
        assert await waiting == Batch({file, sidecar}, closed={file, sidecar})
        await asyncio.to_thread(read_in_another_process, file)
        waiting = asyncio.ensure_future(next_batch(batches))
        file.unlink()
        assert await waiting == Batch({file})
        stopping.set()
        # Once stopping is set, the watch ends by itself.
        assert [batch async for batch in batches] == []
