"""Property: whatever bytes a roster file (or a zip of them) holds, reading and mapping it raises nothing
but rostersync's own errors (RostersyncError: a message naming where, never a library traceback).

Inputs are the committed bundles of every format (OneRoster 1.1 and 1.2, Clever) with one file replaced
by arbitrary bytes or mutated: bytes inserted, deleted or overwritten, biased towards the ones parsers
care about (quotes, commas, line ends, NUL, byte-order marks, invalid UTF-8). The same bundle is also
read as a zip, and as a zip whose own bytes were damaged. Each goes through what a sync runs (reader,
format plugin, row errors) and through ``validate`` (staging and the reference checks as well).

CI runs a modest number of examples; ``ROSTERSYNC_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py`` digs deeper.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rostersync.csvbundle import read_bundle
from rostersync.errors import RostersyncError
from rostersync.formats import map_raw
from rostersync.plugins import get_formats
from rostersync.validate import validate_bundle

TESTS = Path(__file__).parent
SEEDS = (TESTS / "corpus" / "_baseline", TESTS / "data" / "oneroster-1.2" / "bundle",
         TESTS / "data" / "clever" / "district")
TOKENS = (b'"', b",", b"\r\n", b"\n", b"\r", b"\x00", b"\xff", b"\xfe\xff", b"\xff\xfe", b"\xef\xbb\xbf",
          b"\xc3", b"\xe9", b'""', b",,,,", b"tobedeleted", b"{", b"}", b":", b"1e999", b"NaN", b"-1",
          b"2026-02-30", b"metadata.x", b"=HYPERLINK(", b"sourcedId", b"bulk", b"delta", b"absent")
EXAMPLES = int(os.environ.get("ROSTERSYNC_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

payloads = st.one_of(st.sampled_from(TOKENS), st.binary(min_size=1, max_size=12))
edits = st.lists(st.tuples(st.sampled_from(("insert", "delete", "overwrite")), st.floats(0, 1), payloads),
                 min_size=1, max_size=8)


def mutate(data: bytes, changes: list[tuple[str, float, bytes]]) -> bytes:
    out = bytearray(data)
    for op, where, payload in changes:
        at = int(where * len(out))
        if op == "insert":
            out[at:at] = payload
        elif op == "delete":
            del out[at:at + len(payload)]
        else:
            out[at:at + len(payload)] = payload
    return bytes(out)


@st.composite
def broken_bundles(draw: st.DrawFn) -> tuple[Path, str, bytes]:
    """(seed bundle, file name, new content of that file)."""
    seed = draw(st.sampled_from(SEEDS))
    name = draw(st.sampled_from(sorted(p.name for p in seed.iterdir())))
    original = (seed / name).read_bytes()
    content = draw(st.one_of(st.binary(max_size=2000), edits.map(lambda e: mutate(original, e))))
    return seed, name, content


def write(seed: Path, name: str, content: bytes, folder: Path) -> Path:
    folder.mkdir()
    for path in seed.iterdir():
        (folder / path.name).write_bytes(content if path.name == name else path.read_bytes())
    return folder


def read_and_map(path: Path) -> None:
    """What a sync does with a bundle before staging: only RostersyncError may escape."""
    formats = get_formats()
    try:
        for raw in read_bundle(path, demographics=True):
            map_raw(formats, raw).raise_errors()
    except RostersyncError:
        pass


def check(path: Path) -> None:
    read_and_map(path)
    validate_bundle(path)  # collects RostersyncErrors into its report; anything else propagates


@FUZZ
@given(broken_bundles())
def test_any_bytes_in_a_roster_file_give_only_rostersync_errors(case: tuple[Path, str, bytes]) -> None:
    seed, name, content = case
    with tempfile.TemporaryDirectory() as tmp:
        check(write(seed, name, content, Path(tmp) / "bundle"))


@FUZZ
@given(broken_bundles(), st.one_of(st.none(), edits))
def test_any_bytes_in_a_zip_member_or_the_zip_itself_give_only_rostersync_errors(
        case: tuple[Path, str, bytes], damage: list[tuple[str, float, bytes]] | None) -> None:
    seed, name, content = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = write(seed, name, content, Path(tmp) / "bundle")
        archive = Path(tmp) / "bundle.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.iterdir()):
                zf.write(path, path.name)
        if damage:
            archive.write_bytes(mutate(archive.read_bytes(), damage))
        check(archive)


@settings(max_examples=EXAMPLES // 2, deadline=None)
@given(st.binary(max_size=4000))
def test_any_bytes_as_the_zip_file_give_only_rostersync_errors(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "drop.zip"
        archive.write_bytes(b"PK\x03\x04" + data)
        check(archive)
