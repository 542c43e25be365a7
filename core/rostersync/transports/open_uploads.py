"""Which files in a drop box an upload still holds open for writing: seen in /proc, not guessed from times.

A drop box is served by this machine's sshd, so an upload in progress is a process of the upload
account (its ``internal-sftp``) with the file open for writing. That is a better answer than the
drop rules' two looks (``settle_seconds``): a district whose link stalls for longer than the settle
time leaves a file whose size and time stay the same, and a half-written CSV is still a valid CSV.
The two looks still apply; this only adds "held open for writing" to what makes a drop unfinished.

Reading another account's file descriptors needs root (or that account); without the right, or
without /proc, nothing is seen and the drop rules decide alone.
"""

from __future__ import annotations

import os
from pathlib import Path

WRITE_MODES = (os.O_WRONLY, os.O_RDWR)


def _uid(pid: Path) -> int | None:
    try:
        for line in (pid / "status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _writing(fdinfo: Path) -> bool:
    try:
        for line in fdinfo.read_text().splitlines():
            if line.startswith("flags:"):
                return (int(line.split()[1], 8) & os.O_ACCMODE) in WRITE_MODES
    except (OSError, ValueError, IndexError):
        pass
    return False


def open_for_writing(folder: str, proc: Path = Path("/proc")) -> set[str]:
    """Paths below ``folder`` (spelt as ``folder`` spells them) that a process of the folder's owner has open
    for writing."""
    try:
        owner = os.stat(folder).st_uid
        real = os.path.realpath(folder).rstrip("/") + "/"
        pids = [p for p in proc.iterdir() if p.name.isdigit()]
    except OSError:
        return set()
    found = set()
    for pid in pids:
        if _uid(pid) != owner:
            continue
        try:
            fds = list((pid / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith(real) and _writing(pid / "fdinfo" / fd.name):
                found.add(folder.rstrip("/") + "/" + target[len(real):])
    return found
