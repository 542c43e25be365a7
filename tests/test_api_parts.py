"""The OneRoster API pieces an operator meets in messages and a connector author relies on: URL
redaction, imsx status payloads, Link headers, Retry-After, envelope keys, 1.2 roles and metadata,
and the ``rostersync simulate`` command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import httpx
import pytest
from rostersync.api.http import imsx_status, redact, retry_after
from rostersync.api.paging import parse_link
from rostersync.batches import RawBatch
from rostersync.errors import DataError, SourceError
from rostersync.formats.oneroster_json import map_batch
from rostersync.testing.simulator import Behaviour

pytest_plugins = ("api_fixtures",)


def test_redact_removes_credentials_and_secret_query_values():
    url = "https://user:pw@sis.example/api/users?limit=100&access_token=abc&client_secret=xyz&offset=0"
    assert redact(url) == "https://sis.example/api/users?limit=100&access_token=***&client_secret=***&offset=0"


@pytest.mark.parametrize(("body", "said"), [
    ({"statusInfoSet": [{"imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": "no",
                         "imsx_CodeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldName": "TargetEndSystem",
                                                                     "imsx_codeMinorFieldValue": "forbidden"}]}}]},
     "failure/error/forbidden: no"),
    ({"imsx_statusInfo": {"imsx_codeMajor": "failure", "imsx_severity": "error",
                          "imsx_description": "unknown object"}}, "failure/error: unknown object"),
    ({"imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": "bad filter"},
     "failure/error: bad filter"),
    ({"error": "invalid_client", "error_description": "unknown client"}, "invalid_client: unknown client"),
    ("<html>oops</html>", ""),
])
def test_imsx_status_reads_11_12_and_oauth_payloads(body, said):
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    assert imsx_status(httpx.Response(403, content=content)) == said


def test_link_header_and_retry_after():
    header = '<https://x/users?offset=100>; rel="next", <https://x/users?offset=900>; rel="last"'
    assert parse_link(header) == {"next": "https://x/users?offset=100", "last": "https://x/users?offset=900"}
    assert parse_link(None) == {}
    assert retry_after(httpx.Response(429, headers={"Retry-After": "7"})) == 7.0
    assert retry_after(httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after(httpx.Response(429, headers={"Retry-After": "100000"})) == 120.0
    assert retry_after(httpx.Response(429)) is None


def _user_12(**overrides):  # type: ignore[no-untyped-def]
    user = {"sourcedId": " u1 ", "status": "active", "dateLastModified": "2026-09-01T10:00:00.000Z",
            "enabledUser": "true", "username": "u1", "givenName": "Ada", "familyName": "Lovelace",
            "userIds": [{"type": "LDAP", "identifier": "ada"}], "grades": ["9"], "preferredFirstName": "Addie",
            "agents": [{"href": "x", "sourcedId": "p1 ", "type": "user"}], "metadata": {"bus": 4, "jp": {"kana": "エ"}},
            "primaryOrg": {"sourcedId": "sch-2"},
            "roles": [{"roleType": "secondary", "role": "aide", "org": {"sourcedId": "sch-1"}},
                      {"roleType": "primary", "role": "teacher", "org": {"sourcedId": "sch-2"}}]}
    return {**user, **overrides}


def test_12_users_roles_give_role_and_orgs_and_metadata_goes_to_extra():
    mapped = map_batch(RawBatch("oneroster-1.2-json", "users", "https://x/users", [_user_12()]))
    [user] = mapped.records
    assert (user.sourced_id, user.role, user.org_sourced_ids) == ("u1", "teacher", ("sch-1", "sch-2"))
    assert user.primary_org_sourced_id == "sch-2" and user.preferred_given_name == "Addie"
    assert user.agent_sourced_ids == ("p1",) and str(user.user_ids[0]) == "{LDAP:ada}"
    assert user.grades == ("09",) and user.grades_raw == ("9",)
    assert user.extra == {"metadata.bus": "4", "metadata.jp.kana": "エ"}


def test_json_mapping_errors_and_tobedeleted_in_bulk_and_delta():
    with pytest.raises(DataError) as err:
        map_batch(RawBatch("oneroster-1.2-json", "users", "https://x/users?offset=0", [_user_12(roles=[])]))
    assert str(err.value).startswith("https://x/users?offset=0:roles of 'u1': roles: required list")
    with pytest.raises(DataError, match=r"enabledUser of 'u1': 'maybe' is not a boolean"):
        map_batch(RawBatch("oneroster-1.2-json", "users", "u", [_user_12(enabledUser="maybe")]))
    gone = _user_12(status="tobedeleted")
    assert map_batch(RawBatch("oneroster-1.2-json", "users", "u", [gone])).records == []
    delta = map_batch(RawBatch("oneroster-1.2-json", "users", "u", [gone], mode="delta"))
    assert [r.status for r in delta.records] == ["tobedeleted"]


def test_12_json_accepts_ext_enumeration_values_as_12_csv_does_and_11_refuses_them():
    """OneRoster 1.2 extends org, session and class types and roles with ``ext:`` values, over REST as in CSV."""
    org = {"sourcedId": "o1", "name": "Annex", "type": "ext:campus"}
    assert map_batch(RawBatch("oneroster-1.2-json", "orgs", "u", [org])).records[0].type == "ext:campus"
    with pytest.raises(DataError, match=r"type of 'o1': 'ext:campus' is not one of: department"):
        map_batch(RawBatch("oneroster-1.1-json", "orgs", "u", [org]))
    coach = _user_12(roles=[{"roleType": "primary", "role": "ext:coach", "org": {"sourcedId": "sch-1"}}])
    assert map_batch(RawBatch("oneroster-1.2-json", "users", "u", [coach])).records[0].role == "ext:coach"
    unknown = _user_12(roles=[{**coach["roles"][0], "role": "coach"}])
    with pytest.raises(DataError, match=r"roles of 'u1': 'coach' is not one of"):
        map_batch(RawBatch("oneroster-1.2-json", "users", "u", [unknown]))


def test_alternate_envelope_keys_are_accepted(start_sim, monkeypatch):
    """Some servers answer /students with {"students": [...]} rather than the spec's "users"."""
    from rostersync.api.settings import OneRosterApiSettings
    from rostersync.api.source import ApiSource
    from rostersync.secrets import SecretRef

    sim = start_sim("1.1", Behaviour(path_envelopes=True))
    monkeypatch.setenv("ROSTERSYNC_TEST_ENVELOPE", sim.client_secret)
    options = OneRosterApiSettings(
        base_url=sim.base_url, token_url=sim.token_url, client_id=sim.client_id,
        client_secret=SecretRef("env:ROSTERSYNC_TEST_ENVELOPE"))
    with ApiSource(options) as source:
        page = source.get_page("students", ("users", "students"), {}, 0, 500)
        assert page.total == 300 and len(page.rows) == 300
        with pytest.raises(SourceError, match=r"the response has no 'users' list \(keys: teachers\)"):
            source.get_page("teachers", ("users",), {}, 0, 5)


