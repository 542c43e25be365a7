"""Syncing through the oneroster-api connector against the loopback OneRoster server.

The reference is the same bundle synced through csv-folder: every roster table must hold the same
rows (ignoring the source and bookkeeping columns) for both versions and every auth mode.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3

import pytest
from api_helpers import SECRET_ENV, add_demographics, live_counts, roster_by_source
from conftest import roster_snapshot
from rostersync.testing.simulator import Behaviour

pytest_plugins = ("api_fixtures",)

LINCOLN = {"orgs": 2, "academic_sessions": 3, "courses": 20, "classes": 40, "users": 384, "enrollments": 1032,
           "demographics": 2}


def _json(result):  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize(("version", "auth", "client_auth", "seen"), [
    ("1.1", "oauth2-client-credentials", "basic", "bearer"),
    ("1.1", "oauth1-hmac-sha256", "basic", "oauth1:HMAC-SHA256"),
    ("1.1", "oauth1-hmac-sha1", "basic", "oauth1:HMAC-SHA1"),
    ("1.2", "oauth2-client-credentials", "basic", "bearer"),
    ("1.2", "oauth2-client-credentials", "body", "bearer"),
])
def test_api_sync_gives_the_same_roster_as_the_csv_bundle(cli, lincoln, bundle, start_sim, enable_api, db_path,
                                                          version, auth, client_auth, seen):
    add_demographics(bundle)
    sim = start_sim(version)
    csv = cli("enable", "lincoln", "csv-folder", "--set", f"path={bundle}", "--set", "demographics=true")
    assert csv.exit_code == 0
    enable_api(sim, auth=auth, client_auth=client_auth, demographics="true", scopes="roster.readonly")
    runs = _json(cli("sync", "lincoln", "--json"))
    assert [(r["source"], r["status"]) for r in runs] == [("csv-folder", "ok"), ("oneroster-api", "ok")]
    by_source = roster_by_source(db_path, version)
    assert by_source["oneroster-api"] == by_source["csv-folder"]
    assert live_counts(db_path) == LINCOLN
    assert {e.auth for e in sim.requests()} == {seen}
    token_calls = [e for e in sim.log if e.path == "/oauth/token"]
    if auth.startswith("oauth2"):
        assert [e.auth for e in token_calls] == ["basic" if client_auth == "basic" else "none"]
    else:
        assert token_calls == []
    # classes and enrollments were asked per school; 1.2 users arrive with roles[] and still carry their orgs
    assert sim.requests("schools/sch-lincoln/classes") and sim.requests("schools/sch-lincoln/enrollments")
    assert not sim.requests("classes") and not sim.requests("enrollments")


def test_a_fixed_bearer_token_is_sent_as_given_and_a_refused_one_fails_clearly(cli, lincoln, bundle, start_sim,
                                                                                enable_api, db_path, monkeypatch):
    import httpx

    sim = start_sim("1.1")
    issued = httpx.post(sim.token_url, data={"grant_type": "client_credentials"},
                        auth=(sim.client_id, sim.client_secret)).json()["access_token"]
    assert cli("enable", "lincoln", "csv-folder", "--set", f"path={bundle}").exit_code == 0
    enable_api(sim, auth="bearer-token", client_id="unused", token_url="")
    monkeypatch.setenv(SECRET_ENV, issued)  # a token handed out of band (ClassLink's proxy), not a client secret
    runs = _json(cli("sync", "lincoln", "--json"))
    assert [r["status"] for r in runs] == ["ok", "ok"]
    by_source = roster_by_source(db_path)
    assert by_source["oneroster-api"] == by_source["csv-folder"]
    assert {e.auth for e in sim.requests()} == {"bearer"} and sim.tokens_issued == 1  # never asked for another
    sim.expire_tokens()
    refused = cli("sync", "lincoln", "--full")
    assert refused.exit_code == 1 and "refused the credentials" in refused.output
    assert issued not in refused.output


@pytest.mark.parametrize("org_ids", [(), ("sch-lincoln", "sch-roosevelt")])
def test_district_and_two_school_scopes_match_csv(cli, bundle, start_sim, enable_api, db_path, org_ids):
    sim = start_sim("1.2", Behaviour(page_clamp=40))
    assert cli("init").exit_code == 0
    args = [a for org in org_ids for a in ("--org-id", org)]
    assert cli("schools", "add", "maple", "--name", "Maple Valley", *args).exit_code == 0
    assert cli("enable", "maple", "csv-folder", "--set", f"path={bundle}").exit_code == 0
    enable_api(sim, school="maple", page_size="100", concurrency="3")
    assert [r["status"] for r in _json(cli("sync", "maple", "--json"))] == ["ok", "ok"]
    by_source = roster_by_source(db_path, "1.2")
    assert by_source["oneroster-api"] == by_source["csv-folder"]
    assert live_counts(db_path)["users"] == 757
    assert bool(sim.requests("schools/")) == bool(org_ids)


RELAXED = {
    "spec-exact-1.1": ("1.1", Behaviour()),
    "spec-exact-1.2": ("1.2", Behaviour()),
    "nulls-1.1": ("1.1", Behaviour(nulls=True)),
    "nulls-1.2": ("1.2", Behaviour(nulls=True)),
    "json-booleans-1.2": ("1.2", Behaviour(json_booleans=True)),
    "string-booleans-1.1": ("1.1", Behaviour(string_booleans=True)),
    "bare-refs-1.1": ("1.1", Behaviour(bare_refs=True)),
    "bare-refs-padded-ids-1.2": ("1.2", Behaviour(bare_refs=True, id_whitespace=True)),
    "everything-relaxed-1.2": ("1.2", Behaviour(nulls=True, json_booleans=True, bare_refs=True, id_whitespace=True,
                                                path_envelopes=True, no_total_count=True, page_clamp=40)),
    "everything-relaxed-1.1": ("1.1", Behaviour(nulls=True, string_booleans=True, bare_refs=True, id_whitespace=True,
                                                path_envelopes=True, no_link=True, page_clamp=40)),
}


@pytest.mark.parametrize("case", RELAXED)
def test_the_spec_exact_server_and_each_relaxed_form_give_the_same_roster(case, cli, lincoln, bundle, start_sim,
                                                                          enable_api, db_path):
    """The client reads the binding's exact forms and every relaxed one real servers send."""
    version, behaviour = RELAXED[case]
    add_demographics(bundle)  # demographics carry most of the booleans
    sim = start_sim(version, behaviour)
    csv = cli("enable", "lincoln", "csv-folder", "--set", f"path={bundle}", "--set", "demographics=true")
    assert csv.exit_code == 0
    enable_api(sim, demographics="true")
    runs = _json(cli("sync", "lincoln", "--json"))
    assert [(r["source"], r["status"]) for r in runs] == [("csv-folder", "ok"), ("oneroster-api", "ok")]
    by_source = roster_by_source(db_path, version)
    assert by_source["oneroster-api"] == by_source["csv-folder"]
    assert live_counts(db_path) == LINCOLN


