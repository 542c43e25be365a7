"""The clever connector against the loopback Clever Data API, through the CLI into real SQLite files.

The reference is the same district synced from its Clever CSV bundle with csv-folder: Clever's CSV ids
are the API's sis_ids, so both must give the same rows (the API adds the district, which the CSV
lacks, as the schools' parent org).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess

import pytest
from api_helpers import roster_by_source
from clever_helpers import DISTRICT, sync
from conftest import edit_csv, roster_snapshot, rostersync_exe
from formats_fixtures import copy_fixture
from rostersync.testing.clever_district import write_clever_district
from rostersync.testing.clever_server import Behaviour

pytest_plugins = ("clever_fixtures",)


def _district_org(db_path) -> list[tuple]:  # type: ignore[no-untyped-def]
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT sourced_id, name, type FROM orgs WHERE type='district'").fetchall()


def _without_district(rows: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """The API's roster as the CSV gives it: no district org, schools without a parent."""
    out = dict(rows)
    out["orgs"] = [(*r[:-1], None) for r in rows["orgs"] if not r[1].startswith("district:")]
    return out


@pytest.mark.parametrize("version", ["3.0", "3.1"])
def test_a_clever_api_sync_equals_the_clever_csv_sync_row_for_row(cli, district, clever, enable_clever, db_path,
                                                                   version):
    server = clever()
    assert cli("enable", "district", "csv-folder", "--set", f"path={DISTRICT}", "--set", "demographics=true",
               ).exit_code == 0
    enable_clever(server, api_version=version, demographics="true", page_size="4")
    runs = json.loads(cli("sync", "district", "--json").output)
    assert [(r["source"], r["status"]) for r in runs] == [("csv-folder", "ok"), ("clever", "ok")], runs
    by_source = roster_by_source(db_path)
    assert _without_district(by_source["clever"]) == by_source["csv-folder"]
    assert _district_org(db_path) == [(f"district:{server.district.district['id']}", "Clever Sample District",
                                       "district")]
    schools = {r[1]: r[-1] for r in by_source["clever"]["orgs"] if not r[1].startswith("district:")}
    assert schools == {"S1": f"district:{server.district.district['id']}",
                       "S2": f"district:{server.district.district['id']}"}
    # the same people, linked the same way: guardians both ways, co-teachers with the primary first
    users = {r[1]: r for r in by_source["clever"]["users"]}
    assert set(users) == {"student:100", "student:101", "student:200", "student:201", "teacher:T1", "teacher:T2",
                          "teacher:T3", "staff:A1", "staff:A2", "contact:C1", "contact:C2",
                          *[u for u in users if u.startswith("contact:200:")]}
    assert runs[1]["counts"]["demographics"]["inserted"] == 4
    # every list was paged by following next links with starting_after (4 objects a page)
    users_pages = server.requests_to("/users")
    assert len(users_pages) >= 4 and all(e.query["limit"] == ["4"] for e in users_pages)
    assert [e.query.get("starting_after") is not None for e in users_pages][1:] == [True] * (len(users_pages) - 1)
    assert {e.auth for e in server.requests_to()} == {"bearer:ok"}


def test_a_generated_district_syncs_alike_from_the_api_and_its_csv_whole_and_scoped(cli, district, clever,
                                                                                   enable_clever, db_path, tmp_path):
    bundle = write_clever_district(tmp_path / "generated", 120, schools=3)
    server = clever(bundle)
    assert cli("schools", "add", "two", "--name", "Two", "--org-id", "SCH2").exit_code == 0
    for school in ("district", "two"):
        assert cli("enable", school, "csv-folder", "--set", f"path={bundle}").exit_code == 0
        enable_clever(server, school, page_size="50")
        runs = json.loads(cli("sync", school, "--json").output)
        assert [r["status"] for r in runs] == ["ok", "ok"], runs
    by_source = roster_by_source(db_path)
    assert _without_district(by_source["clever"]) == by_source["csv-folder"]
    assert len(server.requests_to("/v3.0/users")) == 2 * 6  # 277 users, 50 a page, for each school


