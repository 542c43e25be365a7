"""Connector discovery: built-ins and third-party plugins through the same entry-point group."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from plugin_helpers import install_plugin
from rostersync import hookspecs
from rostersync.errors import ConfigError
from rostersync.plugins import get_connectors, get_plugins, pm

PLUGIN_SOURCE = textwrap.dedent('''
    import attrs
    from rostersync import hookimpl
    from rostersync.api.settings import AUTH_MODES, OneRosterApiSettings
    from rostersync.connector import Connector, choice, setting

    @attrs.frozen
    class Settings(OneRosterApiSettings):
        """An SIS that signs with OAuth 1 and has one well-known consumer key."""

        client_id: str = setting("Consumer key", default="acme")
        auth: str = choice("How requests are authorised", AUTH_MODES, default="oauth1-hmac-sha256")

    @hookimpl
    def rostersync_register_connectors(register):
        register(Connector(name="acme-sis", title="Acme SIS", kind="oneroster-api", settings=Settings,
                           docs="A throwaway third-party connector."))
''')


@pytest.fixture
def installed_plugin(tmp_path: Path) -> dict[str, str]:
    """A real installed distribution (dist-info with an entry point) on a PYTHONPATH folder."""
    site = install_plugin(tmp_path / "site", "acme_rostersync", PLUGIN_SOURCE, "acme-rostersync", "acme", "2.5.0")
    return {**os.environ, "PYTHONPATH": str(site)}


def _list(run_cli, env):  # type: ignore[no-untyped-def]
    result = run_cli("connectors", "list", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return {c["name"]: c for c in json.loads(result.stdout)}


def test_builtin_connector_is_listed_with_package_and_version(run_cli):
    import rostersync

    listed = _list(run_cli, None)
    assert listed["csv-folder"] == {"name": "csv-folder",
                                    "title": "Roster CSV files (OneRoster 1.1/1.2 or Clever) in a local folder or zip",
                                    "kind": "local-folder", "basis": "generic",
                                    "version": rostersync.__version__, "package": "rostersync"}


def test_an_installed_third_party_plugin_is_listed(run_cli, installed_plugin):
    listed = _list(run_cli, installed_plugin)
    assert listed["acme-sis"]["package"] == "acme-rostersync"
    assert listed["acme-sis"]["version"] == "2.5.0"
    assert "csv-folder" in listed
    shown = run_cli("connectors", "show", "acme-sis", "--json", env=installed_plugin)
    settings = {s["name"]: s for s in json.loads(shown.stdout)["settings"]}
    assert settings["client_secret"]["secret"] is True and settings["base_url"]["required"] is True


def test_load_plugins_env_var_limits_third_party_plugins_only(run_cli, installed_plugin):
    listed = _list(run_cli, {**installed_plugin, "ROSTERSYNC_LOAD_PLUGINS": ""})
    assert "acme-sis" not in listed and "csv-folder" in listed
    listed = _list(run_cli, {**installed_plugin, "ROSTERSYNC_LOAD_PLUGINS": "acme"})
    assert "acme-sis" in listed


class DuplicatePlugin:
    @staticmethod
    @hookspecs.hookimpl
    def rostersync_register_connectors(register):  # type: ignore[no-untyped-def]
        from rostersync_connectors.csv_folder import CSV_FOLDER

        register(CSV_FOLDER)


@pytest.fixture
def registered(request):  # type: ignore[no-untyped-def]
    """Register a plugin object for one test (like llm's and datasette's test fixtures)."""
    get_connectors()  # make sure the built-ins are loaded first
    plugin = request.param
    pm.register(plugin, name="test-plugin")
    yield plugin
    pm.unregister(name="test-plugin")


@pytest.mark.parametrize("registered", [DuplicatePlugin], indirect=True)
def test_a_second_connector_with_a_taken_name_is_refused_loudly(registered):
    with pytest.raises(ConfigError, match="two plugins register a connector named 'csv-folder'"):
        get_connectors()


def test_every_hookspec_is_documented_and_implemented(run_cli, tmp_path):
    """Each hook has a section in CONTRIBUTING.md and an implementation by a built-in (register_commands:
    the dropbox commands and the testing kit's simulate-clever)."""
    implemented = {hook for plugin in get_plugins() for hook in plugin["hooks"]}
    specs = {name for name in dir(hookspecs) if name.startswith("rostersync_")}
    assert specs - implemented == set()
    guide = (Path(__file__).parents[1] / "CONTRIBUTING.md").read_text()
    assert [spec for spec in specs if f"`{spec}(" not in guide] == []


CLASH_SOURCE = textwrap.dedent('''
    import attrs
    from rostersync import hookimpl
    from rostersync.formats import Format
    from rostersync.transport import Transport
    from rostersync.transports.local_folder import LocalFolderSettings, check, fetch

    WHAT = "{what}"

    @hookimpl
    def rostersync_register_transports(register):
        if WHAT == "transport":
            register(Transport("local-folder", "A second local folder", LocalFolderSettings, fetch, check))

    @hookimpl
    def rostersync_register_formats(register):
        if WHAT == "format":
            register(Format("oneroster-1.1-csv", "A second 1.1 reader", lambda batch: None))
''')


@pytest.mark.parametrize(("what", "message"), [
    ("transport", "two plugins register a transport for kind 'local-folder': "),
    ("format", "two plugins register a format named 'oneroster-1.1-csv': "),
])
def test_a_second_transport_or_format_of_a_taken_name_is_refused_naming_both_packages(run_cli, tmp_path, what,
                                                                                    message):
    site = install_plugin(tmp_path / "site", "clash_rostersync", CLASH_SOURCE.format(what=what), "clash-rostersync",
                          "clash", "1.0")
    result = run_cli("connectors", "list", env={**os.environ, "PYTHONPATH": str(site)})
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert "clash-rostersync" in result.stderr and " rostersync" in result.stderr  # both packages, either order


BROKEN_CONNECTOR_SOURCE = textwrap.dedent('''
    import attrs
    from rostersync import hookimpl
    from rostersync.api.settings import VERSIONS, OneRosterApiSettings
    from rostersync.connector import Connector, choice, setting

    @attrs.frozen
    class Plain:
        base_url: str = setting("API root")

    @attrs.frozen
    class ZeroPages(OneRosterApiSettings):
        page_size: int = setting("Rows per page", default=0)

    @attrs.frozen
    class BadVersion(OneRosterApiSettings):
        version: str = choice("OneRoster version", VERSIONS, default="9.9")

    KINDS = {{"typo": ("oneroster_api", OneRosterApiSettings), "plain": ("oneroster-api", Plain),
              "unchecked": ("oneroster-api", ZeroPages), "default": ("oneroster-api", BadVersion)}}

    @hookimpl
    def rostersync_register_connectors(register):
        kind, settings = KINDS["{case}"]
        register(Connector(name="broken-sis", title="Broken SIS", kind=kind, settings=settings))
''')


@pytest.mark.parametrize(("case", "message"), [
    ("typo", "connector broken-sis (broken-rostersync) is of kind 'oneroster_api', which no installed transport "
             "provides (installed kinds: clever-api, dropbox, local-folder, oneroster-api, sftp)"),
    ("plain", "its settings class 'Plain' must be or subclass rostersync.api.settings.OneRosterApiSettings"),
    ("unchecked", "setting page_size drops the validator of kind 'oneroster-api'"),
    ("default", "invalid default for setting version: '9.9' is not one of: 1.1, 1.2"),
])
def test_a_connector_that_does_not_fit_its_kind_is_refused_when_plugins_load(run_cli, tmp_path, case, message):
    site = install_plugin(tmp_path / "site", "broken_rostersync", BROKEN_CONNECTOR_SOURCE.format(case=case),
                          "broken-rostersync", "broken", "1.0")
    result = run_cli("connectors", "list", env={**os.environ, "PYTHONPATH": str(site)})
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split()) and "Traceback" not in result.stderr