@pytest.mark.parametrize("envelope", ["spec", "bare", "wrapped", "set"])
@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_the_client_reads_every_error_envelope(version, envelope, cli, lincoln, bundle, start_sim, enable_api):
    add_demographics(bundle)
    sim = start_sim(version, Behaviour(forbidden=("demographics",), error_envelope=envelope))
    enable_api(sim, demographics="true")
    run = _json(cli("sync", "lincoln", "--json"))[0]
    assert run["status"] == "ok"
    warnings = [w["message"] for w in _json(cli("changes", str(run["run"]), "--warnings", "--json"))]
    assert any("demographics: not shared" in w and "failure/error/forbidden" in w for w in warnings), warnings


def test_delta_sync_asks_only_for_changes_and_full_pulls_everything(cli, lincoln, start_sim, enable_api, db_path):
    sim = start_sim("1.2", exported_at="2026-06-30T18:00:00.000Z")  # the bundle's rows were exported then
    enable_api(sim, delta="true", delta_overlap="60")
    first = _json(cli("sync", "lincoln", "--json"))[0]
    assert first["status"] == "ok"
    assert not [e for e in sim.requests() if "filter" in e.query]
    with sqlite3.connect(db_path) as conn:
        started, state = conn.execute("SELECT started_at, state FROM sync_runs WHERE id=?", [first["run"]]).fetchone()
    cursors = json.loads(state)["delta"]
    assert set(cursors) == {"orgs", "academic_sessions", "courses", "classes", "users", "enrollments"}
    for cursor in cursors.values():
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", cursor)
        assert cursor < started[:19]  # the run start minus the overlap

    sim.log.clear()
    sim.data.update("users", "le-stu-0001", familyName="Delta")
    sim.data.delete("enrollments", "enr-00050")
    second = _json(cli("sync", "lincoln", "--json"))[0]
    filters = {e.query.get("filter") for e in sim.requests()}
    assert filters == {f"dateLastModified>'{cursors['users']}'"}
    counts = second["counts"]
    assert counts["users"]["updated"] == 1 and counts["users"]["fetched"] == 1
    assert counts["enrollments"]["deleted"] == 1
    assert sum(c["inserted"] + c["updated"] + c["deleted"] for c in counts.values()) == 2
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT family_name FROM current_users WHERE sourced_id='le-stu-0001'").fetchone() == (
            "Delta",)
    assert live_counts(db_path) | {"demographics": 2} == LINCOLN | {"enrollments": 1031}

    sim.log.clear()
    third = _json(cli("sync", "lincoln", "--full", "--json"))[0]
    assert not [e for e in sim.requests() if "filter" in e.query]
    assert all(c["inserted"] == c["updated"] == c["deleted"] == 0 for c in third["counts"].values())
    assert live_counts(db_path)["enrollments"] == 1031  # the tobedeleted enrollment stays deleted


