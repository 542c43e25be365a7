"""Reference checks against the live roster (integrity rule 3, asked of the store through ``live_ids``):
a delta may refer to rows an earlier run sent, and a run's warnings come out structured."""

from __future__ import annotations

import json

from formats_fixtures import DATA, add_school, copy_fixture, sync


def test_a_delta_student_needs_a_live_org_that_is_a_school(cli, project, tmp_path):
    add_school(cli, "all", DATA / "oneroster-1.1" / "full")
    assert sync(cli, "all")["status"] == "ok"
    delta = copy_fixture("oneroster-1.1/delta", tmp_path / "delta")
    with (delta / "users.csv").open("a", encoding="utf-8", newline="") as handle:
        # dist-1 is live but a district; sch-b is live and a school (orgs are absent from this delta)
        handle.write("stu-8,active,2026-11-01T00:00:00.000Z,true,dist-1,student,dd,,Dee,District,,,,,,,05,\r\n")
        handle.write('stu-9,active,2026-11-01T00:00:00.000Z,true,"dist-1,sch-b",student,bb,,Bea,Birch,,,,,,,05,\r\n')
    assert cli("enable", "all", "csv-folder", "--set", f"path={delta}").exit_code == 0

    run = sync(cli, "all")
    assert run["status"] == "ok", run["error"]
    assert run["counts"]["users"]["inserted"] == 2  # stu-3 (org sch-a, live) and stu-9; not stu-8
    result = cli("changes", str(run["run"]), "--warnings", "--json")
    [warning] = [w for w in json.loads(result.output) if w["code"] == "no_school"]
    assert warning == {
        "level": "warning", "code": "no_school", "entity": "users", "sourced_id": "stu-8", "file": "users.csv",
        "line": 5, "column": "orgSourcedIds",
        "reason": "student 'stu-8' has no school: none of its orgs (dist-1) is a school in this bundle or the "
                  "roster; row skipped",
        "message": "users.csv:5:orgSourcedIds: student 'stu-8' has no school: none of its orgs (dist-1) is a "
                   "school in this bundle or the roster; row skipped"}
