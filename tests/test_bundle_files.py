"""The bundle reader's edges: encodings (also across read chunks), line numbers with CRLF and quoted
newlines, zip layouts, and the parsers and grade vocabulary formats share."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from rostersync import bundlefiles
from rostersync.bundlefiles import FolderBundle, open_bundle, read_csv, sniff_encoding
from rostersync.errors import SourceError
from rostersync.formats import fields as f
from rostersync.grades import normalise_grade


def _folder(tmp_path: Path, name: str, data: bytes) -> FolderBundle:
    (tmp_path / name).write_bytes(data)
    return FolderBundle(tmp_path)


@pytest.mark.parametrize(("data", "encoding", "warned"), [
    (b"id,name\r\n1,Jos\xc3\xa9\r\n", "utf-8-sig", False),
    (b"\xef\xbb\xbfid,name\n1,Jos\xc3\xa9\n", "utf-8-sig", False),
    (b"id,name\n1,Jos\xe9\n", "cp1252", True),
    (b"id,name\n1,\x81bad-in-cp1252\n", "latin-1", True),
])
def test_encoding_is_sniffed(tmp_path, data, encoding, warned):
    bundle = _folder(tmp_path, "x.csv", data)
    found, warning = sniff_encoding(bundle, "x.csv")
    assert found == encoding and bool(warning) == warned
    if warned:
        assert str(warning).startswith("x.csv:2: not UTF-8")
        assert (warning.code, warning.file, warning.line) == ("not_utf8", "x.csv", 2)


def test_a_utf8_character_split_across_read_chunks_is_still_utf8(tmp_path, monkeypatch):
    monkeypatch.setattr(bundlefiles, "CHUNK", 7)
    data = "id,name\n1,aaJé\n2,Zoë\n".encode()
    assert data[13:15] == "é".encode()  # 'é' straddles the boundary between the 2nd and 3rd 7-byte chunks
    bundle = _folder(tmp_path, "x.csv", data)
    assert sniff_encoding(bundle, "x.csv") == ("utf-8-sig", None)
    batch = next(read_csv(bundle, "x.csv", format="t", entity="users"))
    assert [r for _line, r in batch.rows] == [["1", "aaJé"], ["2", "Zoë"]]


def test_a_cp1252_file_is_read_with_its_names_intact(tmp_path):
    bundle = _folder(tmp_path, "x.csv", "id,name\r\n1,José Muñoz\r\n2,“Quoted”\r\n".encode("cp1252"))
    batch = next(read_csv(bundle, "x.csv", format="t", entity="users"))
    assert batch.rows == [(2, ["1", "José Muñoz"]), (3, ["2", "“Quoted”"])]
    assert batch.warnings and "Windows-1252" in str(batch.warnings[0])


def test_line_numbers_count_physical_lines_and_bad_rows_are_reported_not_fatal(tmp_path):
    data = b'id,note\r\n1,"two\r\nlines"\r\n2,a,b\r\n\r\n3,ok\r\n'
    batch = next(read_csv(_folder(tmp_path, "x.csv", data), "x.csv", format="t", entity="users"))
    assert [line for line, _ in batch.rows] == [3, 6]
    assert [(e.file, e.line) for e in batch.errors] == [("x.csv", 4)]


def test_header_only_and_batching(tmp_path):
    only = list(read_csv(_folder(tmp_path, "h.csv", b"id,name\n"), "h.csv", format="t", entity="users"))
    assert len(only) == 1 and only[0].rows == [] and "has a header but no rows" in str(only[0].warnings[0])
    rows = b"id\n" + b"".join(b"%d\n" % i for i in range(12))
    batches = list(read_csv(_folder(tmp_path, "b.csv", rows), "b.csv", format="t", entity="users", batch_rows=5))
    assert [len(b.rows) for b in batches] == [5, 5, 2]


def test_zip_layouts(tmp_path):
    flat = tmp_path / "flat.zip"
    with zipfile.ZipFile(flat, "w") as zf:
        zf.writestr("Users.csv", "id\n1\n")
        zf.writestr("__MACOSX/._Users.csv", "junk")
    with open_bundle(flat) as bundle:
        assert bundle.find("users.csv") == "Users.csv"
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(nested, "w") as zf:
        zf.writestr("export/users.csv", "id\n1\n")
        zf.writestr("export/", "")
    with open_bundle(nested) as bundle:
        assert bundle.names() == ["users.csv"]
        assert bundle.open("users.csv").read() == b"id\n1\n"
    deep = tmp_path / "two-folders.zip"
    with zipfile.ZipFile(deep, "w") as zf:
        zf.writestr("a/users.csv", "id\n")
        zf.writestr("b/users.csv", "id\n")
    with open_bundle(deep) as bundle:
        assert bundle.names() == []
    not_zip = tmp_path / "roster.csv"
    not_zip.write_text("id\n")
    with pytest.raises(SourceError, match="not a zip archive"):
        open_bundle(not_zip)


@pytest.mark.parametrize("name", ["../users.csv", "export/../../users.csv", "/etc/users.csv", "C:/users.csv",
                                  "..\\users.csv"])
def test_zip_entries_pointing_outside_are_refused(tmp_path, name):
    """(Formerly the SFTP transport's own unpacking tests: zip drops are now read by this one reader.)"""
    archive = tmp_path / "drop.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("orgs.csv", "sourcedId\n")
        zf.writestr(name, "x\n")
    with pytest.raises(SourceError, match=r"sftp://host/drop\.zip: zip entry .* has an absolute or '\.\.' path"):
        open_bundle(archive, label="sftp://host/drop.zip")


def test_a_zip_over_a_connectors_limit_is_refused_naming_the_setting(tmp_path):
    archive = tmp_path / "drop.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("users.csv", "a" * 5000)
    with pytest.raises(SourceError, match=r"unpacks to 5,000 bytes, over the limit of 4,000 \(max_unzipped_mb\)"):
        open_bundle(archive, max_unzipped=(4000, "max_unzipped_mb"))
    with open_bundle(archive) as bundle:  # the default limit is far higher
        assert bundle.names() == ["users.csv"]


@pytest.mark.parametrize(("raw", "code"), [
    ("Kindergarten", "KG"), ("K", "KG"), ("KG", "KG"), ("0", "KG"), ("00", "KG"), ("PreKindergarten", "PK"),
    ("PK", "PK"), ("-1", "PK"), ("TransitionalKindergarten", "TK"), ("InfantToddler", "IT"), ("Preschool", "PR"),
    ("1", "01"), ("01", "01"), ("12", "12"), ("13", "13"), ("PostGraduate", "PS"), ("Ungraded", "UG"),
    ("Other", "Other"), ("09", "09"),
])
def test_clever_grade_names_and_aliases(raw, code):
    assert normalise_grade(raw) == code


@pytest.mark.parametrize("raw", ["\u00b2", "\u0661", "\u0969", "14", "1.5"])
def test_digits_that_are_not_grade_numbers_are_not_grades(raw):
    """Regression: '²' passed str.isdigit() and then crashed int() (found by the fast-path property test)."""
    assert normalise_grade(raw) is None


def test_date_parsers():
    assert f.date("2026-09-01") == "2026-09-01"
    for bad in ("20260901", "2026-W01-1", "09/01/2026", "2026-02-30"):
        with pytest.raises(ValueError, match="is not a date"):
            f.date(bad)
    assert f.us_date("09/01/2026") == f.us_date("9/1/2026") == f.us_date("2026-09-01") == "2026-09-01"
    with pytest.raises(ValueError, match="MM/DD/YYYY"):
        f.us_date("13/01/2026")
    assert f.boolean("TRUE") is True and f.yes_no("y") is True and f.yes_no("No") is False
    assert f.one_of_ext("scheduled")("ext:lab") == "ext:lab"
    assert f.decimal(" 10.50 ") == "10.50"
