"""Simulator profiles and the API client's features end to end: each server shape a profile declares is
imitated for real, the connector built for it syncs the reference roster (through a fault where one
applies), and the same connector without the feature its SIS needs is refused, saying why.

Client features exercised: the OAuth 2 password grant, a token request by GET, client credentials in
the body or in both places, the token response's cookies replayed, a new token on a 500
(``refresh_on_500``), ``sort`` on every page, required scopes, a token URL with a query (``?appName=``),
OAuth 1 signing; and the data habits with the quirks that repair them.
"""

from __future__ import annotations

import itertools

import httpx
import pytest
from profile_helpers import PROFILES, profile
from rostersync.testing.kit.bundles import bundle_for
from rostersync.testing.kit.checks import CHECKS
from rostersync.testing.kit.runner import check_connector, run_check
from rostersync.testing.kit.trial import Lab, Trial, sync_into
from rostersync.testing.profile_server import (
    IMITATIONS,
    connector_settings,
    simulator_profile,
)
from rostersync.testing.roster import differences, roster_rows

pytest_plugins = ("profile_fixtures",)
_folders = itertools.count()


@pytest.fixture
def lab(tmp_path):  # type: ignore[no-untyped-def]
    with Lab(tmp_path / "lab") as lab:
        yield lab


def _checks(connector, lab, *names):  # type: ignore[no-untyped-def]
    trial = Trial(connector, lab)
    return {name: run_check(trial, name) for name in names}


def _against(connector, sim, lab, **overrides):  # type: ignore[no-untyped-def]
    """Sync ``connector`` from ``sim`` with its kit settings changed by ``overrides``."""
    settings = connector_settings(connector, sim, lab.folder / "secrets", **overrides)
    return sync_into(lab.folder / f"run-{next(_folders)}", connector, settings, ("sch-lincoln",))


@pytest.fixture
def sim_of(lab):  # type: ignore[no-untyped-def]
    """``sim_of(connector, **behaviour)``: a running imitation of the connector's SIS, stopped after the test."""
    started = []

    def start(connector, **behaviour):  # type: ignore[no-untyped-def]
        bundle = bundle_for("", lab.folder / "district")
        started.append(simulator_profile(connector).simulator(bundle.path, **behaviour).start())
        return started[-1]

    yield start
    for sim in started:
        sim.stop()


def _ok(outcomes) -> None:  # type: ignore[no-untyped-def]
    failed = {name: o.detail for name, o in outcomes.items() if o.status != "ok"}
    assert not failed, failed


def test_every_named_habit_has_an_imitation():
    from rostersync.habits import HABITS

    assert set(IMITATIONS) == set(HABITS)
    with pytest.raises(ValueError, match="unknown server habits no-such-habit"):
        profile("t-typo", habits=("no-such-habit",))


def test_a_simulator_profile_is_the_profiles_server():
    from rostersync.profiles import api_connector

    sim = simulator_profile(api_connector(PROFILES["t-app-name"]))
    assert (sim.version, sim.base_path) == ("1.2", "/campus/api/oneroster/v1p2/district1/ims/oneroster/rostering/v1p2")
    assert (sim.token_path, dict(sim.token_query)) == ("/campus/oauth2/token", {"appName": "district1"})
    assert (sim.oauth1, sim.oauth2, sim.client_auth, sim.grant) == (False, True, ("basic",), "client_credentials")
    aeries_like = simulator_profile(api_connector(PROFILES["t-scopes"]))
    assert aeries_like.required_scopes == ("roster-core.readonly", "roster.readonly")
    relaxed = simulator_profile(api_connector(PROFILES["t-relaxed"])).behaviour
    assert (relaxed.page_clamp, relaxed.id_whitespace, relaxed.nulls, relaxed.string_booleans) == (50, True, True, True)


def test_password_grant_by_get(register, lab):
    [connector] = register(PROFILES["t-password-get"])
    outcomes = _checks(connector, lab, "sync", "same-roster", "fault-token-expiry")
    _ok(outcomes)
    sim = Trial(connector, lab).rig.sim  # a new rig: look at what one sync asks of the token endpoint
    result, _db = _against(connector, sim, lab)
    assert result.status == "ok", result.error
    tokens = [e for e in sim.log if e.path == "/oauth/token"]
    assert [(e.method, e.auth, e.query["grant_type"], e.query["username"]) for e in tokens] == [
        ("GET", "basic", "password", "rostersync-kit")]
    refused, _db = _against(connector, sim, lab, auth="oauth2-client-credentials")
    assert refused.status == "failed" and "unsupported_grant_type" in refused.error
    posted, _db = _against(connector, sim, lab, token_method="POST")
    assert posted.status == "failed" and "HTTP 405" in posted.error and "answers GET only" in posted.error


@pytest.mark.parametrize(("name", "wrong"), [("t-body", "basic"), ("t-both", "basic"), ("t-both", "body")])
def test_client_credentials_where_the_server_reads_them(register, lab, sim_of, name, wrong):
    [connector] = register(PROFILES[name])
    _ok(_checks(connector, lab, "sync", "same-roster"))
    refused, _db = _against(connector, sim_of(connector), lab, client_auth=wrong)
    assert refused.status == "failed" and "invalid_client" in refused.error
    assert "reads client credentials from: " + ("body" if name == "t-body" else "basic and body") in refused.error


