"""Simulator profiles: the loopback OneRoster server imitating one SIS, built from its connector's facts.

A connector built from an :class:`~rostersync.profiles.ApiProfile` says what its SIS's API looks like:
base URL and token URL templates (filled here with each input's example answer), OneRoster version,
OAuth 1 or 2, the grant and where the client credentials go, the token request's method, its scopes,
the page-size cap and the server's habits (:data:`rostersync.habits.HABITS`). :func:`simulator_profile`
turns those facts into a :class:`SimulatorProfile`, and :meth:`SimulatorProfile.start` runs a
:class:`~rostersync.testing.simulator.Simulator` that is *that* server and no other: mounted at the
SIS's base path, issuing tokens only at its token path (with the query it wants), only by its
method, only for its grant and credential placement, OAuth 1 or OAuth 2 (or a fixed bearer token
issued out of band) but not two of them, refusing a
token request without the scopes it requires, and with its habits on. So a connector that is right
for its SIS passes, and the same connector pointed at another SIS's profile is refused for a reason
one can name (tests/test_profiles_distinct.py).

A connector that is not built from a profile (the generic ``oneroster-api``, or a third party's own
settings class) meets the spec-exact server at the spec's paths, speaking every flavour the spec
allows, in its settings' default version.

Example::

    with simulator_for(get_connector("aeries"), bundle) as sim:
        settings = connector_settings(get_connector("aeries"), sim, secrets_folder)
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs

from rostersync.connector import Connector, example_urls
from rostersync.testing.oneroster_server import AuthPolicy, Behaviour, Paths, Simulator
from rostersync.testing.oneroster_server.auth import TOKEN_PATH

#: the load balancer cookie the ``cookie-affinity`` habit sets (AWS ALB's name, as Aeries's sites use)
AFFINITY_COOKIE = "AWSALB"
#: settings that keep a sync against the loopback server quick (real servers want the defaults)
FAST = {"backoff": 0.01, "timeout": 10.0, "connect_timeout": 5.0, "retries": 4}


@attrs.frozen
class SimulatorProfile:
    """How the loopback server behaves when it imitates one SIS (see the module docstring)."""

    name: str
    version: str = "1.1"
    base_path: str = ""  # the rostering service's path; '' = the spec's for ``version``
    token_path: str = TOKEN_PATH
    token_query: Mapping[str, str] = attrs.Factory(dict)
    token_method: str = "POST"
    oauth1: bool = True
    oauth2: bool = True
    client_auth: tuple[str, ...] = ("basic", "body")
    grant: str = "client_credentials"
    required_scopes: tuple[str, ...] = ()
    affinity_cookie: str = ""
    expired_status: int = 401
    fixed_token: bool = False  # a token issued out of band (the client secret), never renewed
    behaviour: Behaviour = attrs.Factory(Behaviour)
    habits: tuple[str, ...] = ()

    def auth_policy(self, client_id: str, client_secret: str, password: str = "") -> AuthPolicy:
        return AuthPolicy(client_id, client_secret, token_path=self.token_path, oauth1=self.oauth1,
                          oauth2=self.oauth2, client_auth=self.client_auth, token_method=self.token_method,
                          token_query=self.token_query, grant=self.grant,
                          username="rostersync-kit" if self.grant == "password" else "", password=password,
                          required_scopes=self.required_scopes, affinity_cookie=self.affinity_cookie,
                          expired_status=self.expired_status, fixed_token=client_secret if self.fixed_token else "")

    def simulator(self, bundle: Path, **behaviour: Any) -> Simulator:
        """A simulator (not started) serving ``bundle`` as this SIS; ``behaviour`` adds habits for a test
        (``token_max_uses=3``, ``throttle_every=4``...) on top of the profile's own."""
        password = secrets.token_urlsafe(16) if self.grant == "password" else ""
        auth = self.auth_policy(f"{self.name}-client", secrets.token_urlsafe(24), password)
        return Simulator(bundle, version=self.version, paths=Paths.default(self.version, self.base_path or None),
                         auth=auth, behaviour=attrs.evolve(self.behaviour, **behaviour))


Imitation = Callable[[SimulatorProfile, Any], SimulatorProfile]

