"""Held runs of file sources (issue 15): the hold names the file that came back short, and a source
stays visibly held, exit code 3 on every sync, until a person approves or discards the run."""

from __future__ import annotations

import json

from conftest import roster_snapshot
from formats_fixtures import add_school
from shapes import TERM, clever_drop, enrollment, klass, oneroster_bundle, org, user, write_csv

USERS = 1031


def district(folder):  # type: ignore[no-untyped-def]
    return oneroster_bundle(folder, {
        "orgs.csv": [org("s1", "Oak", "school")],
        "academicSessions.csv": [TERM],
        "courses.csv": [("c1", "", "", "", "Math", "M1", "", "s1")],
        "classes.csv": [klass("k1", "c1", "s1")],
        "users.csv": [user(f"u{n}", "student", "s1") for n in range(USERS)],
        "enrollments.csv": [enrollment(f"e{n}", "k1", "s1", f"u{n}") for n in range(USERS)],
    })


def _runs(result):  # type: ignore[no-untyped-def]
    return json.loads(result.output)


def _empty_users(bundle):  # type: ignore[no-untyped-def]
    """users.csv and enrollments.csv cut to their headers, as a failed export leaves them."""
    for name in ("users.csv", "enrollments.csv"):
        header = (bundle / name).read_text(encoding="utf-8").splitlines()[0]
        (bundle / name).write_text(header + "\r\n", encoding="utf-8")


def test_a_held_file_source_names_the_file(cli, project, tmp_path, db_path):
    bundle = district(tmp_path / "b")
    add_school(cli, "oak", bundle)
    assert cli("sync", "oak").exit_code == 0
    before = roster_snapshot(db_path)
    _empty_users(bundle)

    # validate says what the file says, before any roster is at stake
    report = _runs(cli("validate", str(bundle), "--json"))
    assert {(w["file"], w["examples"][0]["message"]) for w in report["warnings"]} >= {
        ("users.csv", "has a header but no rows: as a bulk file it says there are no users (declare it absent "
                      "to leave them alone)")}

    held = cli("sync", "oak", "--json")
    assert held.exit_code == 3
    run = _runs(held)[0]
    assert run["status"] == "held"
    assert "users.csv has a header and no rows, but the roster holds 1,031 users" in run["error"]
    assert "enrollments.csv has a header and no rows, but the roster holds 1,031 enrollments" in run["error"]
    assert roster_snapshot(db_path) == before
    holds = _runs(cli("holds", "--json"))
    assert "users.csv has a header and no rows" in holds[0]["error"]


def test_a_clever_hold_names_every_file_that_came_back_empty(cli, project, tmp_path, db_path):
    drop = clever_drop(tmp_path / "drop", {
        "schools.csv": [("S1", "Oak", "1")],
        "teachers.csv": [("S1", "T1", "t1@example.org", "Ann", "Lee")],
        "sections.csv": [("S1", "SEC1", "T1", "Math", "M1", "Math", "Year", "8/17/26", "6/11/27")],
        "students.csv": [("S1", f"{n}", "Kid", f"No{n}", "5", "", "", "", "") for n in range(20)],
        "enrollments.csv": [("S1", "SEC1", f"{n}") for n in range(20)],
    })
    add_school(cli, "oak", drop)
    assert cli("sync", "oak").exit_code == 0
    for name in ("teachers.csv", "students.csv"):
        write_csv(drop / name, (drop / name).read_text(encoding="utf-8").splitlines()[0].split(","), [])
    run = _runs(cli("sync", "oak", "--json"))[0]
    assert run["status"] == "held"
    assert "teachers.csv and students.csv have headers and no rows, but the roster holds 21 users" in run["error"]


def test_hold_reasons_name_urls_and_only_the_first_few_sources():
    from rostersync.safeguards import Safeguards

    url = "https://sis.example/ims/oneroster/v1p1/users?limit=5000&offset=0"
    empty = {"users": {"current": 10, "bulk": 1, "staged": 0}}
    assert Safeguards().reasons(empty, {"users": [url]}) == [
        f"users: {url} returned no rows, but the roster holds 10 users"]
    assert Safeguards().reasons(empty) == ["users: the source sent no rows, but the roster holds 10 users"]
    pages = [f"{url[:-1]}{n * 5000}" for n in range(4)]
    shrunk = {"users": {"current": 1000, "bulk": 1, "staged": 500, "deleted": 500}}
    (reason,) = Safeguards().reasons(shrunk, {"users": pages})
    assert reason == f"users ({', '.join(pages[:3])}, ...): would delete 500 of 1,000 rows (50.0% > 10%)"
def test_a_source_stays_visibly_held(cli, run_cli, project, tmp_path, db_path):
    bundle = district(tmp_path / "b")
    add_school(cli, "oak", bundle)
    assert cli("sync", "oak").exit_code == 0
    before = roster_snapshot(db_path)
    _empty_users(bundle)
    run = _runs(cli("sync", "oak", "--json"))[0]
    assert run["status"] == "held"

    # every later sync is skipped, exits 3 (as cron mail needs) and says which run waits and what to do
    again = run_cli("sync", "oak")
    assert again.returncode == 3, again.stderr
    text = " ".join((again.stdout + again.stderr).split())
    assert f"run {run['run']} is still held" in text and "users.csv has a header and no rows" in text
    for command in (f"rostersync changes {run['run']}", f"rostersync approve {run['run']}",
                    f"rostersync discard {run['run']}"):
        assert command in text
    blocked = _runs(cli("sync", "oak", "--json"))[0]
    assert (blocked["status"], blocked["held_run"]) == ("skipped", run["run"])
    assert cli("sync", "--all").exit_code == 3
    assert roster_snapshot(db_path) == before
    history = _runs(cli("history", "--json"))
    assert [h["status"] for h in history[:3]] == ["skipped", "skipped", "skipped"]

    # settled, the source syncs normally again
    assert cli("discard", str(run["run"])).exit_code == 0
    district(bundle)
    assert cli("sync", "oak").exit_code == 0
