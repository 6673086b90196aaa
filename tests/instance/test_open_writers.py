"""Asking the kernel whether any process has a file open for writing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from elektraweb.instance.open_writers import held_open_for_writing

HOLD_OPEN = "import sys; f = open(sys.argv[1], 'a'); print('open', flush=True); sys.stdin.read()"
OPEN_AND_CLOSE = "import sys\nwhile True:\n    open(sys.argv[1], 'a').close()"
ASK_OFTEN = """
import sys
from pathlib import Path
from elektraweb.instance.open_writers import held_open_for_writing
for _ in range(20000):
    held_open_for_writing(Path(sys.argv[1]))
print("asked", flush=True)
"""


def test_a_writer_in_this_process_is_seen_until_it_closes(tmp_path: Path) -> None:
    file = tmp_path / "app.ini"
    file.write_text("[s]\na = 1\n")
    assert not held_open_for_writing(file)
    with file.open("r+"):
        assert held_open_for_writing(file)
    assert not held_open_for_writing(file)


def test_a_writer_in_another_process_is_seen(tmp_path: Path) -> None:
    file = tmp_path / "app.ini"
    file.write_text("[s]\na = 1\n")
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as writer:
        assert writer.stdout is not None and writer.stdin is not None
        assert writer.stdout.readline() == "open\n"
        assert held_open_for_writing(file)
        writer.stdin.close()  # the writer ends, and its file with it
    assert not held_open_for_writing(file)


def test_readers_and_missing_files_hold_nothing_open_for_writing(tmp_path: Path) -> None:
    file = tmp_path / "app.ini"
    file.write_text("[s]\na = 1\n")
    with file.open(), file.open("rb"):
        assert not held_open_for_writing(file)
    assert not held_open_for_writing(tmp_path / "missing.ini")


def test_a_writer_opening_the_file_while_its_lease_is_held_ends_no_process(
    tmp_path: Path,
) -> None:
    # A writer that opens the file in the moment the lease is held breaks it, and the
    # kernel signals the lease's holder: with SIGIO, its default, the holder would end.
    file = tmp_path / "app.ini"
    file.write_text("[s]\na = 1\n")
    with subprocess.Popen([sys.executable, "-c", OPEN_AND_CLOSE, str(file)]) as writer:
        try:
            asking = subprocess.run(
                [sys.executable, "-c", ASK_OFTEN, str(file)],
                capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
        finally:
            writer.kill()
    assert asking.returncode == 0, asking.stderr
    assert asking.stdout == "asked\n"
