"""A folder on this machine that the drop rules read as they read an SFTP server, never following a link.

:class:`LocalFiles` offers the calls of paramiko's ``SFTPClient`` that
:class:`~rostersync.transports.sftp_drops.Files` names (``listdir_attr``, ``stat``, ``open`` with
``readv``, ``mkdir``, ``rename``) over local files, so the ``dropbox`` kind runs the very same drop
rules, download checks and archive step as the ``sftp`` kind.

The folder is written by other people (a district's upload account), so everything in it is
untrusted: a ``users.csv`` that is a symbolic link to ``/etc/shadow``, a dated sub-folder swapped
for a link to ``/etc`` between the listing and the archive step. rostersync may run as root, outside
the account's chroot, where such a link would point at the real system. So every path is resolved
one component at a time from the folder's root with ``O_NOFOLLOW`` (``openat``), and renames and
stats work relative to those descriptors: no call here follows a link, inside the folder or out of
it. A link is listed as a link (neither a file nor a folder, so the drop rules pass it over), and
opening a path through one fails. Only the root itself, which the operator configured, may be a link.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

import attrs

from rostersync.errors import SourceError

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_BELOW = _DIR | os.O_NOFOLLOW


@attrs.frozen
class Attributes:
    """What ``SFTPClient.listdir_attr``/``stat`` return, for a local entry (``lstat``: links not followed)."""

    filename: str
    st_mode: int
    st_size: int
    st_mtime: int

    @classmethod
    def of(cls, name: str, st: os.stat_result) -> Attributes:
        return cls(name, st.st_mode, st.st_size, int(st.st_mtime))


class _Reader:
    """An open regular file with ``SFTPFile.readv``: the blocks asked for, in order."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle

    def readv(self, chunks: list[tuple[int, int]]) -> Iterator[bytes]:
        for offset, length in chunks:
            self._handle.seek(offset)
            yield self._handle.read(length)

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


class LocalFiles:
    """The folder ``root`` and what is below it, as an SFTP session would show it.

    Paths are strings below ``root`` (``f"{root}/2026-05-01/users.csv"``), as the drop rules build them.
    Every error is a :class:`SourceError` naming the path, except a missing path in :meth:`stat`, which
    raises ``FileNotFoundError`` as ``SFTPClient.stat`` does (the archive step asks whether a name is free).
    """

    def __init__(self, root: Path | str) -> None:
        self.root = str(root).rstrip("/") or "/"

    def _parts(self, path: str) -> tuple[str, ...]:
        try:
            parts = PurePosixPath(path).relative_to(self.root).parts
        except ValueError:
            raise SourceError(f"refusing a path outside the drop folder {self.root}", path) from None
        if ".." in parts:
            raise SourceError("refusing a path with '..' in it", path)
        return parts

    @contextmanager
    def _folder(self, parts: tuple[str, ...]) -> Iterator[int]:
        """A descriptor of the folder ``root/parts``, reached without following a link below the root."""
        fd = os.open(self.root, _DIR)
        try:
            for part in parts:
                below = os.open(part, _BELOW, dir_fd=fd)
                os.close(fd)
                fd = below
            yield fd
        finally:
            os.close(fd)

    @contextmanager
    def _parent(self, path: str) -> Iterator[tuple[int, str]]:
        """The descriptor of the folder holding ``path``, and its last name."""
        parts = self._parts(path)
        if not parts:
            raise SourceError("the drop folder itself cannot be opened, moved or created", path)
        with self._folder(parts[:-1]) as fd:
            yield fd, parts[-1]

    def _error(self, exc: OSError, path: str, what: str) -> SourceError:
        code = exc.errno
        if code in (errno.ELOOP, errno.ENOTDIR):
            return SourceError(f"cannot {what}: a symbolic link, or not a folder, on the way (links in a drop box are "
                               "never followed)", path)
        if code in (errno.EACCES, errno.EPERM):
            return SourceError(f"cannot {what}: permission denied for the user rostersync runs as (uid "
                               f"{os.geteuid()}); run syncs as root or as a member of the drop box's group", path)
        if code == errno.ENOENT:
            return SourceError(f"cannot {what}: not found (check the path setting; `rostersync dropbox list` shows "
                               "each school's folder)", path)
        return SourceError(f"cannot {what}: {exc.strerror or exc}", path)

    # -- the SFTPClient calls ------------------------------------------------------------------------------
    def listdir_attr(self, path: str) -> list[Attributes]:
        try:
            with self._folder(self._parts(path)) as fd, os.scandir(fd) as entries:
                return [Attributes.of(e.name, e.stat(follow_symlinks=False)) for e in entries]
        except OSError as exc:
            raise self._error(exc, path, "list the folder") from None

    def stat(self, path: str) -> Attributes:
        try:
            with self._parent(path) as (fd, name):
                return Attributes.of(name, os.stat(name, dir_fd=fd, follow_symlinks=False))
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise self._error(exc, path, "look at the file") from None

    def open(self, path: str, mode: str = "r") -> _Reader:
        """Open a regular file for reading (O_NONBLOCK: a named pipe cannot make the sync wait)."""
        if mode not in ("r", "rb"):
            raise ValueError(f"LocalFiles opens files for reading only, not {mode!r}")
        try:
            with self._parent(path) as (fd, name):
                handle = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
        except OSError as exc:
            raise self._error(exc, path, "open the file") from None
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            os.close(handle)
            raise SourceError("not a regular file: refused", path)
        return _Reader(os.fdopen(handle, "rb"))

    def mkdir(self, path: str, mode: int = 0o777) -> None:
        try:
            with self._parent(path) as (fd, name):
                os.mkdir(name, mode, dir_fd=fd)
        except OSError as exc:
            raise self._error(exc, path, "create the folder") from None

    def rename(self, oldpath: str, newpath: str) -> None:
        try:
            with self._parent(oldpath) as (src, old), self._parent(newpath) as (dst, new):
                os.rename(old, new, src_dir_fd=src, dst_dir_fd=dst)
        except OSError as exc:
            raise self._error(exc, oldpath, f"move it to {newpath}") from None

    def __repr__(self) -> str:
        return f"LocalFiles({self.root!r})"

