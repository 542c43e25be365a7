"""Identity continuity through the CLI: a district re-keys ten students (new sourcedIds, same state ids):
ten re-keys, no new people, no deletes; each keeps its person id; a planted duplicate is listed."""

from __future__ import annotations

import json
import sqlite3

from conftest import edit_csv

STUDENTS = [f"le-stu-{n:04d}" for n in range(1, 11)]


def _state_ids(bundle, rekey: bool = False):  # type: ignore[no-untyped-def]
    """Give Lincoln's students a StateID; with ``rekey`` the ten get new sourcedIds everywhere they appear."""
    new = {sid: f"NEW-{sid}" for sid in STUDENTS} if rekey else {}

    def users(rows):
        for row in rows:
            if row["role"] == "student":
                row["userIds"] = f"{{SIS:{row['identifier']}}},{{StateID:ST{row['identifier']}}}"
                row["identifier"] = "" if row["sourcedId"] in new else row["identifier"]  # state id decides
            row["sourcedId"] = new.get(row["sourcedId"], row["sourcedId"])
            row["agentSourcedIds"] = ",".join(new.get(a, a) for a in row["agentSourcedIds"].split(",") if a)
        return rows

    edit_csv(bundle / "users.csv", users)
    if rekey:
        edit_csv(bundle / "enrollments.csv",
                 lambda rows: [{**r, "userSourcedId": new.get(r["userSourcedId"], r["userSourcedId"])} for r in rows])


def _people(db):  # type: ignore[no-untyped-def]
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT sourced_id, person_id FROM current_people WHERE school='lincoln'").fetchall())


def test_ten_rekeyed_students_keep_their_person_ids(cli, school_with_bundle, bundle, db_path):
    _state_ids(bundle)
    assert cli("sync", "lincoln").exit_code == 0
    before = _people(db_path)
    assert len(set(before.values())) == len(before) == 384  # one person id each

    _state_ids(bundle, rekey=True)
    result = cli("sync", "lincoln", "--json")
    assert result.exit_code == 0, result.output
    run = json.loads(result.output)[0]
    users = run["counts"]["users"]
    assert (users["rekeyed"], users["inserted"], users["deleted"]) == (10, 0, 0)
    assert run["counts"]["enrollments"]["deleted"] == 0  # their enrollments follow as updates

    changes = json.loads(cli("changes", str(run["run"]), "--entity", "users", "--json").output)
    rekeys = [c for c in changes if c["action"] == "rekey"]
    assert sorted(c["fields"]["sourced_id"][0] for c in rekeys) == STUDENTS
    assert all(c["fields"]["sourced_id"][1] == f"NEW-{c['fields']['sourced_id'][0]}" for c in rekeys)
    assert {c["action"] for c in changes} <= {"rekey", "update"}  # guardians' agent lists change too

    after = _people(db_path)
    assert len(after) == 384 and sorted(after.values()) == sorted(before.values())  # 0 new people, 0 gone
    assert all(after[f"NEW-{sid}"] == before[sid] for sid in STUDENTS)
    with sqlite3.connect(db_path) as conn:
        closed = conn.execute("SELECT sourced_id, rekeyed_to, deleted_run FROM users WHERE rekeyed_to IS NOT NULL "
                              "ORDER BY sourced_id").fetchall()
    assert closed == [(sid, f"NEW-{sid}", run["run"]) for sid in STUDENTS]
    report = json.loads(cli("report", str(run["run"]), "--format", "json").output)
    assert report["people"] == {"new": 0, "rekeyed": 10, "left": 0}

    exported = cli("export", "lincoln", "--out", str(db_path.parent / "out"), "--json")
    assert exported.exit_code == 0
    rows = {line.split(",")[0]: line for line in
            (db_path.parent / "out" / "users.csv").read_text(encoding="utf-8").splitlines()}
    assert rows["NEW-le-stu-0001"].endswith("," + before["le-stu-0001"])  # the export carries the person id


def test_without_identity_matching_a_rekey_is_a_delete_and_an_insert(cli, school_with_bundle, bundle, project):
    with (project / "rostersync.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n[schools.lincoln.identity]\nmatch = []\n")
    _state_ids(bundle)
    assert cli("sync", "lincoln").exit_code == 0
    _state_ids(bundle, rekey=True)
    users = json.loads(cli("sync", "lincoln", "--json").output)[0]["counts"]["users"]
    assert (users["rekeyed"], users["inserted"], users["deleted"]) == (0, 10, 10)


def test_precedence_two_people_with_one_email_but_different_state_ids_are_not_merged(cli, school_with_bundle,
                                                                                   bundle, project):
    with (project / "rostersync.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[schools.lincoln.identity]\nmatch = ["state_id", "email"]\n')
    _state_ids(bundle)
    assert cli("sync", "lincoln").exit_code == 0

    def swap(rows):  # le-stu-0001 leaves; a new student arrives with its email but another state id
        for row in rows:
            if row["sourcedId"] == "le-stu-0001":
                row["sourcedId"], row["userIds"] = "le-stu-new", "{StateID:ST999999}"
        return rows

    edit_csv(bundle / "users.csv", swap)
    edit_csv(bundle / "enrollments.csv", lambda rows: [r for r in rows if r["userSourcedId"] != "le-stu-0001"])
    users = json.loads(cli("sync", "lincoln", "--json").output)[0]["counts"]["users"]
    assert (users["rekeyed"], users["inserted"], users["deleted"]) == (0, 1, 1)


def test_people_duplicates_lists_a_planted_duplicate(cli, school_with_bundle, bundle):
    _state_ids(bundle)

    def plant(rows):  # a second record of le-stu-0005 under another sourcedId, same state id
        twin = next(r for r in rows if r["sourcedId"] == "le-stu-0005")
        return [*rows, {**twin, "sourcedId": "le-stu-0005-dup", "username": "dup", "agentSourcedIds": ""}]

    edit_csv(bundle / "users.csv", plant)
    assert cli("sync", "lincoln").exit_code == 0
    found = json.loads(cli("people", "duplicates", "lincoln", "--json").output)
    state = [g for g in found if g["reason"] == "same state_id"]
    assert [(g["value"], [p["sourced_id"] for p in g["people"]]) for g in state] == [
        ("ST100005", ["le-stu-0005", "le-stu-0005-dup"])]
    people = state[0]["people"]
    assert people[0]["person_id"] != people[1]["person_id"]  # suspected, never merged
    assert any(g["reason"] == "same student_number" for g in found)
    table = cli("people", "duplicates")
    assert table.exit_code == 0 and "le-stu-0005-dup" in table.output