def test_the_token_responses_cookie_is_replayed(register, lab, sim_of):
    [connector] = register(PROFILES["t-cookie"])
    _ok(_checks(connector, lab, "sync", "same-roster", "fault-token-expiry"))
    sim = sim_of(connector)
    token = httpx.post(sim.token_url, data={"grant_type": "client_credentials"},
                       auth=(sim.client_id, sim.client_secret)).raise_for_status()
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert httpx.get(f"{sim.base_url}/orgs", headers=bearer).status_code == 401  # another node
    assert httpx.get(f"{sim.base_url}/orgs", headers=bearer, cookies=token.cookies).status_code == 200


def test_an_expired_token_answered_500_is_renewed_with_refresh_on_500(register, lab, sim_of):
    [connector] = register(PROFILES["t-expired-500"])
    _ok(_checks(connector, lab, "sync", "same-roster", "fault-token-expiry"))
    failed, _db = _against(connector, sim_of(connector, token_max_uses=6), lab, refresh_on_500=False, retries=2)
    assert failed.status == "failed" and "HTTP 500" in failed.error and "Token has expired" in failed.error


def test_sort_keeps_an_unstable_server_in_order(register, lab):
    [connector] = register(PROFILES["t-unstable"])
    _ok(_checks(connector, lab, "sync", "same-roster"))
    trial = Trial(connector, lab)
    sim = trial.rig.sim
    assert {e.query.get("sort") for e in sim.log if e.path.endswith("/users")} <= {"sourcedId"}
    unsorted, db = _against(connector, sim, lab, sort="")
    assert unsorted.status == "failed" or differences(trial.reference(), roster_rows(db, connector.name))


def test_required_scopes_and_a_token_url_query(register, lab, sim_of):
    scopes, app = register(PROFILES["t-scopes"], PROFILES["t-app-name"])
    for connector in (scopes, app):
        _ok(_checks(connector, lab, "sync", "same-roster"))
    refused, _db = _against(scopes, sim_of(scopes), lab, scopes=["roster-core.readonly"])
    assert refused.status == "failed" and "invalid_scope" in refused.error and "roster.readonly" in refused.error
    sim = sim_of(app)
    refused, _db = _against(app, sim, lab, token_url=sim.token_url.split("?")[0])
    assert refused.status == "failed" and "must carry appName=district1" in refused.error


def test_an_oauth1_server_signs_every_request_and_issues_no_token(register, lab, sim_of):
    [connector] = register(PROFILES["t-oauth1"])
    outcomes = {o.check: o for o in check_connector(connector.name, lab)}
    assert outcomes["fault-token-expiry"].status == "skipped"
    _ok({n: o for n, o in outcomes.items() if n != "fault-token-expiry"})
    sim = sim_of(connector)
    signed, _db = _against(connector, sim, lab)
    assert signed.status == "ok" and {e.auth for e in sim.log} == {"oauth1:HMAC-SHA256"}
    refused, _db = _against(connector, sim, lab, auth="oauth2-client-credentials")
    assert refused.status == "failed" and "issues no tokens: it takes OAuth 1 signatures" in refused.error


@pytest.mark.parametrize(("name", "seen"), [("t-departments", "type='department' (expected 'school')"),
                                           ("t-norwegian", "role='ext:primaryGuardian' (expected 'guardian')")])
def test_data_habits_reach_the_store_only_through_their_quirk(register, lab, name, seen):
    import attrs

    with_quirk = PROFILES[name]
    without = attrs.evolve(with_quirk, name=f"{name}-raw", quirks=())
    fixed, raw = register(with_quirk, without)
    _ok(_checks(fixed, lab, "sync", "same-roster", "re-sync"))
    outcome = _checks(raw, lab, "same-roster")["same-roster"]
    assert outcome.status == "failed" and seen in outcome.detail, outcome.detail


def test_relaxed_payloads_and_a_page_cap(register, lab):
    [connector] = register(PROFILES["t-relaxed"])
    _ok(_checks(connector, lab, "sync", "same-roster", "re-sync"))
    sim = Trial(connector, lab).rig.sim
    _against(connector, sim, lab)
    assert {e.query.get("limit") for e in sim.requests("schools/sch-lincoln/enrollments")} == {"50"}


def test_the_kit_lists_its_checks_in_order():
    assert [c.name for c in CHECKS] == ["metadata", "settings-help", "secrets", "derived-urls", "sync",
                                        "same-roster", "re-sync", "fault-token-expiry", "fault-throttled",
                                        "fault-dropped-connection"]


def test_a_fixed_token_server_takes_its_token_and_issues_none(lab, sim_of):
    """A token handed out of band (ClassLink's OneRoster proxy): accepted as it is, never renewed."""
    from rostersync.profiles import api_connector

    connector = api_connector(profile("t-fixed", auth="bearer-token", token_url=""))
    shape = simulator_profile(connector)
    assert (shape.fixed_token, shape.oauth1, shape.oauth2) == (True, False, False)
    sim = sim_of(connector)
    token = {"Authorization": f"Bearer {sim.client_secret}"}
    assert httpx.get(f"{sim.base_url}/orgs", headers=token).status_code == 200
    assert httpx.get(f"{sim.base_url}/orgs", headers={"Authorization": "Bearer guessed"}).status_code == 401
    refused = httpx.post(sim.token_url, data={"grant_type": "client_credentials"}, auth=(sim.client_id, "x"))
    assert refused.status_code == 400 and "send the access token it gave you" in refused.text