def test_switching_a_school_from_clever_csv_to_the_api_keeps_every_person(cli, district, clever, enable_clever,
                                                                           db_path):
    assert cli("enable", "district", "csv-folder", "--set", f"path={DISTRICT}").exit_code == 0
    assert sync(cli)["status"] == "ok"
    before = roster_by_source(db_path)["csv-folder"]
    enable_clever(clever(behaviour=Behaviour(normalise=True)))  # Clever rewrites grades, subjects, names
    switched = cli("switch-source", "district", "csv-folder", "clever", "--json")
    assert switched.exit_code == 0, switched.output
    assert json.loads(switched.output)["moved"]["users"] == 13
    run = sync(cli)
    assert run["source"] == "clever" and run["status"] == "ok", run
    people = run["counts"]["users"]
    assert (people["inserted"], people["deleted"], people["restored"]) == (0, 0, 0)
    assert people["updated"] == 2  # grades_raw: "K" and "-1" as Clever spells them
    for entity in ("academic_sessions", "courses", "classes", "enrollments"):
        counts = run["counts"][entity]
        assert (counts["inserted"], counts["deleted"]) == (0, 0), (entity, counts)
    assert run["counts"]["orgs"]["inserted"] == 1  # the district, which the CSV does not name
    after = roster_by_source(db_path)
    assert list(after) == ["clever"]  # no second copy of the roster under another source
    assert [r[1] for r in after["clever"]["users"]] == [r[1] for r in before["users"]]
    assert "csv-folder" not in cli("schools", "list", "--json").output
    # the new source is its own from now on: switching again onto it is refused, nothing moves
    assert cli("enable", "district", "csv-folder", "--set", f"path={DISTRICT}").exit_code == 0
    refused = cli("switch-source", "district", "csv-folder", "clever")
    assert refused.exit_code == 2 and "clever has already synced school district" in refused.output


def test_paging_follows_next_links_across_pages_even_when_the_server_serves_fewer(cli, district, clever,
                                                                                 enable_clever, db_path):
    server = clever(behaviour=Behaviour(limit_cap=2))  # asks for 5, gets 2 a page
    enable_clever(server, page_size="5")
    run = sync(cli)
    assert run["status"] == "ok", run
    assert run["counts"]["users"]["inserted"] == 13 and run["counts"]["enrollments"]["inserted"] == 12
    pages = server.requests_to("/v3.0/users")
    assert len(pages) == 7  # 13 users, 2 a page: the seventh is short, so it has no next link
    afters = [e.query["starting_after"][0] for e in pages[1:]]
    assert afters == sorted(afters) and len(set(afters)) == len(afters)


def test_a_429_mid_sync_waits_for_the_rate_limit_reset_and_carries_on(cli, district, clever, enable_clever,
                                                                      db_path):
    server = clever(behaviour=Behaviour(throttle_at=(4, 5), reset_seconds=1))
    enable_clever(server, page_size="4")
    run = sync(cli)
    assert run["status"] == "ok", run
    assert [e.status for e in server.requests_to()][3:6] == [429, 429, 200]
    assert run["counts"]["users"]["inserted"] == 13


def test_an_invalid_token_fails_clearly_and_leaves_the_roster_alone(cli, district, clever, enable_clever, db_path,
                                                                    monkeypatch):
    server = clever()
    enable_clever(server)
    assert sync(cli)["status"] == "ok"
    before = roster_snapshot(db_path)
    monkeypatch.setenv("ROSTERSYNC_TEST_CLEVER_TOKEN", "not-the-token")
    run = sync(cli)
    assert run["status"] == "failed"
    assert f"{server.base_url}/v3.0/districts?limit=10000: HTTP 401 Unauthorized; server said: Unauthorized: " \
           "invalid or expired token: the server refused the credentials (check the district token" in run["error"]
    assert roster_snapshot(db_path) == before
    assert "not-the-token" not in run["error"]


def test_the_district_token_is_looked_up_with_the_app_credentials_and_again_when_it_rotates(
        cli, district, clever, enable_clever, db_path):
    server = clever(behaviour=Behaviour(rotate_at=(5,)))  # the district re-authorises the app mid-sync
    enable_clever(server, lookup=True)
    run = sync(cli)
    assert run["status"] == "ok", run
    lookups = [e for e in server.log if e.path == "/oauth/tokens"]
    assert [(e.auth, e.query["owner_type"], e.status) for e in lookups] == [("basic", ["district"], 200)] * 2
    assert [e.auth for e in server.requests_to()][4:6] == ["bearer:bad", "bearer:ok"]  # refused, then replayed
    assert run["counts"]["users"]["inserted"] == 13


