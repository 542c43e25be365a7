"""One sync per source at a time, across processes (cron jobs, systemd timers, a person at a terminal).

The lock is an OS file lock (via filelock): when a process dies, even by SIGKILL, the kernel releases
it, so a crashed run never leaves a lock behind. Its 'running' row is then recognised as interrupted
by the next run of that source (see Store.recover_interrupted). The SQLite store keeps its locks in
a folder next to the database file (``rostersync.db.locks/``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def lock_path(db_path: Path, school: str, source: str) -> Path:
    folder = db_path.with_name(db_path.name + ".locks")
    folder.mkdir(mode=0o700, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{school}__{source}")
    return folder / f"{safe}.lock"


@contextmanager
def source_lock(db_path: Path, school: str, source: str) -> Iterator[bool]:
    """Yield True holding the source's lock, or False at once when another process holds it."""
    from filelock import FileLock, Timeout

    lock = FileLock(lock_path(db_path, school, source), mode=0o600)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
