"""Unpacking zip drops: entries that would escape the work folder or flood the disk are refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from rostersync.errors import SourceError
from rostersync.transports.zipdrop import extract_zip


def make_zip(path: Path, entries: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in entries.items():
            zf.writestr(name, text)
    return path


@pytest.mark.parametrize("name", ["../users.csv", "export/../../users.csv", "/etc/users.csv", "C:/users.csv",
                                  "..\\users.csv"])
def test_entries_pointing_outside_are_refused(tmp_path, name):
    archive = make_zip(tmp_path / "drop.zip", {"orgs.csv": "sourcedId\n", name: "x\n"})
    with pytest.raises(SourceError, match="points outside the drop folder"):
        extract_zip(archive, tmp_path / "out", max_bytes=10**6)
    assert not (tmp_path / "users.csv").exists()


def test_a_zip_larger_than_the_limit_is_refused(tmp_path):
    archive = make_zip(tmp_path / "drop.zip", {"users.csv": "a" * 5000})
    with pytest.raises(SourceError, match="over the limit of 4,000"):
        extract_zip(archive, tmp_path / "out", max_bytes=4000)


def test_a_wrapping_folder_is_unwrapped_and_mac_metadata_ignored(tmp_path):
    archive = make_zip(tmp_path / "drop.zip", {"export/users.csv": "sourcedId\n", "export/orgs.csv": "sourcedId\n",
                                               "__MACOSX/export/._users.csv": "junk"})
    folder = extract_zip(archive, tmp_path / "out", max_bytes=10**6)
    assert folder == tmp_path / "out" / "export"
    assert sorted(p.name for p in folder.iterdir()) == ["orgs.csv", "users.csv"]
    assert (folder / "users.csv").stat().st_mode & 0o077 == 0  # private, like the rest of the work folder


def test_not_a_zip(tmp_path):
    archive = tmp_path / "drop.zip"
    archive.write_text("users.csv,but not zipped\n")
    with pytest.raises(SourceError, match=r"drop\.zip: not a valid zip file"):
        extract_zip(archive, tmp_path / "out", max_bytes=10**6)