def test_a_wrong_client_secret_names_the_token_list_and_changes_nothing(cli, district, clever, enable_clever,
                                                                        db_path, monkeypatch):
    server = clever()
    enable_clever(server, lookup=True)
    monkeypatch.setenv("ROSTERSYNC_TEST_CLEVER_SECRET", "wrong-secret")
    run = sync(cli)
    assert run["status"] == "failed"
    assert "could not list the app's district tokens" in run["error"]
    assert f"{server.base_url}/oauth/tokens?owner_type=district: HTTP 401" in run["error"]
    assert "invalid_client" in run["error"] and "check client_id, client_secret and district_id" in run["error"]
    assert "wrong-secret" not in run["error"]
    assert roster_snapshot(db_path) == {t: [] for t in roster_snapshot(db_path)}


def test_check_shows_the_district_and_how_many_users_of_each_role(cli, district, clever, enable_clever):
    server = clever()
    enable_clever(server, delta="true")
    result = cli("check", "district", "--json")
    assert result.exit_code == 0, result.output
    steps = {s["step"]: s for s in json.loads(result.output)}
    assert steps["token"]["detail"] == f"valid for district Clever Sample District ({server.district.district['id']})"
    assert steps["users"]["detail"] == "4 student, 3 teacher, 2 staff, 0 district_admin, 4 contact"
    assert steps["sections"]["detail"] == "4 sections in 2 schools"
    assert steps["events"]["ok"] and steps["events"]["detail"] == "the feed is empty"


def test_simulate_clever_serves_a_generated_district_from_the_command_line(cli, district, project, monkeypatch):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "ROSTERSYNC_SIM_TOKEN": "sim-token-123"}
    with subprocess.Popen([rostersync_exe(), "simulate-clever", "--generate", "30", "--port", "0"], cwd=project,
                          env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as server:
        assert server.stdout is not None and server.stdin is not None
        first = server.stdout.readline()
        base_url = first.split("Clever Data API: ")[1].split()[0]
        monkeypatch.setenv("SIM_TOKEN", "sim-token-123")
        assert cli("enable", "district", "clever", "--set", "token=env:SIM_TOKEN", "--set", f"base_url={base_url}",
                   ).exit_code == 0
        run = sync(cli)
        server.stdin.close()  # end of input stops it
        assert server.wait(timeout=30) == 0
    assert run["status"] == "ok" and run["counts"]["users"]["inserted"] > 30, run


def test_an_employee_with_two_roles_and_a_district_admin_map_as_clever_csv_people(cli, district, clever,
                                                                                  enable_clever, db_path, tmp_path):
    bundle = copy_fixture("clever/district", tmp_path / "merged")
    edit_csv(bundle / "staff.csv", lambda rows: [  # Ann Lee is a teacher and office staff
        dict(r, Staff_email="ann.lee@oak.example", First_name="Ann", Last_name="Lee") if r["Staff_id"] == "A1" else r
        for r in rows])
    server = clever(bundle)
    ann = [u for u in server.district.users() if u.get("email") == "ann.lee@oak.example"]
    assert len(ann) == 1 and set(ann[0]["roles"]) == {"teacher", "staff"}  # Clever merges employees
    admin = {"id": "64f0000000000000000000aa", "district": server.district.district["id"], "email": "sup@example.org",
             "name": {"first": "Sam", "last": "Super"}, "roles": {"district_admin": {"title": "Superintendent"}}}
    server.district.objects["users"][admin["id"]] = admin
    assert cli("enable", "district", "csv-folder", "--set", f"path={bundle}").exit_code == 0
    enable_clever(server)
    runs = json.loads(cli("sync", "district", "--json").output)
    assert [r["status"] for r in runs] == ["ok", "ok"], runs
    by_source = roster_by_source(db_path)
    api_users = [r for r in by_source["clever"]["users"] if not r[1].startswith("district_admin:")]
    assert api_users == by_source["csv-folder"]["users"]  # teacher:T1 and staff:A1, as in the CSV
    with sqlite3.connect(db_path) as conn:
        found = conn.execute("SELECT role, given_name, family_name, org_sourced_ids, extra FROM users WHERE "
                             "sourced_id=? AND source='clever'", [f"district_admin:{admin['id']}"]).fetchone()
    district_org = f"district:{server.district.district['id']}"
    assert found == ("administrator", "Sam", "Super", f'["{district_org}"]', '{"Title": "Superintendent"}')
