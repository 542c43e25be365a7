"""SFTP connectors in the conformance kit: the drop laid out on a real sshd as each SIS lays it out (a zip
with a marker next to it, a folder with a marker in it, Clever CSV files in the SIS's own folder), synced,
compared with the reference, and pulled again over a link that drops mid-download."""

from __future__ import annotations

from pathlib import Path

import pytest
from rostersync.connector import Source
from rostersync.profiles import SftpProfile, sftp_connector
from rostersync.testing.kit.bundles import KitBundle, clever_district, kit_district, lay_out_drop
from rostersync.testing.kit.checks import CHECKS
from rostersync.testing.kit.runner import run_check
from rostersync.testing.kit.trial import Lab, Trial

pytest_plugins = ("profile_fixtures",)

SOURCES = (Source("https://example.org/export", "[doc]", "the export's layout"),)


def _profile(name: str, **facts: object) -> SftpProfile:
    return SftpProfile(name=name, title=name, summary=f"Test drop {name}.", basis="vendor docs",
                       homepage="https://example.org", sources=SOURCES, **facts)  # type: ignore[arg-type]


DROPS = {
    "t-zip-done": _profile("t-zip-done", format="oneroster-1.1", file_pattern="Roster_*.zip",
                           marker_file="{drop}.done"),
    "t-folder-marker": _profile("t-folder-marker", marker_file="done.txt", remote_path="/exports/oneroster"),
    "t-clever": _profile("t-clever", format="clever", remote_path="/DailyImport"),
}


@pytest.fixture
def lab(tmp_path):  # type: ignore[no-untyped-def]
    with Lab(tmp_path / "lab") as lab:
        yield lab


@pytest.mark.parametrize("name", DROPS)
def test_an_sftp_connector_syncs_its_drop_from_a_real_sshd(register, lab, name):
    [connector] = register(sftp_connector(DROPS[name]))
    trial = Trial(connector, lab)
    outcomes = {c.name: run_check(trial, c.name) for c in CHECKS}
    for check in ("metadata", "settings-help", "secrets", "sync", "same-roster", "re-sync",
                  "fault-dropped-connection"):
        assert outcomes[check].status == "ok", (check, outcomes[check].detail)
    assert outcomes["fault-throttled"].status == "skipped"
    rig = trial.rig
    laid = sorted(p.relative_to(lab.sshd().served).as_posix() for p in rig.files)
    assert laid == sorted({
        "t-zip-done": ["t-zip-done/drop/Roster_20260901.zip", "t-zip-done/drop/Roster_20260901.zip.done"],
        "t-folder-marker": [*(f"t-folder-marker/oneroster/{f}" for f in (
            "academicSessions.csv", "classes.csv", "courses.csv", "enrollments.csv", "manifest.csv", "orgs.csv",
            "users.csv")), "t-folder-marker/oneroster/done.txt"],
        "t-clever": [f"t-clever/DailyImport/{f}" for f in (
            "enrollments.csv", "schools.csv", "sections.csv", "staff.csv", "students.csv", "teachers.csv")],
    }[name])


def test_the_kit_district_is_a_consistent_cut_of_the_sample(tmp_path):
    bundle = kit_district(tmp_path / "district")
    users = (bundle.path / "users.csv").read_text(encoding="utf-8")
    assert users.count(",student,") == 40 and "rm-" not in users  # Lincoln's first 40 students only
    kept = {line.split(",")[0] for line in users.splitlines()[1:]}
    enrollments = (bundle.path / "enrollments.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert enrollments and all(line.split(",")[5] in kept for line in enrollments)


def test_a_drop_pattern_the_bundle_cannot_meet_is_said(tmp_path):
    with pytest.raises(ValueError, match=r"none of the reference bundle's files matches file_pattern '\*\.txt'"):
        lay_out_drop(clever_district(), tmp_path / "a", "*.txt", "")
    with pytest.raises(ValueError, match="cannot make a file name matching"):
        lay_out_drop(KitBundle(tmp_path, "clever", ()), tmp_path / "b", "roster[0-9].zip", "")


@pytest.mark.parametrize("name", ["tyler-sis", "realtime", "asb-works"])
def test_a_column_map_connector_passes_the_kit_given_a_sample_of_its_export(lab, name):
    """The kit has no bundle in a vendor's own layout: by itself it skips the sync checks, saying how to give
    one; given the test suite's sample export, the connector passes them like any other."""
    import attrs
    from rostersync.plugins import get_connector

    connector = get_connector(name)
    fmt = attrs.fields_dict(connector.settings)["format"].default
    skipped = run_check(Trial(connector, lab), "sync")
    assert skipped.status == "skipped" and f"no reference bundle in the {fmt} format" in skipped.detail
    sample = KitBundle(Path(__file__).parent / "data" / name / "district", fmt, ())
    trial = Trial(connector, lab, sample)
    trial.folder = trial.folder.with_name(f"{name}-sample")
    for check in ("sync", "same-roster", "re-sync", "fault-dropped-connection"):
        outcome = run_check(trial, check)
        assert outcome.status == "ok", (check, outcome.detail)
