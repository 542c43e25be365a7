"""Helpers for the drop box tests: roster drops written into a local folder, as an uploader leaves them."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

from conftest import edit_csv
from rostersync.demo import sample_bundle


def folder_drop(folder: Path, edit_users=None) -> Path:  # type: ignore[no-untyped-def]
    """The sample district's CSV files directly in ``folder`` (optionally editing users.csv)."""
    shutil.copytree(sample_bundle(), folder, dirs_exist_ok=True)
    if edit_users:
        edit_csv(folder / "users.csv", edit_users)
    return folder


def oneroster_zip(target: Path, edit_users=None, mtime: float | None = None) -> Path:  # type: ignore[no-untyped-def]
    """The sample district as one OneRoster zip at ``target`` (built beside it, then moved in place)."""
    source = folder_drop(target.parent.parent / f".{target.name}.src", edit_users)
    partial = target.parent.parent / f".{target.name}.part"
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(source.iterdir()):
            zf.write(path, path.name)
    shutil.rmtree(source)
    if mtime is not None:
        os.utime(partial, (mtime, mtime))
    os.replace(partial, target)
    return target