def test_simulate_command_serves_a_bundle(bundle, tmp_path):
    exe = shutil.which("rostersync", path=os.path.dirname(sys.executable))
    env = {**os.environ, "ROSTERSYNC_SIM_SECRET": "demo-secret-123", "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    proc = subprocess.Popen([exe, "simulate", "--port", "0", "--data", str(bundle), "--version", "1.2",
                             "--behaviour", "page_clamp=10", "--behaviour", "forbidden=demographics"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]
        base = lines[0].split("API: ", 1)[1].strip()
        token_url = lines[1].split(": ", 1)[1].strip()
        assert base.endswith("/ims/oneroster/rostering/v1p2")
        token = httpx.post(token_url, data={"grant_type": "client_credentials"},
                           auth=("rostersync-demo", "demo-secret-123")).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        page = httpx.get(f"{base}/orgs", params={"limit": 100}, headers=headers)
        assert page.headers["X-Total-Count"] == "3" and len(page.json()["orgs"]) == 3
        users = httpx.get(f"{base}/users", params={"limit": 100, "filter": "status='tobedeleted'"}, headers=headers)
        assert users.json()["users"] == [] and users.headers["X-Total-Count"] == "0"
        active = httpx.get(f"{base}/users", params={"limit": 100, "filter": "status='active'"}, headers=headers)
        assert active.headers["X-Total-Count"] == "757"  # a bulk row without a status is active
        assert len(httpx.get(f"{base}/users", params={"limit": 100}, headers=headers).json()["users"]) == 10
        assert httpx.get(f"{base}/demographics", headers=headers).status_code == 403
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    bad = subprocess.run([exe, "simulate", "--data", str(bundle), "--behaviour", "nonsense=1"],
                         capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "unknown behaviour 'nonsense'" in bad.stderr
    assert Behaviour.parse(["latency=0.5", "no_link", "forbidden=a,b"]) == Behaviour(latency=0.5, no_link=True,
                                                                                    forbidden=("a", "b"))


def test_settings_are_validated_when_enabled(cli, lincoln):
    base = ["enable", "lincoln", "oneroster-api", "--set", "base_url=https://sis.example/ims/oneroster/v1p1",
            "--set", "client_id=c", "--set", "client_secret=env:SIS_SECRET", "--set", "token_url=https://sis/t"]
    bad_version = cli(*base, "--set", "version=2.0")
    assert bad_version.exit_code == 2 and "version: '2.0' is not one of: 1.1, 1.2" in bad_version.output
    bad_auth = cli(*base, "--set", "auth=oauth1-plaintext")
    assert bad_auth.exit_code == 2 and "auth: 'oauth1-plaintext' is not one of" in bad_auth.output
    literal = cli(*base[:-4], "--set", "client_secret=hunter2", "--set", "token_url=https://sis/t")
    assert literal.exit_code == 2 and "hunter2" not in literal.output
    zero = cli(*base, "--set", "page_size=0")
    assert zero.exit_code == 2 and "page_size: must be greater than 0 (got 0)" in zero.output
    no_token = cli(*base[:-2], "--set", "token_url=")
    assert no_token.exit_code == 2 and "token_url is required for auth oauth2-client-credentials" in no_token.output
    assert cli(*base, "--set", "scopes=a,b", "--set", "concurrency=8").exit_code == 0
