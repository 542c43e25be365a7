"""Field rules (usernames and emails from names, unique and stable; preferred names; class titles with the
teacher; static values) and bell-schedule periods (codes per term, a map in the config, status, the
unmapped-code warning, export), through the CLI."""

from __future__ import annotations

import csv
import json
import sqlite3

from conftest import edit_csv, sessions_around_today

RULES = '''
[[schools.lincoln.rules]]
field = "users.given_name"
prefer = ["preferredGivenName", "metadata.nickname", "givenName"]

[[schools.lincoln.rules]]
field = "users.username"
template = "{givenName}.{familyName}"
roles = ["student"]

[[schools.lincoln.rules]]
field = "users.email"
template = "{username}@students.lincoln.example"
roles = ["student"]

[[schools.lincoln.rules]]
field = "classes.title"
template = "{course.title} P{periods} {teacher.familyName}"

[[schools.lincoln.rules]]
field = "classes.location"
value = "Main campus"
'''


def _user(db, sid):  # type: ignore[no-untyped-def]
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM current_users WHERE sourced_id=?", [sid]).fetchone())


def test_field_rules_shape_names_and_keep_the_original(cli, school_with_bundle, bundle, project, db_path,
                                                       monkeypatch):
    from rostersync import rules

    monkeypatch.setattr(rules, "CHUNK", 7)  # rules read and rewrite the staged rows a chunk at a time
    def names(rows):
        for row in rows:
            if row["sourcedId"] in ("le-stu-0001", "le-stu-0002"):  # two Zoë O'Briens
                row["givenName"], row["familyName"] = "Zoë", "O'Brien"
            if row["sourcedId"] == "le-stu-0003":
                row["metadata.nickname"] = "Eddie"
        return rows

    path = bundle / "users.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, rows = [*(reader.fieldnames or []), "metadata.nickname"], list(reader)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, restval="", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(names(rows))
    assert cli("sync", "lincoln").exit_code == 0  # as the SIS sends them
    with (project / "rostersync.toml").open("a", encoding="utf-8") as handle:
        handle.write(RULES)
    preview = cli("sync", "lincoln", "--dry-run", "--show")  # a changed rule re-reads the same bundle
    assert preview.exit_code == 0 and "username: 'le-stu-0001' -> 'zoe.obrien'" in preview.output
    assert cli("sync", "lincoln").exit_code == 3  # every class title changes: held, like any big update
    assert cli("approve", "3").exit_code == 0
    first, second = _user(db_path, "le-stu-0001"), _user(db_path, "le-stu-0002")
    assert (first["username"], second["username"]) == ("zoe.obrien", "zoe.obrien2")
    assert (first["email"], second["email"]) == ("zoe.obrien@students.lincoln.example",
                                                 "zoe.obrien2@students.lincoln.example")
    extra = json.loads(first["extra"])
    assert extra["rostersync.original.username"] == "le-stu-0001"
    assert extra["rostersync.original.email"] == "le-stu-0001@students.maple.example"
    eddie = _user(db_path, "le-stu-0003")
    assert eddie["given_name"] == "Eddie" and json.loads(eddie["extra"])["rostersync.original.given_name"] == "Ethan"
    teacher = _user(db_path, "le-tch-001")
    assert teacher["username"] == "nbrown0"  # the rule is for students only
    with sqlite3.connect(db_path) as conn:
        title, location = conn.execute("SELECT title, location FROM current_classes WHERE sourced_id = "
                                       "'cls-le-KG-math-fall'").fetchone()
    assert location == "Main campus" and title.startswith("Math KG P1 ") and title != "Math KG P1 "

    # the SIS sends the two in the other order: nobody's number changes
    edit_csv(bundle / "users.csv", lambda rows: [rows[1], rows[0], *rows[2:]] if rows[0]["sourcedId"] == "le-tch-001"
             else list(reversed(rows)))
    assert cli("sync", "lincoln", "--full").exit_code == 0
    assert (_user(db_path, "le-stu-0001")["username"], _user(db_path, "le-stu-0002")["username"]) == (
        "zoe.obrien", "zoe.obrien2")
    changes = json.loads(cli("changes", "4", "--json").output)
    assert [c for c in changes if c["entity"] == "users"] == []


def test_a_rule_naming_an_unknown_attribute_is_refused(cli, school_with_bundle, project):
    with (project / "rostersync.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[[schools.lincoln.rules]]\nfield = "users.username"\ntemplate = "{givenNme}.{familyName}"\n')
    result = cli("status")
    assert result.exit_code == 2 and "'givenNme' is not an attribute of users" in result.output


def test_periods_list_map_status_warning_and_export(cli, school_with_bundle, bundle, project, db_path, tmp_path):
    sessions_around_today(bundle)
    assert cli("sync", "lincoln").exit_code == 0
    listed = json.loads(cli("periods", "lincoln", "--json").output)
    assert {(r["period"], r["term"]) for r in listed} >= {("1", "term-fall"), ("3", "term-spring")}
    assert all(r["name"] is None and r["classes"] > 0 for r in listed)
    current = json.loads(cli("periods", "lincoln", "--term", "current", "--json").output)
    assert {r["term"] for r in current} == {"term-fall"}
    assert sum(r["classes"] for r in current) == sum(r["classes"] for r in listed if r["term"] == "term-fall")

    mapped = cli("periods", "map", "lincoln", "1=First Period", "2=Second Period")
    assert mapped.exit_code == 0 and "1=First Period, 2=Second Period" in mapped.output
    assert '1 = "First Period"' in (project / "rostersync.toml").read_text()
    status = json.loads(cli("status", "--json").output)[0]
    codes = sorted({r["period"] for r in listed}, key=int)
    assert status["periods"] == f"2 mapped, unmapped: {', '.join(c for c in codes if c not in ('1', '2'))}"

    edit_csv(bundle / "classes.csv", lambda rows: rows)  # touch: a new drop
    run = json.loads(cli("sync", "lincoln", "--full", "--json").output)[0]
    warnings = json.loads(cli("changes", str(run["run"]), "--warnings", "--json").output)
    [unmapped] = [w for w in warnings if w["code"] == "unmapped_period"]
    assert unmapped["reason"].startswith("period code(s) 3") and "rostersync periods map lincoln 3=NAME" in \
        unmapped["reason"]

    assert cli("export", "lincoln", "--out", str(tmp_path / "out")).exit_code == 0
    with (tmp_path / "out" / "classes.csv").open(encoding="utf-8") as handle:
        rows = {r["sourcedId"]: r for r in csv.DictReader(handle)}
    assert rows["cls-le-KG-math-fall"]["periods"] == "First Period"
    assert rows["cls-le-KG-math-fall"]["metadata.rostersync.sisPeriods"] == "1"
    assert rows["cls-le-KG-math-spring"]["periods"] == "3"  # unmapped codes stay as they are

    assert cli("periods", "map", "lincoln", "2=").exit_code == 0  # CODE= removes a name
    assert 'Second Period' not in (project / "rostersync.toml").read_text()
    assert cli("periods", "map", "lincoln", "oops").exit_code == 2
