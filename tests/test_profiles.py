"""SIS connectors built from profiles: settings that ask what an operator knows, derived addresses, quirks."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from rostersync.batches import RawBatch
from rostersync.connector import Connector, Quirk
from rostersync.plugins import get_connectors, pm
from rostersync.profiles import ApiProfile, ByInput, Input, api_connector, normalise_base_url
from rostersync.transports.local_folder import LocalFolderSettings

pytest_plugins = ("api_fixtures",)


@pytest.mark.parametrize(("pasted", "version", "root"), [
    ("sis.example.org", "1.1", "https://sis.example.org/ims/oneroster/v1p1"),
    ("https://sis.example.org/", "1.2", "https://sis.example.org/ims/oneroster/rostering/v1p2"),
    ("https://sis.example.org/ims/oneroster/v1p1/users?limit=5", "1.1", "https://sis.example.org/ims/oneroster/v1p1"),
    ("https://sis.example.org/api/ims/oneroster/rostering/v1p2/", "1.2",
     "https://sis.example.org/api/ims/oneroster/rostering/v1p2"),
    ("http://127.0.0.1:8000/custom/root", "1.1", "http://127.0.0.1:8000/custom/root"),
])
def test_a_pasted_base_url_is_understood(pasted, version, root):
    assert normalise_base_url(pasted, version) == root


def test_an_operator_gives_only_what_they_know_and_sees_the_derived_addresses(cli, lincoln, project: Path,
                                                                              monkeypatch):
    monkeypatch.setenv("AERIES_SECRET", "not-a-real-secret")
    result = cli("enable", "lincoln", "aeries", "--set", "host=https://demo.aeries.net/", "--set", "path=aeries/",
                 "--set", "client_id=vendor-1", "--set", "client_secret=env:AERIES_SECRET", "--set", "retries=1")
    assert result.exit_code == 0, result.output
    assert "host" in (project / "rostersync.toml").read_text()
    shown = json.loads(cli("connectors", "show", "aeries", "--json").output)
    assert shown["derived_urls"] == {"base_url": "https://demo.aeries.net/aeries/ims/oneroster/v1p1",
                                     "token_url": "https://demo.aeries.net/aeries/token"}
    assert shown["basis"] == "vendor docs" and shown["sources"] and shown["setup"].startswith("Aeries: Security")
    required = {s["name"] for s in shown["settings"] if s["required"]}
    assert required == {"host", "client_id", "client_secret"}
    # check reports the addresses derived from this school's answers (the host is not reachable from here)
    checked = cli("check", "lincoln", "--json")
    steps = {s["step"]: s for s in json.loads(checked.output)}
    assert steps["settings"]["ok"]
    assert ("OneRoster 1.1 at https://demo.aeries.net/aeries/ims/oneroster/v1p1, oauth2-client-credentials, token URL "
            "https://demo.aeries.net/aeries/token") in steps["settings"]["detail"]


def test_a_missing_answer_or_a_page_size_over_the_cap_is_refused_at_enable(cli, lincoln):
    no_host = cli("enable", "lincoln", "aeries", "--set", "client_id=x", "--set", "client_secret=env:X")
    assert no_host.exit_code == 2 and "host: required setting is missing" in no_host.output


UNPUBLISHED = ApiProfile(name="quiet-sis", title="Quiet SIS", summary="An SIS that publishes nothing.",
                         basis="none public", page_size_cap=500, sort="sourcedId")
BY_PRODUCT = ApiProfile(
    name="two-products", title="Two products", summary="Base URL by product.", basis="integrator docs",
    inputs=(Input("host", "Host", kind="host"), Input("product", "Which product", choices=("new", "old"))),
    base_url=ByInput("product", {"new": "https://{host}/ims/oneroster/v1p1", "old": ""}),
    token_url="https://{host}/oauth/token")


def test_profile_settings_derive_urls_and_keep_the_kinds_validators():
    quiet = api_connector(UNPUBLISHED).settings
    from rostersync.secrets import SecretRef

    secret = SecretRef("env:X")
    with pytest.raises(TypeError):  # not public: the operator must give base_url
        quiet(client_id="c", client_secret=secret, token_url="https://t")
    with pytest.raises(ValueError, match="base_url is required"):  # set, but to nothing: not https:///ims/...
        quiet(base_url=" ", client_id="c", client_secret=secret, token_url="https://t")
    ok = quiet(base_url="sis.example.org", client_id="c", client_secret=secret, token_url="https://t")
    assert ok.api_root() == "https://sis.example.org/ims/oneroster/v1p1" and ok.sort == "sourcedId"
    with pytest.raises(ValueError, match="page_size: this SIS serves at most 500 rows a page"):
        quiet(base_url="h", client_id="c", client_secret=secret, token_url="https://t", page_size=1000)
    with pytest.raises(ValueError, match=r"version: '3\.0' is not one of"):
        quiet(base_url="h", client_id="c", client_secret=secret, token_url="https://t", version="3.0")

    two = api_connector(BY_PRODUCT).settings
    new = two(host="https://sis.example.org/", product="new", client_id="c", client_secret=secret)
    assert new.api_root() == "https://sis.example.org/ims/oneroster/v1p1"
    assert new.token_endpoint() == "https://sis.example.org/oauth/token"
    with pytest.raises(ValueError, match=r"base_url is required: no public documentation gives this SIS's "
                       r"OneRoster base URL for host=sis\.example\.org, product=old \(ask the vendor"):
        two(host="sis.example.org", product="old", client_id="c", client_secret=secret)
    assert two(host="h", product="old", client_id="c", client_secret=secret,
               base_url="https://proxy.example/sis").api_root() == "https://proxy.example/sis"


def test_profile_settings_compare_and_show_every_field_their_own_class_adds(monkeypatch):
    from rostersync.secrets import SecretRef

    monkeypatch.setenv("X", "the-secret-value")
    two = api_connector(BY_PRODUCT).settings
    a, b, c = (two(host=h, product="new", client_id="c", client_secret=SecretRef("env:X")) for h in ("h", "h", "g"))
    assert a == b and hash(a) == hash(b) and a != c and {a, b, c} == {a, c}
    assert "host='h'" in repr(a) and "client_secret=env:X" in repr(a) and "the-secret-value" not in repr(a)
    assert repr(a).startswith("TwoProductsApiSettings(")


def test_docs_name_exactly_the_addresses_no_public_source_gives():
    assert UNPUBLISHED.gaps() == [("base URL", "base_url"), ("token URL", "token_url")]
    assert "OneRoster base URL or token URL: ask the vendor" in UNPUBLISHED.docs()
    assert "set base_url and token_url." in UNPUBLISHED.docs()
    assert BY_PRODUCT.gaps() == [("base URL for product old", "base_url")]
    signed = ApiProfile(name="signed", title="Signed", summary="OAuth 1.", basis="none public",
                        auth="oauth1-hmac-sha1")  # no token URL to ask for
    assert signed.gaps() == [("base URL", "base_url")]
    token_only = ApiProfile(name="t", title="T", summary="s", basis="integrator docs", base_url="https://x.example")
    assert "OneRoster token URL: ask the vendor (or the district's SIS administrator) and set token_url." in \
        token_only.docs()
    derived = ApiProfile(name="d", title="D", summary="s", basis="vendor docs", base_url="https://x.example/ims",
                         token_url="https://x.example/token")
    assert derived.gaps() == [] and "ask the vendor" not in derived.docs()


def _shout(batch: RawBatch) -> RawBatch:
    """A test quirk: this 'SIS' sends given names in lower case."""
    if batch.entity != "users":
        return batch
    index = batch.header.index("givenName")
    rows = [(line, [*fields[:index], fields[index].upper(), *fields[index + 1:]]) for line, fields in batch.rows]
    return RawBatch(batch.format, batch.entity, batch.location, rows, batch.mode, batch.header, batch.warnings,
                    batch.errors)


class QuirkyPlugin:
    @staticmethod
    def rostersync_register_connectors(register):  # type: ignore[no-untyped-def]
        register(Connector(name="quirky-folder", title="Quirky", kind="local-folder", settings=LocalFolderSettings,
                           quirks=(Quirk("loud-names", "given names in capitals", ("oneroster-1.1-csv",), _shout),)))


@pytest.fixture
def quirky():  # type: ignore[no-untyped-def]
    from rostersync import hookimpl

    get_connectors()
    plugin = QuirkyPlugin()
    hookimpl(QuirkyPlugin.rostersync_register_connectors)
    pm.register(plugin, name="quirky")
    yield plugin
    pm.unregister(name="quirky")


def test_a_connectors_quirk_fixes_each_raw_batch_of_its_format(cli, lincoln, bundle: Path, project: Path, quirky):
    assert cli("enable", "lincoln", "quirky-folder", "--set", f"path={bundle}").exit_code == 0
    assert cli("sync", "lincoln").exit_code == 0
    with sqlite3.connect(project / "rostersync.db") as conn:
        names = [n for (n,) in conn.execute("SELECT given_name FROM users")]
    assert names and all(n == n.upper() for n in names)
    shown = json.loads(cli("connectors", "show", "quirky-folder", "--json").output)
    assert shown["quirks"] == [{"name": "loud-names", "description": "given names in capitals"}]
