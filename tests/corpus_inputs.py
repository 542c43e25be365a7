"""Hostile inputs too big, too binary or too platform-specific to commit, built at test time.

A corpus case names one of these in its ``expected.toml`` (``generate = "zip_bomb"``). Each takes the
drop path (already holding the case's bundle as a folder) and rewrites it: a file inside it, or the
whole drop replaced by a zip file of the same name (``open_bundle`` tells a zip by its content).
"""

from __future__ import annotations

import shutil
import stat
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

GENERATORS: dict[str, Callable[[Path], None]] = {}


def generator(fn: Callable[[Path], None]) -> Callable[[Path], None]:
    GENERATORS[fn.__name__] = fn
    return fn


def _replace_line(path: Path, index: int, edit: Callable[[str], str]) -> None:
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    lines[index] = edit(lines[index])
    path.write_bytes("\r\n".join(lines).encode("utf-8"))


@generator
def huge_field(drop: Path) -> None:
    """A 10 MB given name on users.csv line 5."""
    _replace_line(drop / "users.csv", 4, lambda line: line.replace(",Chidi,", "," + "A" * (10 * 1024 * 1024) + ","))


@generator
def wide_header(drop: Path) -> None:
    """100,000 extra header columns (the rows keep their 19 fields)."""
    _replace_line(drop / "users.csv", 0, lambda line: line + "".join(f",metadata.c{i}" for i in range(100_000)))


def _zip(drop: Path, extra: list[tuple[zipfile.ZipInfo | str, bytes]] = (), *, skip: tuple[str, ...] = (),
         stored: bool = False) -> None:
    """Replace the drop folder by a zip of its files (plus ``extra`` entries) at the same path."""
    files = sorted(p for p in drop.iterdir() if p.name not in skip)
    contents = [(p.name, p.read_bytes()) for p in files]
    shutil.rmtree(drop)
    compression = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with warnings.catch_warnings(), zipfile.ZipFile(drop, "w", compression) as zf:
        warnings.simplefilter("ignore")  # "Duplicate name": on purpose in one case
        for name, data in [*contents, *extra]:
            zf.writestr(name, data)


@generator
def zip_ok(drop: Path) -> None:
    _zip(drop)


@generator
def zip_slip(drop: Path) -> None:
    _zip(drop, [("../../evil.csv", b"sourcedId\r\nx\r\n")])


@generator
def zip_absolute(drop: Path) -> None:
    _zip(drop, [("/etc/cron.d/evil", b"* * * * * root rm -rf /\n")])


@generator
def zip_drive(drop: Path) -> None:
    _zip(drop, [("C:\\Windows\\evil.csv", b"x\r\n")])


@generator
def zip_bomb(drop: Path) -> None:
    """users.csv: a valid header, then 20 MB of zeros (deflate: ~1000:1)."""
    header = (drop / "users.csv").read_bytes().split(b"\r\n", 1)[0] + b"\r\n"
    _zip(drop, [("users.csv", header + b"0" * (20 * 1024 * 1024))], skip=("users.csv",))


@generator
def zip_symlink(drop: Path) -> None:
    link = zipfile.ZipInfo("users.csv")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    _zip(drop, [(link, b"/etc/passwd")], skip=("users.csv",))


@generator
def zip_damaged(drop: Path) -> None:
    """users.csv stored uncompressed, one byte of it flipped: the CRC check fails on reading."""
    _zip(drop, stored=True)
    with zipfile.ZipFile(drop) as zf:
        info = zf.getinfo("users.csv")
    data = bytearray(drop.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0x20
    drop.write_bytes(bytes(data))


@generator
def zip_duplicate(drop: Path) -> None:
    _zip(drop, [("users.csv", (drop / "users.csv").read_bytes())])


@generator
def zip_truncated(drop: Path) -> None:
    _zip(drop)
    data = drop.read_bytes()
    drop.write_bytes(data[: len(data) // 2])


@generator
def symlink_outside(drop: Path) -> None:
    """users.csv links to a perfectly valid users.csv outside the drop: following it would 'work'."""
    outside = drop.parent / "outside"
    outside.mkdir()
    (drop / "users.csv").rename(outside / "users.csv")
    (drop / "users.csv").symlink_to(outside / "users.csv")


@generator
def symlink_system(drop: Path) -> None:
    (drop / "orgs.csv").unlink()
    (drop / "orgs.csv").symlink_to("/etc/passwd")