def test_an_endpoint_not_shared_is_reported_and_left_alone(cli, lincoln, bundle, start_sim, enable_api, db_path):
    add_demographics(bundle)
    sim = start_sim("1.1")
    enable_api(sim, demographics="true")
    assert _json(cli("sync", "lincoln", "--json"))[0]["status"] == "ok"
    before = roster_snapshot(db_path)

    sim.behaviour = Behaviour(forbidden=("demographics", "enrollments"))
    run = _json(cli("sync", "lincoln", "--json"))[0]
    assert run["status"] == "ok"
    assert "demographics" not in run["counts"] and "enrollments" not in run["counts"]
    assert roster_snapshot(db_path) == before  # never read as "everyone left"
    warnings = [w["message"] for w in _json(cli("changes", str(run["run"]), "--warnings", "--json"))]
    assert any("demographics: not shared" in w and "HTTP 403" in w and "forbidden" in w for w in warnings)
    assert any(w.startswith("enrollments: not shared") for w in warnings)

    check = json.loads(cli("check", "lincoln", "--json").output)
    assert [s["step"] for s in check][:2] == ["settings", "token"]
    assert any(s["step"] == "demographics" and "not shared" in s["detail"] for s in check)


def test_a_bad_record_fails_naming_url_record_and_field(cli, lincoln, start_sim, enable_api, db_path):
    sim = start_sim("1.1")
    enable_api(sim)
    assert cli("sync", "lincoln").exit_code == 0
    before = roster_snapshot(db_path)
    bad = sim.data.objects["users"][250]["sourcedId"]  # on the third page of users: offset 200
    sim.data.update("users", bad, givenName=None)
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert f"{sim.base_url}/users?limit=100&offset=200:givenName of {bad!r}" in message
    assert "required value is missing" in message and "The roster was left unchanged" in message
    sim.data.update("users", bad, givenName="Ana", role="wizard")
    result = cli("sync", "lincoln")
    assert f"role of {bad!r}" in result.output and "'wizard' is not one of" in result.output
    assert roster_snapshot(db_path) == before


def test_the_client_secret_never_leaks(cli, run_cli, lincoln, start_sim, enable_api, project, caplog):
    secret = "s3cret-Value-that-must-never-appear-4711"
    sim = start_sim("1.1", client_secret=secret)
    enable_api(sim, delta="true")
    caplog.set_level(logging.DEBUG)
    outputs = [cli("check", "lincoln").output, cli("sync", "lincoln", "--json").output,
               cli("sync", "lincoln").output, cli("history", "--json").output]
    enable_api(sim, auth="oauth1-hmac-sha256")
    outputs.append(cli("sync", "lincoln").output)
    sim.client_secret = "rotated-on-the-server"  # the configured secret is now wrong: runs fail
    failed = cli("sync", "lincoln")
    assert failed.exit_code == 1 and "HTTP 401" in failed.output
    enable_api(sim, auth="oauth2-client-credentials")
    sim.client_secret = "rotated-on-the-server"
    os.environ[SECRET_ENV] = secret  # enable_api set it (monkeypatched: restored after the test)
    token_failure = cli("sync", "lincoln")
    assert token_failure.exit_code == 1 and "could not get an access token" in token_failure.output
    assert "invalid_client" in token_failure.output
    proc = run_cli("sync", "lincoln")
    assert proc.returncode == 1
    checked = cli("check", "lincoln")
    assert checked.exit_code == 1
    outputs += [failed.output, token_failure.output, proc.stdout, proc.stderr, checked.output, caplog.text,
                cli("history", "--json").output]
    for text in outputs:
        assert secret not in text
    files = [p for p in project.rglob("*") if p.is_file()]
    assert any(p.name == "rostersync.db" for p in files)
    for path in files:
        assert secret.encode() not in path.read_bytes(), path
