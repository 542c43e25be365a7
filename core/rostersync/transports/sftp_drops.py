"""The drop rules: which files make up a *drop*, which drop is the newest complete one, whether it is new.

An SIS delivers a roster export in one of three shapes, all handled here:

* **zip files** (``file_pattern = *.zip``): each matching zip in the folder is one drop;
* **a folder overwritten in place** (Clever-style): the CSV files directly in the folder;
* **dated sub-folders**: when the folder holds no matching file itself, each sub-folder that
  does (except ``archive/``) is a drop.

A drop is *complete* when the marker file says so (and is no older than the files), or, without a
marker, when two looks ``settle_seconds`` apart see the same names, sizes and modification times:
an upload in progress changes at least one of them. Newer drops still being written are left for
a later run; the newest complete one is imported, unless it is the drop imported last (same files,
or the same bytes uploaded again) or older than it.

One implementation for both directions: the rules read a :class:`Files`, which is paramiko's
``SFTPClient`` when the ``sftp`` kind pulls from a district's server, and
:class:`~rostersync.transports.local_files.LocalFiles` when the ``dropbox`` kind receives uploads in a
folder on this machine.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import posixpath
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import attrs

from rostersync.connector import CheckStep, FetchContext
from rostersync.errors import NothingNew, SourceError
from rostersync.transports.sftp_session import remote_error

ARCHIVE = "archive"
REMOTE_FOLDER = "remote folder"


class Files(Protocol):
    """The calls of paramiko's ``SFTPClient`` the drop rules, the download and the archive step make.

    Entries and stats carry ``filename`` (entries only), ``st_mode``, ``st_size`` and ``st_mtime``;
    ``stat`` raises ``FileNotFoundError`` for a missing path. An implementation may raise a
    :class:`~rostersync.errors.SourceError` that says what went wrong itself; other exceptions are
    translated by :func:`~rostersync.transports.sftp_session.remote_error`.
    """

    def listdir_attr(self, path: str) -> list[Any]: ...

    def stat(self, path: str) -> Any: ...

    def open(self, path: str, mode: str = "r") -> Any: ...  # the handle offers readv([(offset, length)])

    def mkdir(self, path: str) -> None: ...

    def rename(self, oldpath: str, newpath: str) -> None: ...


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


def _listdir(files: Files, path: str, where: str, what: str = "remote folder") -> list[Any]:
    try:
        return list(files.listdir_attr(path))
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


def list_drops(files: Files, settings: Any, root: str, where: str) -> list[Drop]:
    """Every drop in the folder ``root``, newest first."""
    entries = _listdir(files, root, where)
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
                drop = _folder_drop(sub.filename, path, _listdir(files, path, where, f"sub-folder {sub.filename}"),
                                    settings)
                if drop is not None:
                    drops.append(drop)
    return sorted(drops, key=lambda d: (d.mtime, d.name), reverse=True)


def choose_drop(files: Files, settings: Any, root: str, where: str, sleep: Callable[[float], None] = time.sleep,
                writing: Callable[[], set[str]] | None = None) -> Choice:
    """The newest complete drop, after the marker check or a second look ``settle_seconds`` later.

    ``writing()``, when the source can tell, returns the paths an upload holds open right now: a drop
    with one of them is unfinished whatever its marker or times say.
    """
    first = list_drops(files, settings, root, where)
    if settings.marker_file:
        complete = {d.path for d in first if d.marker is not None and d.marker.mtime >= d.mtime}
        current = first
    elif settings.settle_seconds > 0 and first:
        sleep(settings.settle_seconds)
        current = list_drops(files, settings, root, where)
        before = {d.path: d.fingerprint for d in first}
        complete = {d.path for d in current if before.get(d.path) == d.fingerprint}
    else:
        current, complete = first, {d.path for d in first}
    if writing is not None:
        held = writing()
        complete -= {d.path for d in current if any(f.path in held for f in d.files)}
    unfinished = []
    for drop in current:
        if drop.path in complete:
            return Choice(drop, tuple(unfinished))
        unfinished.append(drop)
    return Choice(None, tuple(unfinished))


# -- taking a drop: the same steps for every kind that imports drops ------------------------------------
#: fetch(drop) copies the drop's files into the run's private work folder and returns their local paths
Fetch = Callable[[Drop], list[Path]]


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def refuse_unchanged(choice: Choice, context: FetchContext, where: str) -> Drop:
    """The chosen drop, unless it is not newer than the one imported last (``--full`` overrides)."""
    last = context.state.get("drop") or {}
    pending = f"; {choice.unfinished_note()}" if choice.unfinished else ""
    since = (f"no new files since {last.get('name')!r} (modified {iso(int(last.get('mtime', 0)))}) was imported "
             f"at {last.get('imported_at', '?')}") if last else ""
    drop = choice.drop
    if drop is None:
        if choice.unfinished:
            raise NothingNew(f"{where}: {since + ': ' if since else ''}no complete drop yet{pending}")
        if since:
            raise NothingNew(f"{where}: {since}")
        raise SourceError(f"no files matching {context.settings.file_pattern!r} (check the folder and "
                          "file_pattern settings)", where)
    if context.full or not last:
        return drop
    if drop.fingerprint == last.get("files") and drop.path == last.get("path"):
        raise NothingNew(f"{where}: {since}{pending} (sync --full imports it again)")
    if drop.mtime < int(last.get("mtime", 0)):
        raise NothingNew(f"{where}: the newest complete drop {drop.name!r} is older than {last.get('name')!r}, "
                         f"imported before; not going back in time (sync --full imports it){pending}")
    return drop


def take_drop(files: Files, root: str, where: str, context: FetchContext, fetch: Fetch,
              writing: Callable[[], set[str]] | None = None) -> tuple[Drop, list[Path]]:
    """Choose the drop this run imports, fetch it, and remember it in ``context.next_state``.

    Raises :class:`NothingNew` when there is no complete drop newer than the one imported last, or
    when the newest holds the very bytes imported last (a district that uploads the same export
    again gives new file times, not new data). Newer drops still being written become a warning.
    """
    from rostersync.unchanged import bundle_digest

    choice = choose_drop(files, context.settings, root, where, writing=writing)
    drop = refuse_unchanged(choice, context, where)
    local = fetch(drop)
    digest = bundle_digest(local[0] if drop.kind == "zip" else local[0].parent, context.config_digest)
    last = context.state.get("drop") or {}
    if not context.full and digest == last.get("digest"):
        raise NothingNew(f"{where}: {drop.describe()} holds the same bytes as {last.get('name')!r}, imported at "
                         f"{last.get('imported_at', '?')} (sync --full imports it again)")
    if choice.unfinished:
        context.warn(f"{where}: {choice.unfinished_note()}")
    context.next_state["drop"] = {**drop.as_state(), "digest": digest, "imported_at": _now()}
    return drop, local


MB = 1024 * 1024


def drop_path(drop: Drop, local: list[Path]) -> Path:
    """What the bundle reader opens for a fetched drop: its folder, or the zip as it is (read in place)."""
    return local[0] if drop.kind == "zip" else local[0].parent


def zip_reading(settings: Any, label: str) -> dict[str, Any]:
    """How the bundle reader opens a zip drop: named ``label`` (where the drop came from), under
    ``max_unzipped_mb``."""
    return {"label": label, "max_unzipped": (settings.max_unzipped_mb * MB, "max_unzipped_mb")}


def check_drop(files: Files, root: str, locate: Callable[[str], str], context: FetchContext, fetch: Fetch,
               steps: list[CheckStep], *, folder_step: str, fetch_step: str,
               writing: Callable[[], set[str]] | None = None) -> None:
    """``rostersync check`` for a drop folder: append a passed step for the folder, the drop, its fetch and
    its required files, in that order; raise at the first that fails. ``locate(path)`` names a path in
    messages (``sftp://host:port/path``, or the local path itself)."""
    settings, where = context.settings, locate(root)
    drops = list_drops(files, settings, root, where)
    steps.append(CheckStep(folder_step, True, f"{root}: {len(drops)} drop(s) matching {settings.file_pattern}"))
    choice = choose_drop(files, settings, root, where, writing=writing)
    if choice.drop is None:
        why = choice.unfinished_note() or f"no files matching {settings.file_pattern!r}"
        raise SourceError(f"nothing a sync could import: {why}", where)
    try:
        refuse_unchanged(choice, context, where)
        verdict = "a sync would import it"
    except NothingNew as exc:
        verdict = f"a sync would skip it: {exc}"
    pending = f"; newer: {choice.unfinished_note()}" if choice.unfinished else ""
    steps.append(CheckStep("drop", True, f"{choice.drop.describe()}; {verdict}{pending}"))
    local = fetch(choice.drop)
    steps.append(CheckStep(fetch_step, True, f"{len(local)} file(s), {choice.drop.size:,} bytes into a private "
                                             "temporary folder"))
    from rostersync.csvbundle import describe_bundle

    plan = describe_bundle(drop_path(choice.drop, local), settings.format,
                           **zip_reading(settings, locate(choice.drop.path)))
    listed = ", ".join(f"{p.actual} ({p.mode})" for p in plan.files)
    steps.append(CheckStep("required files", True, listed or "manifest declares no files"))
