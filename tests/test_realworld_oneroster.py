"""OneRoster bundles of the shapes real districts send (issue 15), each synced through the CLI and
checked with ``rostersync validate``: manifest versions, department orgs, absent entities."""

from __future__ import annotations

import json

from conftest import roster_snapshot
from formats_fixtures import add_school, sync, warnings
from shapes import TERM, enrollment, klass, oneroster_bundle, org, user


def _validate(cli, path, *args):  # type: ignore[no-untyped-def]
    result = cli("validate", str(path), "--json", *args)
    return result.exit_code, json.loads(result.output)


def small_district(folder, version="1.1"):  # type: ignore[no-untyped-def]
    return oneroster_bundle(folder, {
        "orgs.csv": [org("d1", "District", "district"), org("s1", "Oak", "school", "d1")],
        "academicSessions.csv": [TERM],
        "courses.csv": [("c1", "", "", "", "Math", "M1", "", "s1")],
        "classes.csv": [klass("k1", "c1", "s1")],
        "users.csv": [user("u1", "student", "s1"), user("t1", "teacher", "s1")],
        "enrollments.csv": [enrollment("e1", "k1", "s1", "u1"), enrollment("e2", "k1", "s1", "t1", "teacher")],
    }, version=version)


# -- item 4: unknown OneRoster versions ---------------------------------------------------------------
def test_unknown_oneroster_version_is_refused_before_anything_is_read(cli, project, tmp_path, db_path):
    bundle = small_district(tmp_path / "b")
    add_school(cli, "oak", bundle)
    assert sync(cli, "oak")["status"] == "ok"
    before = roster_snapshot(db_path)
    small_district(bundle, version="7.3")
    (bundle / "users.csv").write_text("sourcedId,role\nu1\n", encoding="utf-8")  # never read

    run = sync(cli, "oak")
    assert run["status"] == "failed"
    assert run["error"] == ("manifest.csv:3:value: oneroster.version is '7.3'; rostersync reads OneRoster 1.0, 1.1 "
                            "and 1.2 bundles (check the SIS's export settings)")
    assert roster_snapshot(db_path) == before

    code, report = _validate(cli, bundle)
    assert code == 1 and report["error_count"] == 1
    assert report["errors"][0]["file"] == "manifest.csv" and report["errors"][0]["column"] == "value"
    assert "oneroster.version is '7.3'" in report["errors"][0]["examples"][0]["message"]


def test_oneroster_10_is_read_as_11_with_a_warning(cli, project, tmp_path, db_path):
    bundle = small_district(tmp_path / "b", version="1.0")
    add_school(cli, "oak", bundle)
    run = sync(cli, "oak")
    assert run["status"] == "ok", run["error"]
    assert run["counts"]["users"]["inserted"] == 2
    expected = ("manifest.csv:3:value: oneroster.version is 1.0: read as OneRoster 1.1, whose files and columns "
                "1.0 mostly shares; check the result, or export OneRoster 1.1")
    assert warnings(cli, run["run"]) == [expected]

    code, report = _validate(cli, bundle)
    assert code == 0 and report["format"] == "oneroster-1.1"
    assert [g["examples"][0]["line"] for g in report["warnings"]] == [3]
    # an errata release is its version
    small_district(bundle, version="1.1.1")
    assert _validate(cli, bundle)[1]["warning_count"] == 0
