"""`kdb rm` and a later `kdb set` of the same key, each its own process: the key's lines go
back where they stood, from the record kept beside the file (``.app.toml.removed``)."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from cli.kdb_runner import Kdb

# Each: the file's text, and the key to remove and set again (below the mountpoint).
LAYOUTS = {
    "toml": (
        '# service\n[server]\nhost = "h"\n# where it listens\nport = 5432  # postgres\n'
        'workers = 4\n\n[log]\nlevel = "info"\n',
        "server/port",
    ),
    "ini": (
        "; service\n[server]\nhost = h\n; where it listens\nport = 5432\nworkers = 4\n\n"
        "[log]\nlevel = info\n",
        "server/port",
    ),
    "yaml": (
        "# service\nserver:\n  host: h\n  # where it listens\n  port: 5432  # postgres\n"
        "  workers: 4\nlog:\n  level: info\n",
        "server/port",
    ),
}
MOUNT = "user:/tests/layout"


def mounted(kdb: Kdb, format_name: str, text: str) -> Path:
    """A file of ``text`` mounted at MOUNT, readable by its owner only."""
    file = kdb.root / "user" / f"layout.{format_name}"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text)
    file.chmod(0o600)
    kdb.ok("mount", file.name, MOUNT, format_name)
    return file


def record_of(file: Path) -> Path:
    return file.with_name(f".{file.name}.removed")


@pytest.mark.parametrize("format_name", sorted(LAYOUTS))
def test_rm_then_set_in_two_processes_leaves_the_file_byte_for_byte(
    kdb: Kdb, format_name: str
) -> None:
    text, key = LAYOUTS[format_name]
    file = mounted(kdb, format_name, text)
    kdb.ok("rm", f"{MOUNT}/{key}")
    assert "port" not in file.read_text()
    assert stat.S_IMODE(record_of(file).stat().st_mode) == 0o600

    kdb.ok("set", f"{MOUNT}/{key}", "5432")
    assert file.read_text() == text
    assert not record_of(file).exists()  # nothing left to put back


def test_a_file_edited_by_hand_in_between_gets_the_key_at_the_end_of_its_table(
    kdb: Kdb,
) -> None:
    """The record belongs to the content it was written with: after a hand edit its lines
    are not trusted, and the key is added as any new key is."""
    text, key = LAYOUTS["toml"]
    file = mounted(kdb, "toml", text)
    kdb.ok("rm", f"{MOUNT}/{key}")
    file.write_text(file.read_text().replace('level = "info"', 'level = "debug"'))

    kdb.ok("set", f"{MOUNT}/{key}", "5432")
    assert file.read_text() == (
        '# service\n[server]\nhost = "h"\n# where it listens\nworkers = 4\nport = "5432"\n\n'
        '[log]\nlevel = "debug"\n'
    )
    assert kdb.get(f"{MOUNT}/{key}") == "5432"


def test_a_record_whose_data_file_was_never_written_puts_nothing_back(
    kdb: Kdb, tmp_path: Path
) -> None:
    """A crash between the record's rename and the data file's leaves a record for content
    the file does not have: its lines (here another file's, with their comment) stay out."""
    text, key = LAYOUTS["toml"]
    (tmp_path / "other").mkdir()
    other = Kdb(tmp_path / "other")
    foreign = mounted(other, "toml", text.replace("# postgres", "# token 5f3a"))
    other.ok("rm", f"{MOUNT}/{key}")  # the write whose record reached the disk
    file = mounted(kdb, "toml", foreign.read_text() + "# this file's own\n")
    shutil.copy(record_of(foreign), record_of(file))

    kdb.ok("set", f"{MOUNT}/{key}", "5432")
    assert "token 5f3a" not in file.read_text()
    assert 'workers = 4\nport = "5432"\n' in file.read_text()  # at the end of its table

    # The same record beside the very content it was written with does put the lines back.
    other.ok("set", f"{MOUNT}/{key}", "5432")
    assert "port = 5432  # token 5f3a\n" in foreign.read_text()


def test_the_record_stays_with_the_file_through_umount_and_mount(kdb: Kdb) -> None:
    """`kdb umount` leaves the file and what lies beside it as they are: mounted again
    unchanged, the key still goes back where it stood."""
    text, key = LAYOUTS["yaml"]
    file = mounted(kdb, "yaml", text)
    kdb.ok("rm", f"{MOUNT}/{key}")
    kdb.ok("umount", MOUNT)
    assert record_of(file).exists()

    kdb.ok("mount", file.name, MOUNT, "yaml")
    kdb.ok("set", f"{MOUNT}/{key}", "5432")
    assert file.read_text() == text