#: habit -> how the simulator imitates it (given the simulator profile so far and the connector's ApiProfile)
IMITATIONS: dict[str, Imitation] = {
    "scopes-required": lambda s, p: attrs.evolve(s, required_scopes=tuple(p.scopes)),
    "cookie-affinity": lambda s, _p: attrs.evolve(s, affinity_cookie=AFFINITY_COOKIE),
    "expired-token-500": lambda s, _p: attrs.evolve(s, expired_status=500),
    "unstable-order": lambda s, _p: _behave(s, unstable_order=True),
    "department-orgs": lambda s, _p: _behave(s, department_orgs=True),
    "padded-ids": lambda s, _p: _behave(s, id_whitespace=True),
    "null-fields": lambda s, _p: _behave(s, nulls=True),
    "string-booleans": lambda s, _p: _behave(s, string_booleans=True),
    "norwegian-roles": lambda s, _p: _behave(s, norwegian_roles=True),
}


def _behave(profile: SimulatorProfile, **changes: Any) -> SimulatorProfile:
    return attrs.evolve(profile, behaviour=attrs.evolve(profile.behaviour, **changes))


def _default(connector: Connector, name: str) -> Any:
    field = attrs.fields_dict(connector.settings)[name]
    return field.default


def _split(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path.rstrip("/"), dict(parse_qsl(parts.query, keep_blank_values=True))


def simulator_profile(connector: Connector) -> SimulatorProfile:
    """The server ``connector``'s SIS runs, from its profile (or the spec-exact server without one)."""
    if connector.kind != "oneroster-api":
        raise ValueError(f"connector {connector.name} is of kind {connector.kind}, not oneroster-api")
    version = _default(connector, "version")
    profile = getattr(connector.settings, "profile", None)
    if profile is None:
        return SimulatorProfile(connector.name, version=version, oauth1=version == "1.1")
    urls = example_urls(connector)
    base_path, _query = _split(urls.get("base_url", ""))
    token_path, token_query = _split(urls.get("token_url", ""))
    auth = _default(connector, "auth")
    client_auth = _default(connector, "client_auth")
    cap = profile.page_size_cap
    sim = SimulatorProfile(
        connector.name, version=version, base_path=base_path, token_path=token_path or TOKEN_PATH,
        token_query=token_query, token_method=_default(connector, "token_method"),
        oauth1=auth.startswith("oauth1"), oauth2=auth.startswith("oauth2"), fixed_token=auth == "bearer-token",
        client_auth=(client_auth,),
        grant="password" if auth == "oauth2-password" else "client_credentials",
        behaviour=Behaviour(page_clamp=cap or None), habits=tuple(profile.habits))
    for habit in profile.habits:
        sim = IMITATIONS[habit](sim, profile)
    return sim


def simulator_for(connector: Connector, bundle: Path, **behaviour: Any) -> Simulator:
    """A started simulator imitating ``connector``'s SIS and serving ``bundle`` (a context manager:
    ``with simulator_for(c, bundle) as sim:``; or call ``stop()``)."""
    return simulator_profile(connector).simulator(bundle, **behaviour).start()


def write_secret(folder: Path, name: str, value: str) -> str:
    """``value`` in a private file under ``folder``; returns its ``file:`` reference."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / name
    path.write_text(value, encoding="utf-8")
    path.chmod(0o600)
    return f"file:{path}"


def example_answers(connector: Connector) -> dict[str, str]:
    """Each of a profile connector's operator inputs answered with its example (or its default)."""
    profile = getattr(connector.settings, "profile", None)
    inputs = getattr(profile, "inputs", ())
    return {i.name: i.example or (i.default if i.default is not None else i.choices[0] if i.choices else "x")
            for i in inputs}


def connector_settings(connector: Connector, sim: Simulator, secrets_folder: Path, **overrides: Any
                       ) -> dict[str, Any]:
    """The settings of ``connector`` for a school syncing from ``sim``: what an operator knows (each
    input's example answer), the simulator's client credentials (as private ``file:`` secrets), the
    simulator's addresses as the ``base_url``/``token_url`` overrides, and quick retries."""
    values: dict[str, Any] = {**example_answers(connector), **FAST}
    values.update(base_url=sim.base_url, token_url=sim.token_url, client_id=sim.client_id,
                  client_secret=write_secret(secrets_folder, "client_secret", sim.client_secret))
    if sim.auth.grant == "password":
        values.update(username=sim.auth.username,
                      password=write_secret(secrets_folder, "password", sim.auth.password))
    values.update(overrides)
    return values


def relocated_urls(connector: Connector, sim: Simulator) -> dict[str, str]:
    """``connector``'s own derived addresses (from its inputs' examples) moved onto ``sim``'s host: point a
    connector at another SIS's server *with its own paths*, to see what that server makes of it."""
    out = {}
    for key, url in example_urls(connector).items():
        if url:
            parts = urlsplit(url)
            out[key] = sim.root + parts.path + (f"?{parts.query}" if parts.query else "")
    return out