COMMAND_SOURCE = textwrap.dedent('''
    import click
    from rostersync import hookimpl

    @hookimpl
    def rostersync_register_commands(cli):
        @cli.command()
        @click.argument("name")
        def hello(name):
            """Say hello (a plugin's command)."""
            click.echo(f"hello {name} from a plugin")
''')


def test_a_plugin_adds_a_command(run_cli, tmp_path):
    site = install_plugin(tmp_path / "site", "hello_rostersync", COMMAND_SOURCE, "hello-rostersync", "hello", "1.0")
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = run_cli("hello", "world", env=env)
    assert result.returncode == 0 and result.stdout.strip() == "hello world from a plugin"
    assert "Say hello" in run_cli("--help", env=env).stdout


def test_connectors_list_is_fast_enough_to_import(tmp_path):
    """Listing must not import the heavy transports (paramiko, httpx), the web view's stack nor the
    conformance kit (and pytest with it)."""
    code = ("import sys; from rostersync.cli import main\n"
            "try:\n    main(['connectors', 'list', '--json'])\nexcept SystemExit:\n    pass\n"
            "print('paramiko' in sys.modules, 'httpx' in sys.modules, file=sys.stderr)\n"
            "print(sorted(m for m in ('starlette', 'jinja2', 'uvicorn', 'argon2', 'rostersync.testing.kit', 'pytest') "
            "if m in sys.modules), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stderr.strip().splitlines()[-2:] == ["False False", "[]"]
