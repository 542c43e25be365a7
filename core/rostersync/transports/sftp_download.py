"""Download a drop to a private folder: streamed to disk, sizes verified, resumed after a dropped link.

Reads are pipelined in bounded windows (``SFTPFile.readv`` over at most :data:`WINDOW` requests of
32 KiB): nearly the speed of paramiko's whole-file prefetch without ever buffering more than a few
MiB, and each window starts from the bytes already on disk, so a retry resumes where the lost
connection stopped. Retries use tenacity with exponential backoff; only a lost connection is
retried, never a refused login or a missing file. :func:`download_file` reads any
:class:`~rostersync.transports.sftp_drops.Files`: the ``dropbox`` kind copies from its local folder
with it, so a drop box's files get the same checks (unchanged while copied, sizes verified).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from rostersync.errors import SourceError
from rostersync.transports.sftp_drops import Drop, Files, RemoteFile
from rostersync.transports.sftp_session import SftpError, remote_error

DOWNLOAD = "download"
CHUNK = 32 * 1024  # paramiko's largest SFTP read request
WINDOW = 128  # requests in flight per window: at most 4 MiB buffered


def _open_local(path: Path) -> Any:
    """Append to ``path``, created readable by its owner only."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")


def quiet_prefetch(src: Any) -> None:
    """paramiko's ``readv`` sends its read requests from a thread of its own. When the link drops, that
    thread dies with an uncaught exception, which Python prints as a traceback on stderr (a cron mail
    full of paramiko internals) while the read in this thread fails on the same lost connection and is
    reported, and retried, properly. The request thread's failure is therefore dropped here. Only paramiko's
    SFTP files have that thread; a local file (the ``dropbox`` kind) is left as it is."""
    send = getattr(src, "_prefetch_thread", None)
    if send is None:
        return

    def send_quietly(*args: Any, **kwargs: Any) -> None:
        with contextlib.suppress(Exception):  # the waiting read raises for the same lost connection
            send(*args, **kwargs)

    src._prefetch_thread = send_quietly


def _check_unchanged(sftp: Files, remote: RemoteFile, where: str) -> None:
    now = sftp.stat(remote.path)
    if (now.st_size, int(now.st_mtime or 0)) != (remote.size, remote.mtime):
        raise SftpError(f"{remote.name} changed on the server after it was listed (size {remote.size:,} -> "
                        f"{now.st_size:,}): a new drop is being written; a later run will import it",
                        where, step=DOWNLOAD)


def download_file(sftp: Files, remote: RemoteFile, local: Path, where: str, warn: Callable[[str], None]) -> None:
    """Copy ``remote`` to ``local``, continuing after the bytes ``local`` already holds."""
    offset = local.stat().st_size if local.exists() else 0
    if offset > remote.size:
        local.unlink()
        offset = 0
    try:
        _check_unchanged(sftp, remote, where)
        if offset == remote.size:
            return  # complete before the connection dropped
        if offset:
            warn(f"{remote.name}: resuming the download at byte {offset:,} of {remote.size:,}")
        with sftp.open(remote.path, "rb") as src, _open_local(local) as out:
            quiet_prefetch(src)
            while offset < remote.size:
                end = min(offset + WINDOW * CHUNK, remote.size)
                chunks = [(start, min(CHUNK, end - start)) for start in range(offset, end, CHUNK)]
                for block in src.readv(chunks):
                    out.write(block)
                    offset += len(block)
                out.flush()
                if offset < end:
                    raise SftpError(f"{remote.name} is shorter than listed ({offset:,} of {remote.size:,} bytes): "
                                    "it changed during the download", where, step=DOWNLOAD)
        _check_unchanged(sftp, remote, where)
    except SftpError:
        raise
    except FileNotFoundError:
        raise SftpError(f"{remote.name} disappeared after it was listed: a new drop is being written; a later run "
                        "will import it", where, step=DOWNLOAD) from None
    except Exception as exc:  # OSError for SFTP status codes; SSHException/EOFError/timeouts when the link drops
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise SourceError(f"no space left in the work folder for {remote.name}: {exc.strerror}") from None
        what = f"{remote.name} (at byte {offset:,} of {remote.size:,})"
        raise remote_error(exc, where, step=DOWNLOAD, what=what) from None
    if local.stat().st_size != remote.size:
        raise SftpError(f"{remote.name}: downloaded {local.stat().st_size:,} bytes, expected {remote.size:,}",
                        where, step=DOWNLOAD)


def download_drop(first: Any, reconnect: Callable[[], AbstractContextManager[Any]], drop: Drop, dest: Path,
                  settings: Any, where: str, warn: Callable[[str], None]) -> list[Path]:
    """Download every file of ``drop`` into ``dest``; on a lost connection reconnect and resume.

    ``first`` is the session already open; ``reconnect()`` opens a new one for each retry.
    """
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    sessions = [first]
    attempts = settings.retries + 1

    def attempt() -> None:
        with nullcontext(sessions.pop()) if sessions else reconnect() as sftp:
            for remote in drop.files:
                download_file(sftp, remote, dest / remote.name, where, warn)

    def before_sleep(state: Any) -> None:
        warn(f"{state.outcome.exception()}; reconnecting in {state.next_action.sleep:g}s "
             f"(attempt {state.attempt_number + 1} of {attempts})")

    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=settings.retry_wait, max=60),
        retry=retry_if_exception(lambda exc: isinstance(exc, SftpError) and exc.transient),
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        retrying(attempt)
    except SftpError as exc:
        if exc.transient and attempts > 1:
            raise SftpError(f"{_bare(exc)} (gave up after {attempts} attempts)", where, step=exc.step) from None
        raise
    return [dest / remote.name for remote in drop.files]


def _bare(exc: SftpError) -> str:
    """The message of ``exc`` without its location prefix."""
    text = str(exc)
    prefix = f"{exc.location}: "
    return text[len(prefix):] if exc.location and text.startswith(prefix) else text
