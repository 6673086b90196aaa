"""Atomic replacement of files: a write never touches the file in place.

The new content goes to a temporary file in the same directory, is flushed with fsync,
renamed over the old file, and the directory is fsynced, so a reader (or a crash) sees either
the old file or the new one, never a torn mix. What identifies a version of a file is in
``file_state``, the locks writers hold in ``file_locks``.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from elektraweb.kdb import file_state
from elektraweb.kdb.errors import ConflictError, ResourceError
from elektraweb.kdb.file_state import FileState

if TYPE_CHECKING:
    import ctypes

_TEMP_SUFFIX = ".tmp"
# Swaps that put another program's save back before giving up and keeping it aside.
_MAX_PUT_BACK = 100

_RENAME_NOREPLACE = 1  # renameat2(2) flags
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class StagedFile:
    """New content flushed to a temporary file beside ``target``, not yet in place."""

    def __init__(self, target: Path, data: bytes, mode_of: Path | None = None) -> None:
        """``mode_of``: the file whose owner and mode the new one gets (``target``'s own if
        it exists, else those of any new file the user creates)."""
        self.target = target
        self.data = data
        self._temp = target.with_name(f".{target.name}.{os.urandom(4).hex()}{_TEMP_SUFFIX}")
        try:
            like = os.stat(mode_of or target)
        except FileNotFoundError:
            like = None
        except OSError as exc:
            raise ResourceError(f"cannot write {target}: {exc.strerror}") from exc
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(
                self._temp,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                _creation_mode(like),
            )
        except OSError as exc:
            raise ResourceError(f"cannot write {target}: {exc.strerror}") from exc
        try:
            st = os.fstat(fd)
            if like is not None and _owner_and_mode(st) != _owner_and_mode(like):
                _keep_owner_and_mode(fd, like)
            self._inode = st.st_ino
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError as exc:
            self.discard()
            raise ResourceError(f"cannot write {target}: {exc.strerror}") from exc
        finally:
            os.close(fd)

    def commit(self, expected: FileState | None) -> FileState:
        """Put the new content in place, provided the file is still ``expected`` (None: it
        does not exist); ConflictError if another program saved it meanwhile, whose save is
        then kept in place.

        The identity is checked right before the swap, and the swap itself
        (``renameat2(RENAME_EXCHANGE)``) hands back the file it replaced, whose content is
        compared: a save that slipped in between, or that the stat cannot show (a racily new
        file), is found that way and put back (docs/kdb.md, "Writers that skip the lock"). So
        the check reads the content only where the stat differs: reading the file that the
        swap hands back anyway would find nothing more.
        """
        if not (
            file_state.stat_matches(self.target, expected)
            or file_state.unchanged(self.target, expected)
        ):
            raise self._conflict("changed on disk since it was last read")
        try:
            swapped = _rename2(
                self._temp, self.target, _RENAME_NOREPLACE if expected is None else _RENAME_EXCHANGE
            )
        except FileExistsError:
            raise self._conflict("was created by another program meanwhile") from None
        except FileNotFoundError:
            raise self._conflict("was removed by another program meanwhile") from None
        except OSError as exc:
            raise ResourceError(f"cannot replace {self.target}: {exc.strerror}") from exc
        if not swapped:  # the filesystem cannot swap: a plain rename, checked just before
            return self.replace()
        if expected is not None:
            displaced = file_state.read(self._temp)
            if displaced is not None and displaced[1].content != expected.content:
                self._put_back(displaced[1].inode)
            self.discard()
        return self._placed()

    def replace(self) -> FileState:
        """Rename the new content into place unconditionally."""
        try:
            os.replace(self._temp, self.target)
        except OSError as exc:
            raise ResourceError(f"cannot replace {self.target}: {exc.strerror}") from exc
        return self._placed()

    def _placed(self) -> FileState:
        """Make the rename durable; the state of the file now in place."""
        try:
            fsync_directory(self.target.parent)
            seen_ns = time.time_ns()
            st = os.stat(self.target)
        except OSError as exc:
            raise ResourceError(f"cannot replace {self.target}: {exc.strerror}") from exc
        return file_state.state_of(st, self.data, seen_ns)

    def _put_back(self, displaced: int) -> None:
        """Swap the other program's save (inode ``displaced``, now at the temporary name)
        back into place, and any save it made in the meantime, then raise the conflict."""
        saves = [displaced]  # the other program's saves we swapped out, oldest first
        for _swap in range(_MAX_PUT_BACK):
            _rename2(self._temp, self.target, _RENAME_EXCHANGE)
            now_aside = os.stat(self._temp).st_ino
            if now_aside == self._inode or now_aside in saves:
                # What we took back out is our own content (or an older save that a newer
                # one replaced): the newest save is in place.
                self.discard()
                fsync_directory(self.target.parent)
                earlier = "".join(f", inode {inode}" for inode in saves[:-1])
                raise self._conflict(
                    f"was saved by another program while elektrad wrote it; that save "
                    f"(inode {saves[-1]}{earlier and ' replacing' + earlier[1:]}) is back in "
                    "place and this write was not applied"
                )
            saves.append(now_aside)  # another save arrived during the swap: put it back too
        kept = self.target.with_name(f"{self.target.name}.conflict-{os.urandom(4).hex()}")
        os.rename(self._temp, kept)
        raise self._conflict(
            f"keeps being saved by another program; a save displaced by "
            f"this write is kept as {kept}"
        )

    def _conflict(self, what: str) -> ConflictError:
        return ConflictError(f"{self.target} {what}; get the keys again and retry")

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._temp)


@functools.cache
def _libc() -> ctypes.CDLL:
    """The C library, loaded on the first write (ctypes costs every reader start-up time)."""
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _rename2(source: Path, target: Path, flags: int) -> bool:
    """``renameat2(source, target, flags)``; False if the system or filesystem lacks it."""
    import ctypes

    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), flags) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(error, os.strerror(error), str(target))


def _creation_mode(like: os.stat_result | None) -> int:
    """The mode to create a temporary file with that will replace a file like ``like``."""
    if like is None:
        return 0o666  # a new file: as the umask says
    if (like.st_uid, like.st_gid) == (os.geteuid(), os.getegid()):
        return like.st_mode & 0o777  # it comes out as ours, whom the mode already lets in
    # Private until it has the owner and mode it copies: the content may be secret.
    return 0o600


def _owner_and_mode(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_uid, st.st_gid, st.st_mode & 0o7777


def _keep_owner_and_mode(fd: int, st: os.stat_result) -> None:
    os.fchmod(fd, st.st_mode & 0o7777)
    with contextlib.suppress(PermissionError):
        os.fchown(fd, st.st_uid, st.st_gid)


def remove_stale_temporaries(target: Path) -> None:
    """Delete temporary files that a killed writer of ``target`` left behind.

    Only call this with the write lock held: then no live writer of ours has one open.
    """
    prefix = f".{target.name}."
    try:
        entries = os.scandir(target.parent)
    except FileNotFoundError:
        return
    with entries:
        for entry in entries:
            name = entry.name
            if name.startswith(prefix) and name.endswith(_TEMP_SUFFIX):
                hexpart = name[len(prefix) : -len(_TEMP_SUFFIX)]
                if len(hexpart) == 8 and all(c in "0123456789abcdef" for c in hexpart):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)


def remove(path: Path) -> None:
    """Delete a file durably (missing is fine)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ResourceError(f"cannot remove {path}: {exc.strerror}") from exc
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some filesystems cannot fsync a directory; the rename itself is still atomic.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> FileState:
    """Replace ``path`` with ``data`` atomically (callers hold the lock)."""
    staged = StagedFile(path, data)
    try:
        return staged.replace()
    except BaseException:
        staged.discard()
        raise
