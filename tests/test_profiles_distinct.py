"""Profiles are not one server in disguise: each SIS's connector, pointed at another SIS's imitation, is
refused for the reason the two SIS really differ in (OAuth 1 or 2, scopes, where the credentials go,
the token path and its query, how an expired token is answered), and syncs from its own. "server": the
connector is given the other server's addresses (so the first difference is in how it authenticates);
"own": its own paths on the other server's host.

Aeries is the shipped connector. Infinite Campus, ClassLink, FOCUS and Skyward are the shipped
connectors when installed, otherwise test profiles of the same shape (profile_helpers.LOOKALIKES,
from reference/sis.md's facts).
"""

from __future__ import annotations

import itertools

import attrs
import pytest
from profile_helpers import LOOKALIKES
from rostersync.plugins import get_connectors
from rostersync.testing.kit.bundles import bundle_for
from rostersync.testing.kit.trial import sync_into
from rostersync.testing.profile_server import connector_settings, relocated_urls, simulator_profile
from rostersync.testing.simulator import Behaviour

pytest_plugins = ("profile_fixtures",)
_runs = itertools.count()

#: (connector, the other SIS's server, pointed at: the server's addresses or its own, fault, what is said)
CASES = {
    "aeries-at-classlink": ("aeries", "classlink", "server", {},
                            ("could not get an access token", "unsupported_grant_type",
                             "it takes OAuth 1 signatures")),
    "aeries-at-focus": ("aeries", "focus", "server", {},
                        ("invalid_client", "reads client credentials from: basic and body")),
    "infinite-campus-at-aeries": ("infinite-campus", "aeries", "server", {},
                                  ("invalid_scope", "scope required: https://purl.imsglobal.org/spec/or/v1p1/")),
    "classlink-at-focus": ("classlink", "focus", "server", {},
                           ("HTTP 401", "takes OAuth 2 bearer tokens, not OAuth 1 signatures")),
    "focus-at-infinite-campus": ("focus", "infinite-campus", "own", {},
                                 ("could not get an access token", "HTTP 404",
                                  "no such path /focus/api/1.0/ims/oneroster/v1p1/token")),
    "focus-at-skyward-expiring": ("focus", "skyward", "server", {"expire_token": 1},
                                  ("HTTP 500", "Token has expired")),
    "skyward-at-infinite-campus": ("skyward", "infinite-campus", "server", {"token_url": "{root}/campus/oauth2/token"},
                                   ("could not get an access token", "must carry appName=")),
}


@pytest.fixture
def sis(register):  # type: ignore[no-untyped-def]
    installed = get_connectors()
    register(*(p for name, p in LOOKALIKES.items() if name not in installed))
    return get_connectors()


def _sync(connector, server, tmp_path, where="server", **changes):  # type: ignore[no-untyped-def]
    behaviour = {k: changes.pop(k) for k in list(changes) if k in attrs.fields_dict(Behaviour)}
    bundle = bundle_for("", tmp_path / "district")
    sim = simulator_profile(server).simulator(bundle.path, **behaviour).start()
    try:
        changes = {k: v.format(root=sim.root) if isinstance(v, str) else v for k, v in changes.items()}
        settings = connector_settings(connector, sim, tmp_path / "secrets", retries=2, **changes)
        if where == "own":
            settings.update(relocated_urls(connector, sim))
        result, _db = sync_into(tmp_path / f"run-{next(_runs)}", connector, settings, bundle.org_ids)
    finally:
        sim.stop()
    return result


@pytest.mark.parametrize("case", CASES)
def test_a_connector_is_refused_by_another_sis_for_the_documented_reason(sis, tmp_path, case):
    subject, server, where, changes, said = CASES[case]
    result = _sync(sis[subject], sis[server], tmp_path, where, **changes)
    assert result.status == "failed"
    for words in said:
        assert words in result.error, result.error


@pytest.mark.parametrize("name", ["aeries", "infinite-campus", "classlink", "focus", "skyward"])
def test_each_connector_syncs_from_its_own_sis(sis, tmp_path, name):
    result = _sync(sis[name], sis[name], tmp_path, expire_token=1)  # its token expiring mid-sync
    assert result.status == "ok", result.error
