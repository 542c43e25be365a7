"""The built-in SIS connectors as operators meet them: listed, documented, sourced, and enabled with only what
an operator knows. One parametrised case per connector, from the profiles registered in rostersync_connectors.sis."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from rostersync.connector import BASES, describe_settings, example_urls, setting_fields
from rostersync.plugins import get_connector
from rostersync.profiles import ApiProfile, ByInput, SftpProfile
from rostersync.secrets import SecretRef
from rostersync_connectors.sis import API_PROFILES, SFTP_PROFILES

pytest_plugins = ("api_fixtures",)

PROFILES: list[ApiProfile | SftpProfile] = [*API_PROFILES, *SFTP_PROFILES]
NAMES = [p.name for p in PROFILES]
TAGS = ("[doc]", "[3p]", "[code]", "[weak]")


def test_every_sis_connector_is_listed_with_kind_package_version_and_basis(run_cli):
    listed = json.loads(run_cli("connectors", "list", "--json").stdout)  # the installed script, as operators run it
    by_name = {row["name"]: row for row in listed}
    assert len(set(NAMES)) == len(NAMES) and set(NAMES) <= set(by_name)
    for profile in PROFILES:
        row = by_name[profile.name]
        kind = "oneroster-api" if isinstance(profile, ApiProfile) else "sftp"
        assert (row["kind"], row["basis"], row["package"]) == (kind, profile.basis, "rostersync")
        assert row["version"] and row["title"] == profile.title


@pytest.mark.parametrize("profile", PROFILES, ids=NAMES)
def test_every_setting_has_help_and_every_secret_is_a_secret_ref(profile):
    connector = get_connector(profile.name)
    assert connector.basis in BASES and connector.docs.startswith(profile.summary)
    for field in setting_fields(connector):
        assert field.metadata.get("help", "").strip(), f"{profile.name}: setting {field.name} has no help"
        assert bool(field.metadata.get("secret")) == (field.type in (SecretRef, SecretRef | None)), field.name
    secrets = {s.name for s in describe_settings(connector) if s.secret}
    assert {"client_secret"} <= secrets if isinstance(profile, ApiProfile) else {"password", "private_key"} <= secrets


def _templates(profile: ApiProfile) -> list[str]:
    out = []
    for template in (profile.base_url, profile.token_url):
        out += list(template.templates.values()) if isinstance(template, ByInput) else [template]
    return [t for t in out if t]


@pytest.mark.parametrize("profile", API_PROFILES, ids=[p.name for p in API_PROFILES])
def test_inputs_have_examples_and_templates_use_only_inputs_and_give_https_urls(profile):
    inputs = {i.name: i for i in profile.inputs}
    assert all(i.example and i.help for i in profile.inputs), profile.name
    for template in _templates(profile):
        used = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        assert used <= set(inputs), f"{profile.name}: {template} uses {used - set(inputs)}"
    for template in (profile.base_url, profile.token_url):
        if isinstance(template, ByInput):  # chosen by an answer: every choice has a template (maybe '')
            assert set(template.templates) == set(inputs[template.input].choices)
    urls = example_urls(get_connector(profile.name))
    for key in ("base_url", "token_url"):
        template = getattr(profile, key)
        if template:
            parts = urlsplit(urls[key])
            assert parts.scheme == "https" and parts.netloc and not set("{}<> ") & set(urls[key]), urls[key]
        else:
            assert urls[key] == ""


@pytest.mark.parametrize("profile", PROFILES, ids=NAMES)
def test_facts_have_sources_and_unpublished_ones_say_ask_the_vendor(profile, cli):
    shown = json.loads(cli("connectors", "show", profile.name, "--json").output)
    if profile.basis != "none public":
        assert profile.sources, f"{profile.name} rests on {profile.basis} but cites nothing"
    for source in profile.sources:
        assert source.where and source.fact and source.tag in TAGS, source
    assert shown["sources"] == [{"where": s.where, "tag": s.tag, "fact": s.fact} for s in profile.sources]
    unpublished = profile.basis == "none public" or (isinstance(profile, ApiProfile) and profile.gaps())
    assert ("ask the vendor" in shown["docs"]) == bool(unpublished), profile.name
    if profile.homepage:
        assert urlsplit(profile.homepage).scheme == "https"


def _answers(profile: ApiProfile) -> dict[str, str]:
    """What an operator types: each input's example, the credentials, and the addresses not public."""
    values = {i.name: i.example for i in profile.inputs}
    values["client_secret"] = "env:SIS_TEST_SECRET"
    if any(s.name == "client_id" and s.required for s in describe_settings(get_connector(profile.name))):
        values["client_id"] = "vendor-1"  # not for a fixed bearer token (classlink-proxy)
    for _what, setting_name in profile.gaps():
        if setting_name == "base_url" and not isinstance(profile.base_url, ByInput):
            values["base_url"] = "https://sis.example.org/ims/oneroster/v1p1"
        if setting_name == "token_url":
            values["token_url"] = "https://sis.example.org/oauth/token"
    return values


@pytest.mark.parametrize("profile", API_PROFILES, ids=[p.name for p in API_PROFILES])
def test_an_operator_enables_each_api_connector_with_only_what_they_know(profile, cli, lincoln, monkeypatch):
    monkeypatch.setenv("SIS_TEST_SECRET", "not-a-real-secret")
    values = _answers(profile)
    shown = json.loads(cli("connectors", "show", profile.name, "--json").output)
    required = {s["name"] for s in shown["settings"] if s["required"]}
    assert required <= set(values), f"{profile.name} asks for {required - set(values)}"
    args = [a for k, v in values.items() for a in ("--set", f"{k}={v}")]
    result = cli("enable", "lincoln", profile.name, *args)
    assert result.exit_code == 0, result.output
    assert "not-a-real-secret" not in result.output + (Path.cwd() / "rostersync.toml").read_text()


