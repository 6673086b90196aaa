"""The state of a file a test expects to exist, typed as present."""

from pathlib import Path

from elektraweb.kdb.file_state import FileState, read


def existing_state(path: Path) -> FileState:
    """`file_state.read(path)`'s state, failing the test with the path instead of returning
    None."""
    current = read(path)
    assert current is not None, f"{path} does not exist"
    return current[1]
