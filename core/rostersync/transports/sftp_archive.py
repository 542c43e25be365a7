"""Move an imported drop into ``archive/`` next to it, after the sync that imported it committed.

Works on any :class:`~rostersync.transports.sftp_drops.Files`: the SFTP server a drop was pulled
from, or a drop box folder on this machine. Only files still exactly as imported (same size and time)
are moved: a file the SIS rewrote in the meantime belongs to the next drop and stays where it is.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from typing import Any

from rostersync.transports.sftp_drops import ARCHIVE, Drop, Files, RemoteFile
from rostersync.transports.sftp_session import SftpError, remote_error

STEP = "archive"


def _exists(sftp: Files, path: str) -> bool:
    try:
        sftp.stat(path)
    except FileNotFoundError:
        return False
    return True


def _unchanged(sftp: Files, f: RemoteFile) -> bool:
    try:
        now = sftp.stat(f.path)
    except FileNotFoundError:
        return False
    return (now.st_size, int(now.st_mtime or 0)) == (f.size, f.mtime)


def _free_name(sftp: Files, folder: str, name: str, stamp: str) -> str:
    target = posixpath.join(folder, name)
    return posixpath.join(folder, f"{stamp}-{name}") if _exists(sftp, target) else target


def saved_drop(context: Any) -> Drop | None:
    """The drop a committed run imported (from the state it saved), when ``archive`` is on; else None."""
    saved = context.state.get("drop")
    return Drop.from_state(saved) if context.settings.archive and saved else None


def archive_drop(sftp: Files, drop: Drop, remote_path: str, where: str) -> list[str]:
    """Move ``drop`` (and its marker) under ``remote_path/archive``; return notes on what was left."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    archive = posixpath.join(remote_path, ARCHIVE)
    notes = []
    try:
        if not _exists(sftp, archive):
            sftp.mkdir(archive)
        moves: list[tuple[str, str]] = []
        if drop.kind == "folder" and drop.path.rstrip("/") == remote_path.rstrip("/"):
            target = _free_name(sftp, archive, stamp, stamp)
            sftp.mkdir(target)
            for f in drop.files:
                if _unchanged(sftp, f):
                    moves.append((f.path, posixpath.join(target, f.name)))
                else:
                    notes.append(f"{f.name} changed after it was imported; left in place for the next run")
            if drop.marker is not None:
                moves.append((drop.marker.path, posixpath.join(target, drop.marker.name)))
        elif drop.kind == "zip" and not _unchanged(sftp, drop.files[0]):
            notes.append(f"{drop.name} changed after it was imported; left in place for the next run")
        else:
            moves.append((drop.path, _free_name(sftp, archive, drop.name, stamp)))
            if drop.kind == "zip" and drop.marker is not None:
                moves.append((drop.marker.path, _free_name(sftp, archive, drop.marker.name, stamp)))
        for src, dst in moves:
            sftp.rename(src, dst)
    except SftpError:
        raise
    except Exception as exc:
        raise remote_error(exc, where, step=STEP, what=f"archiving {drop.name}") from None
    return notes
