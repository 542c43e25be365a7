"""Each habit of real OneRoster servers the simulator can switch on: the sync completes with the right
data, or fails with a clear message and the roster unchanged."""

from __future__ import annotations

import json

import pytest
from api_helpers import live_counts, roster_by_source
from conftest import roster_snapshot
from rostersync.testing.simulator import Behaviour

pytest_plugins = ("api_fixtures",)

LINCOLN = {"orgs": 2, "academic_sessions": 3, "courses": 20, "classes": 40, "users": 384, "enrollments": 1032,
           "demographics": 0}


def _sync(cli):  # type: ignore[no-untyped-def]
    result = cli("sync", "lincoln", "--json")
    return json.loads(result.output)


def _same_as_csv(cli, bundle, db_path, version: str) -> None:  # type: ignore[no-untyped-def]
    """Sync the same bundle through csv-folder too and compare every roster table."""
    assert cli("enable", "lincoln", "csv-folder", "--set", f"path={bundle}").exit_code == 0
    runs = _sync(cli)
    assert [r["status"] for r in runs] == ["ok", "ok"], runs
    by_source = roster_by_source(db_path, version)
    assert by_source["oneroster-api"] == by_source["csv-folder"]
    assert live_counts(db_path) == LINCOLN


@pytest.mark.parametrize(("version", "behaviour", "settings"), [
    ("1.1", Behaviour(page_clamp=30), {"concurrency": "4"}),
    ("1.2", Behaviour(page_clamp=30, no_total_count=True, no_link=True), {}),
    ("1.1", Behaviour(no_total_count=True), {"page_size": "50"}),
    ("1.2", Behaviour(no_link=True), {"page_size": "7", "concurrency": "8"}),
    ("1.1", Behaviour(id_whitespace=True), {}),
    ("1.2", Behaviour(string_booleans=True, id_whitespace=True), {}),
    ("1.1", Behaviour(no_school_paths=True), {}),
    ("1.2", Behaviour(latency=0.01), {"concurrency": "2"}),
], ids=["clamp", "clamp-without-headers", "no-total", "no-link-small-pages", "id-whitespace",
        "string-booleans", "no-school-paths", "latency"])
def test_behaviours_that_still_give_the_right_roster(cli, lincoln, bundle, start_sim, enable_api, db_path,
                                                      version, behaviour, settings):
    sim = start_sim(version, behaviour)
    enable_api(sim, **settings)
    _same_as_csv(cli, bundle, db_path, version)
    if behaviour.page_clamp and not behaviour.no_total_count:  # the total shows the clamp: later pages ask 30
        assert {e.query["limit"] for e in sim.requests("users")} == {"100", "30"}
    if behaviour.no_school_paths:
        assert any(e.status == 404 for e in sim.requests("schools/")) and sim.requests("classes")


def test_429_bursts_are_retried_after_retry_after(cli, lincoln, bundle, start_sim, enable_api, db_path):
    sim = start_sim("1.2", Behaviour(throttle_every=5, throttle_burst=2, retry_after=0.05))
    enable_api(sim, concurrency="3")
    _same_as_csv(cli, bundle, db_path, "1.2")
    assert sum(e.status == 429 for e in sim.requests()) >= 4


def test_random_500s_are_retried_with_backoff(cli, lincoln, bundle, start_sim, enable_api, db_path):
    sim = start_sim("1.1", Behaviour(error_rate=0.15, seed=7))
    enable_api(sim, retries="8")
    _same_as_csv(cli, bundle, db_path, "1.1")
    assert sum(e.status == 500 for e in sim.requests()) >= 2


def test_a_token_expiring_mid_sync_is_renewed_without_failing(cli, lincoln, bundle, start_sim, enable_api, db_path):
    sim = start_sim("1.2", Behaviour(token_max_uses=6))  # revoked early: the server answers 401
    enable_api(sim, concurrency="3")
    _same_as_csv(cli, bundle, db_path, "1.2")
    assert sum(e.status == 401 for e in sim.requests()) >= 2
    assert sim.tokens_issued >= 3


def test_a_token_is_renewed_before_it_expires(cli, lincoln, start_sim, enable_api, db_path):
    sim = start_sim("1.1", Behaviour(token_ttl=1, latency=0.03))
    enable_api(sim, concurrency="1", page_size="40")
    assert [r["status"] for r in _sync(cli)] == ["ok"]
    assert sim.tokens_issued >= 2
    assert not [e for e in sim.requests() if e.status == 401]  # renewed in time, never refused


@pytest.mark.parametrize(("behaviour", "settings", "message"), [
    (Behaviour(error_rate=1.0), {"retries": "3"},
     "HTTP 500 Internal Server Error; server said: failure/error/internal_server_error: simulated failure "
     "(gave up after 3 attempts)"),
    (Behaviour(throttle_every=1, throttle_burst=1000, retry_after=0.01), {"retries": "2"},
     "HTTP 429 Too Many Requests; server said: failure/error/server_busy: slow down (gave up after 2 attempts)"),
    (Behaviour(latency=0.5), {"timeout": "0.1", "retries": "2"}, "timed out (ReadTimeout) after 2 attempts"),
    (Behaviour(ignore_offset=True, no_total_count=True), {"page_size": "50"}, "the server ignores offset"),
    (Behaviour(total_skew=5), {}, "paging count mismatch"),
    (Behaviour(total_skew=-3), {}, "paging count mismatch"),
    (Behaviour(no_total_count=True), {"max_pages": "3", "page_size": "50"}, "more than max_pages (3) pages"),
    (Behaviour(), {"max_pages": "3", "page_size": "50"}, "needs 16 pages, more than max_pages (3)"),
], ids=["500s", "429s", "slow", "ignores-offset", "total-too-high", "total-too-low", "max-pages",
                     "max-pages-with-total"])
def test_behaviours_that_fail_the_run_leave_the_roster_unchanged(cli, lincoln, start_sim, enable_api, db_path,
                                                                 behaviour, settings, message):
    sim = start_sim("1.1")
    enable_api(sim)
    assert [r["status"] for r in _sync(cli)] == ["ok"]
    before = roster_snapshot(db_path)
    enable_api(sim, **settings)
    sim.behaviour = behaviour
    result = cli("sync", "lincoln")
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert message in text
    assert sim.root in text and "The roster was left unchanged" in text
    assert roster_snapshot(db_path) == before


def test_tls_is_verified_and_a_ca_bundle_can_be_trusted(cli, lincoln, start_sim, enable_api, tmp_path, db_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = __import__("ssl").SSLContext(__import__("ssl").PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    sim = start_sim("1.2", ssl_context=context)
    assert sim.base_url.startswith("https://")
    enable_api(sim, retries="1")
    refused = cli("sync", "lincoln")
    assert refused.exit_code == 1 and "CERTIFICATE_VERIFY_FAILED" in refused.output
    assert "verify_tls / ca_bundle" in " ".join(refused.output.split())
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    enable_api(sim, ca_bundle=str(pem))
    assert [r["status"] for r in _sync(cli)] == ["ok"]
    assert live_counts(db_path)["users"] == 384