@pytest.mark.parametrize("profile", SFTP_PROFILES, ids=[p.name for p in SFTP_PROFILES])
def test_an_operator_enables_each_sftp_connector_with_their_server(profile, cli, lincoln):
    result = cli("enable", "lincoln", profile.name, "--set", "host=sftp.example.org", "--set", "username=district",
                 "--set", "remote_path=/exports/roster", "--set", "password=env:SFTP_PASSWORD")
    assert result.exit_code == 0, result.output
    settings = get_connector(profile.name).settings
    assert settings.__attrs_attrs__.format.default == profile.format  # type: ignore[attr-defined]
    vendor = {"tyler-sis": "tyler-sis-dw", "realtime": "realtime-eds", "asb-works": "asb-works"}
    assert profile.format == vendor.get(profile.name, "auto")  # a vendor layout names its column map


def _settings(name: str, **values: Any) -> Any:
    connector = get_connector(name)
    profile = connector.settings.profile  # type: ignore[attr-defined]
    return connector.settings(**{**_answers(profile), "client_secret": SecretRef("env:X"), **values})


@pytest.mark.parametrize(("name", "setting", "value"), [
    ("skyward", "timeout", 900.0), ("skyward", "refresh_on_500", True), ("skyward", "page_size", 1000),
    ("skyward", "deadline", 1800.0), ("saphirek12", "sort", "sourcedId"), ("smartschool", "client_auth", "body"),
    ("eschoolplus", "auth", "oauth1-hmac-sha1"), ("classlink", "auth", "oauth1-hmac-sha256"),
    ("classlink-proxy", "auth", "bearer-token"), ("classlink-proxy", "client_id", ""), ("focus", "client_auth", "both"),
    ("infinite-campus", "version", "1.2"), ("vigilo", "version", "1.2"), ("skool", "version", "1.2"),
    ("aeries", "scopes", ("https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly",
                          "https://purl.imsglobal.org/spec/or/v1p1/scope/roster-demographics.readonly")),
])
def test_profiles_set_the_defaults_their_sources_give(name, setting, value):
    assert getattr(_settings(name), setting) == value


@pytest.mark.parametrize(("name", "answers", "base", "token"), [
    ("infinite-campus", {"host": "https://campus.example.org/campus/", "app_name": "acme"},
     "https://campus.example.org/campus/api/ims/oneroster/rostering/v1p2",
     "https://campus.example.org/campus/oauth2/token?appName=acme"),
    ("vigilo", {"org_id": "ude.oslo.kommune.no", "environment": "staging"},
     "https://api.staging.onedhub.io/ude.oslo.kommune.no/ims/oneroster/rostering/v1p2",
     "https://id.staging.onedhub.io/realms/onedhub/protocol/openid-connect/token"),
    ("vigilo", {"org_id": "vigilo.no"}, "https://api.onedhub.io/vigilo.no/ims/oneroster/rostering/v1p2",
     "https://id.onedhub.io/realms/onedhub/protocol/openid-connect/token"),
    ("follett-aspen", {"host": "aspen.example.org", "path": "aspen/"}, "https://aspen.example.org/aspen/ims/oneroster/"
     "v1p1", "https://aspen.example.org/aspen/oauth/rest/v2.0/auth"),
    ("smartschool", {"subdomain": "sint-jan"}, "https://sint-jan.smartschool.be/ims/oneroster/v1p1",
     "https://sint-jan.smartschool.be/ims/oneroster/token"),
    ("powerschool", {"host": "ps.example.org", "base_url": "ps.example.org/api/ims/oneroster/v1p1/orgs"},
     "https://ps.example.org/api/ims/oneroster/v1p1", "https://ps.example.org/oauth/access_token"),
])
def test_addresses_are_derived_from_the_answers(name, answers, base, token):
    settings = _settings(name, **answers)
    assert (settings.api_root(), settings.token_endpoint()) == (base, token)


def test_skyward_sms2_has_no_public_base_url_so_the_operator_pastes_one(cli, lincoln, monkeypatch):
    monkeypatch.setenv("SIS_TEST_SECRET", "x")
    common = ["--set", "host=skyward.example.org", "--set", "product=sms2", "--set", "client_id=key", "--set",
              "client_secret=env:SIS_TEST_SECRET", "--set", "token_url=https://skyward.example.org/token"]
    refused = cli("enable", "lincoln", "skyward", *common)
    assert refused.exit_code == 2
    assert ("base_url is required: no public documentation gives this SIS's OneRoster base URL for "
            "host=skyward.example.org, product=sms2 (ask the vendor") in " ".join(refused.output.split())
    pasted = cli("enable", "lincoln", "skyward", *common, "--set", "base_url=https://skyward.example.org/api/x")
    assert pasted.exit_code == 0, pasted.output
    docs = json.loads(cli("connectors", "show", "skyward", "--json").output)["docs"]
    assert "OneRoster base URL for product sms2 or token URL: ask the vendor" in docs


def test_a_page_size_over_an_sis_cap_is_refused():
    with pytest.raises(ValueError, match="this SIS serves at most 1000 rows a page"):
        _settings("powerschool", page_size=5000)
    with pytest.raises(ValueError, match="this SIS serves at most 10000 rows a page"):
        _settings("classlink", page_size=20000)


def test_connectors_show_prints_source_tags_as_written(cli):
    """Regression: rich read the tag [code] in a table cell as a style and printed nothing."""
    shown = cli("connectors", "show", "skyward").output
    assert shown.count("[code]") == sum(s.tag == "[code]" for s in get_connector("skyward").sources) > 0
    assert "[3p]" in shown
