"""Hostile and broken OneRoster API servers (the loopback simulator's misbehaviours): each fails the run
with a message naming the URL, leaves the roster exactly as it was and prints no traceback; or, where
the answer is still sound (gzip, a wrong Content-Type on valid JSON), syncs the right roster.

Redirects: rostersync never follows one, so a server (or anything in between) that redirects to
another host never receives the bearer token, the OAuth 1 signature or the client secret; the other
host sees no request at all. A test also shows that even a client following redirects with
rostersync's auth classes would not forward credentials (httpx runs auth only for the first request
and strips Authorization on a cross-origin redirect).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from api_helpers import live_counts, roster_by_source
from conftest import roster_snapshot
from rostersync.testing.simulator import Behaviour

pytest_plugins = ("api_fixtures",)


class Elsewhere:
    """Another host on 127.0.0.1 that records every request it gets (headers and body)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen.append((self.command, self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = _any

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://localhost:{self.server.server_address[1]}"  # another origin than 127.0.0.1
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def elsewhere() -> Iterator[Elsewhere]:
    host = Elsewhere()
    yield host
    host.close()


FAILURES = {
    "truncated-json": (Behaviour(truncate_body=True), {}, ["but the body is not valid JSON (application/json;",
                                                           "cut off in transit"]),
    "html-login-page": (Behaviour(html=200), {}, ["HTTP 200 but the body is an HTML page (text/html"]),
    "html-proxy-error": (Behaviour(html=502), {"retries": "2"}, ["HTTP 502 Bad Gateway (gave up after 2 attempts)"]),
    "enormous-page": (Behaviour(pad_bytes=3_000_000), {"max_response_mb": "2"},
                      ["larger than 2 MB (max_response_mb): it declares"]),
    "gzip-bomb": (Behaviour(pad_bytes=40_000_000, gzip=True), {"max_response_mb": "2"},
                  ["larger than 2 MB (max_response_mb): more than 2,097,152 bytes arrived"]),
    "slowloris": (Behaviour(trickle=0.1), {"timeout": "0.5", "deadline": "1"},
                  ["the response took more than 1 s in all (deadline)"]),
}


@pytest.mark.parametrize("case", FAILURES)
def test_a_broken_or_hostile_server_fails_the_run_and_changes_nothing(case, cli, run_cli, lincoln, start_sim,
                                                                       enable_api, db_path):
    behaviour, settings, messages = FAILURES[case]
    sim = start_sim("1.2")
    enable_api(sim)
    assert json.loads(cli("sync", "lincoln", "--json").output)[0]["status"] == "ok"
    before = roster_snapshot(db_path)
    enable_api(sim, **settings)
    sim.behaviour = behaviour
    result = run_cli("sync", "lincoln")  # the installed script: what an operator would see
    text = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 1, text
    assert "Traceback" not in text and "The roster was left unchanged" in text
    for message in messages:
        assert message in text
    assert sim.base_url in text  # the failing URL is named
    assert "ReadTimeout" not in text  # (slowloris: the deadline caught it, never a read timeout)
    assert roster_snapshot(db_path) == before


@pytest.mark.parametrize("behaviour", [Behaviour(gzip=True), Behaviour(content_type="text/plain; charset=utf-8")],
                         ids=["gzip", "wrong-content-type"])
def test_sound_answers_in_an_unusual_wrapping_still_sync(behaviour, cli, lincoln, bundle, start_sim, enable_api,
                                                         db_path):
    """A JSON body is judged by parsing it, not by its Content-Type; gzip is decoded (within the budget)."""
    sim = start_sim("1.1", behaviour)
    enable_api(sim)
    assert cli("enable", "lincoln", "csv-folder", "--set", f"path={bundle}").exit_code == 0
    runs = json.loads(cli("sync", "lincoln", "--json").output)
    assert [r["status"] for r in runs] == ["ok", "ok"], runs
    by_source = roster_by_source(db_path)
    assert by_source["oneroster-api"] == by_source["csv-folder"]
    assert live_counts(db_path)["users"] == 384


@pytest.mark.parametrize("token_too", [False, True], ids=["data", "token"])
def test_a_redirect_to_another_host_is_refused_and_sends_it_nothing(token_too, cli, run_cli, lincoln, start_sim,
                                                                    enable_api, db_path, elsewhere):
    sim = start_sim("1.2")
    enable_api(sim)
    assert json.loads(cli("sync", "lincoln", "--json").output)[0]["status"] == "ok"
    before = roster_snapshot(db_path)
    sim.behaviour = Behaviour(redirect=elsewhere.origin, redirect_token=token_too)
    result = run_cli("sync", "lincoln", "--full")
    text = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 1 and "Traceback" not in text
    assert f"HTTP 302 Found: redirected to {elsewhere.origin}/" in text and "does not follow redirects" in text
    if token_too:
        assert "could not get an access token" in text
    assert elsewhere.requests == []  # no request at all, so no credential, reached the other host
    assert sim.client_secret not in text
    assert roster_snapshot(db_path) == before


@pytest.mark.parametrize(("version", "auth"), [("1.2", "oauth2-client-credentials"), ("1.1", "oauth1-hmac-sha256")])
def test_even_a_client_following_redirects_would_not_forward_rostersyncs_credentials(version, auth, start_sim,
                                                                                      elsewhere, monkeypatch):
    from rostersync.api.auth import make_auth
    from rostersync.api.settings import OneRosterApiSettings
    from rostersync.secrets import SecretRef

    sim = start_sim(version)
    monkeypatch.setenv("RS_TEST_REDIRECT_SECRET", sim.client_secret)
    options = OneRosterApiSettings(
        base_url=sim.base_url, token_url=sim.token_url, client_id=sim.client_id, version=version, auth=auth,
        client_secret=SecretRef("env:RS_TEST_REDIRECT_SECRET"))
    with httpx.Client(auth=make_auth(options), follow_redirects=True) as client:
        assert client.get(sim.base_url + "/orgs").status_code == 200  # the credentials work
        sim.behaviour = Behaviour(redirect=elsewhere.origin)
        assert client.get(sim.base_url + "/orgs").status_code == 200  # followed, to the other host
    [(method, path, headers, body)] = elsewhere.requests
    assert (method, path) == ("GET", sim.base_url.removeprefix(sim.root) + "/orgs")
    assert "authorization" not in {k.lower() for k in headers}
    assert sim.client_secret.encode() not in body and sim.client_secret not in json.dumps(headers)
