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
    from rostersync.connector import Connector, setting
    from rostersync.secrets import SecretRef

    @attrs.frozen
    class Settings:
        base_url: str = setting("API root")
        client_secret: SecretRef = setting("OAuth client secret", secret=True)

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
                                    "kind": "local-folder", "version": rostersync.__version__,
                                    "package": "rostersync"}


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


def test_every_hookspec_is_implemented_by_a_builtin():
    implemented = {hook for plugin in get_plugins() for hook in plugin["hooks"]}
    specs = {name for name in dir(hookspecs) if name.startswith("rostersync_")}
    assert specs == implemented


def test_connectors_list_is_fast_enough_to_import(tmp_path):
    """Listing must not import the heavy transports (paramiko, httpx)."""
    code = ("import sys; from rostersync.cli import main\n"
            "try:\n    main(['connectors', 'list', '--json'])\nexcept SystemExit:\n    pass\n"
            "print('paramiko' in sys.modules, 'httpx' in sys.modules, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stderr.strip().splitlines()[-1] == "False False"
