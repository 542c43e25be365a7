"""Unpack a zip drop into a private folder, refusing entries that could escape it or flood the disk.

Isolated on purpose: once ``csvbundle.read_bundle`` reads zip files itself, the SFTP transport can
hand it the zip and this module goes away.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from rostersync.errors import SourceError
from rostersync.zipsafety import check_member, check_total

COPY_CHUNK = 1024 * 1024
IGNORED_PREFIXES = ("__MACOSX/",)  # resource forks macOS's Finder adds to zips


def _safe_parts(name: str, archive: str) -> tuple[str, ...]:
    path = PurePosixPath(name.replace("\\", "/"))
    parts = path.parts
    if path.is_absolute() or not parts or ".." in parts or ":" in parts[0]:
        raise SourceError(f"refusing zip entry {name!r}: its path points outside the drop folder", archive)
    return parts


def extract_zip(archive: Path, dest: Path, max_bytes: int) -> Path:
    """Extract ``archive`` into ``dest`` and return the folder holding the files.

    Refuses absolute paths, ``..`` parts, drive letters, symlinks and members that inflate like a zip
    bomb (:func:`rostersync.zipsafety.check_member`), and stops once more than ``max_bytes`` would be
    written (declared sizes can lie, so the written bytes are counted).
    A zip that wraps everything in one folder returns that folder.
    """
    name = archive.name
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = 0
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = [i for i in zf.infolist() if not i.filename.startswith(IGNORED_PREFIXES)]
            check_total(infos, name, max_bytes, "max_unzipped_mb")
            for info in infos:
                parts = _safe_parts(info.filename, name)
                check_member(info, name)
                target = dest.joinpath(*parts)
                if info.is_dir():
                    target.mkdir(mode=0o700, parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with zf.open(info) as src, os.fdopen(fd, "wb") as out:
                    while block := src.read(COPY_CHUNK):
                        written += len(block)
                        if written > max_bytes:
                            raise SourceError(f"the zip unpacks to more than {max_bytes:,} bytes (max_unzipped_mb)",
                                              name)
                        out.write(block)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as exc:  # damaged
        raise SourceError(f"not a valid zip file ({exc})", name) from None
    except FileExistsError as exc:
        raise SourceError(f"the zip holds {Path(exc.filename or '').name!r} twice", name) from None
    except RuntimeError as exc:  # e.g. an encrypted entry
        raise SourceError(f"cannot unpack the zip: {exc}", name) from None
    children = list(dest.iterdir())
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return dest
