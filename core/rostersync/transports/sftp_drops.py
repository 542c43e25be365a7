"""Which files on the SFTP server make up a *drop*, and which drop is the newest complete one.

An SIS delivers a roster export in one of three shapes, all handled here:

* **zip files** (``file_pattern = *.zip``): each matching zip in ``remote_path`` is one drop;
* **a folder overwritten in place** (Clever-style): the CSV files directly in ``remote_path``;
* **dated sub-folders**: when ``remote_path`` holds no matching file itself, each sub-folder that
  does (except ``archive/``) is a drop.

A drop is *complete* when the marker file says so (and is no older than the files), or, without a
marker, when two looks ``settle_seconds`` apart see the same names, sizes and modification times:
an upload in progress changes at least one of them. Newer drops still being written are left for
a later run; the newest complete one is imported.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import posixpath
import stat
import time
from collections.abc import Callable
from typing import Any

import attrs

from rostersync.transports.sftp_session import remote_error

ARCHIVE = "archive"
REMOTE_FOLDER = "remote folder"


@attrs.frozen
class RemoteFile:
    path: str
    name: str
    size: int
    mtime: int


@attrs.frozen
class Drop:
    """One roster export on the server: a zip file, or a folder of CSV files."""

    name: str
    path: str
    kind: str  # "zip" | "folder"
    files: tuple[RemoteFile, ...]
    marker: RemoteFile | None = None

    @property
    def mtime(self) -> int:
        return max(f.mtime for f in self.files)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def fingerprint(self) -> list[list[Any]]:
        """Names, sizes and times: what tells this drop from the next one (kept in the run's state)."""
        return [[f.name, f.size, f.mtime] for f in sorted(self.files, key=lambda f: f.name)]

    def describe(self) -> str:
        files = "" if self.kind == "zip" else f"{len(self.files)} files, "
        slash = "" if self.kind == "zip" else "/"
        return f"{self.name}{slash} ({files}{self.size:,} bytes, modified {iso(self.mtime)})"

    def as_state(self) -> dict[str, Any]:
        """What a run remembers of its drop: enough to tell the next drop from it, and to archive it
        once the run is committed (perhaps a day later, when a held run is approved). No secret."""
        marker = [self.marker.name, self.marker.size, self.marker.mtime] if self.marker else None
        return {"name": self.name, "path": self.path, "kind": self.kind, "mtime": self.mtime,
                "files": self.fingerprint, "marker": marker}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Drop:
        """The drop :meth:`as_state` described."""
        path, kind = state["path"], state["kind"]
        folder = path if kind == "folder" else posixpath.dirname(path)

        def remote(name: str, size: int, mtime: int) -> RemoteFile:
            return RemoteFile(posixpath.join(folder, name), name, size, mtime)

        marker = state.get("marker")
        return cls(state["name"], path, kind, tuple(remote(*f) for f in state["files"]),
                   remote(*marker) if marker else None)


@attrs.frozen
class Choice:
    """The drop to import (None: none is complete) and the newer ones skipped as still being written."""

    drop: Drop | None
    unfinished: tuple[Drop, ...] = ()

    def unfinished_note(self) -> str:
        if not self.unfinished:
            return ""
        names = ", ".join(d.name for d in self.unfinished)
        return f"{names} still being written (left for a later run)"


def iso(mtime: int) -> str:
    return dt.datetime.fromtimestamp(mtime, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _matches(name: str, pattern: str) -> bool:
    return fnmatch.fnmatch(name.lower(), pattern.lower())


def is_zip_pattern(pattern: str) -> bool:
    return pattern.lower().endswith(".zip")


def _listdir(sftp: Any, path: str, where: str, what: str = "remote folder") -> list[Any]:
    try:
        return list(sftp.listdir_attr(path))
    except Exception as exc:  # paramiko raises OSError for status codes, others when the link drops
        raise remote_error(exc, where, step=REMOTE_FOLDER, what=what) from None


def _file(folder: str, entry: Any) -> RemoteFile:
    return RemoteFile(posixpath.join(folder, entry.filename), entry.filename, entry.st_size or 0,
                      int(entry.st_mtime or 0))


def _plain_name(name: str) -> bool:
    """A name that stays inside the download folder (a hostile server could list ``../x.csv``)."""
    return name not in ("", ".", "..") and "/" not in name and "\\" not in name and "\0" not in name


def _regular(entries: list[Any]) -> list[Any]:
    return [e for e in entries if e.st_mode is not None and stat.S_ISREG(e.st_mode) and _plain_name(e.filename)]


def _folder_drop(name: str, folder: str, entries: list[Any], settings: Any) -> Drop | None:
    marker_name = settings.marker_file.replace("{drop}", name)
    files = [_file(folder, e) for e in _regular(entries)
             if _matches(e.filename, settings.file_pattern) and e.filename != marker_name]
    if not files:
        return None
    marker = next((_file(folder, e) for e in _regular(entries) if marker_name and e.filename == marker_name), None)
    return Drop(name, folder, "folder", tuple(files), marker)


def list_drops(sftp: Any, settings: Any, where: str) -> list[Drop]:
    """Every drop under ``remote_path``, newest first."""
    root = settings.remote_path
    entries = _listdir(sftp, root, where)
    if is_zip_pattern(settings.file_pattern):
        regular = _regular(entries)
        drops = []
        for e in regular:
            if _matches(e.filename, settings.file_pattern):
                marker_name = settings.marker_file.replace("{drop}", e.filename)
                marker = next((_file(root, m) for m in regular if marker_name and m.filename == marker_name), None)
                drops.append(Drop(e.filename, posixpath.join(root, e.filename), "zip", (_file(root, e),), marker))
    else:
        here = _folder_drop(posixpath.basename(root.rstrip("/")) or root, root, entries, settings)
        if here is not None:
            drops = [here]
        else:
            subfolders = [e for e in entries if e.st_mode is not None and stat.S_ISDIR(e.st_mode)
                          and _plain_name(e.filename) and e.filename != ARCHIVE]
            drops = []
            for sub in subfolders:
                path = posixpath.join(root, sub.filename)
                drop = _folder_drop(sub.filename, path, _listdir(sftp, path, where, f"sub-folder {sub.filename}"),
                                    settings)
                if drop is not None:
                    drops.append(drop)
    return sorted(drops, key=lambda d: (d.mtime, d.name), reverse=True)


def choose_drop(sftp: Any, settings: Any, where: str, sleep: Callable[[float], None] = time.sleep) -> Choice:
    """The newest complete drop, after the marker check or a second look ``settle_seconds`` later."""
    first = list_drops(sftp, settings, where)
    if settings.marker_file:
        complete = {d.path for d in first if d.marker is not None and d.marker.mtime >= d.mtime}
        current = first
    elif settings.settle_seconds > 0 and first:
        sleep(settings.settle_seconds)
        current = list_drops(sftp, settings, where)
        before = {d.path: d.fingerprint for d in first}
        complete = {d.path for d in current if before.get(d.path) == d.fingerprint}
    else:
        current, complete = first, {d.path for d in first}
    unfinished = []
    for drop in current:
        if drop.path in complete:
            return Choice(drop, tuple(unfinished))
        unfinished.append(drop)
    return Choice(None, tuple(unfinished))
