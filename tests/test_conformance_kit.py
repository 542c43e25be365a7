"""The conformance kit: its pytest class (as a connector's author uses it), ``rostersync connectors test`` for
one connector, for a broken one, and for every installed connector as a subprocess (what CI runs)."""

from __future__ import annotations

import json
import subprocess

import attrs
from conftest import rostersync_exe
from profile_helpers import profile
from rostersync.api.settings import OneRosterApiSettings
from rostersync.connector import Connector
from rostersync.profiles import Input
from rostersync.testing import conformance_suite

pytest_plugins = ("profile_fixtures",)

# what a connector's author writes (here for a built-in SFTP connector: the sshd and the drop too)
TestSftpCsv = conformance_suite("sftp-csv")


def _outcomes(result):  # type: ignore[no-untyped-def]
    return {(o["connector"], o["check"]): o for o in json.loads(result.output)}


def test_connectors_test_reports_each_check(cli):
    result = cli("connectors", "test", "aeries", "csv-folder", "--json", "--jobs", "1")
    assert result.exit_code == 0, result.output
    outcomes = _outcomes(result)
    assert {c for c, _check in outcomes} == {"aeries", "csv-folder"}
    assert outcomes["aeries", "same-roster"]["status"] == "ok"
    assert outcomes["aeries", "fault-dropped-connection"]["detail"].startswith("survived: the connection drops")
    assert outcomes["csv-folder", "fault-throttled"]["status"] == "skipped"
    table = cli("connectors", "test", "csv-folder")
    assert table.exit_code == 0 and "same-roster" in table.output and "1 connector(s) tested in" in table.output


@attrs.frozen
class CarelessSettings(OneRosterApiSettings):
    api_key: str = attrs.field(default="", kw_only=True)  # no help, and a secret held as plain text


def test_a_careless_connector_fails_naming_what_to_fix(cli, register):
    unstable = profile("t-careless", habits=("unstable-order",), page_size=25,
                       inputs=(Input("host", "Host", kind="host"),))  # no example: the URLs cannot be shown
    careless = Connector(name="Careless_SIS", title="", kind="oneroster-api", settings=CarelessSettings)
    register(unstable, careless)
    result = cli("connectors", "test", "t-careless", "Careless_SIS", "--json", "--jobs", "2")
    assert result.exit_code == 1
    outcomes = _outcomes(result)
    failed = {key: o["detail"] for key, o in outcomes.items() if o["status"] == "failed"}
    assert "has an unfilled part (give every input an example)" in failed["t-careless", "derived-urls"]
    # no sort on a server without a stable order: rows repeated or lost across pages
    assert ("t-careless", "same-roster") in failed or ("t-careless", "sync") in failed
    assert "name 'Careless_SIS' is not kebab-case" in failed["Careless_SIS", "metadata"]
    assert "title is empty" in failed["Careless_SIS", "metadata"]
    assert failed["Careless_SIS", "settings-help"].startswith("settings without help text: api_key")
    assert "not marked secret: api_key" in failed["Careless_SIS", "secrets"]
    assert outcomes["Careless_SIS", "same-roster"]["status"] == "ok"  # what it syncs is right, all the same
    table = cli("connectors", "test", "Careless_SIS", "--jobs", "1")
    assert table.exit_code == 1 and "FAILED" in table.output and "1 failed: Careless_SIS" in table.output


def test_connectors_test_needs_names_or_all(cli):
    result = cli("connectors", "test")
    assert result.exit_code == 2 and "name the connectors to test, or pass --all" in result.output
    unknown = cli("connectors", "test", "aeriez")
    assert unknown.exit_code == 2 and "did you mean 'aeries'" in unknown.output


def test_every_installed_connector_passes_the_kit(project):
    """What CI runs: the kit over every built-in connector, in worker processes, as an operator would."""
    proc = subprocess.run([rostersync_exe(), "connectors", "test", "--all", "--json"], capture_output=True,
                          text=True, cwd=project, timeout=900)
    outcomes = json.loads(proc.stdout)
    failed = [o for o in outcomes if o["status"] == "failed"]
    assert proc.returncode == 0 and not failed, failed or proc.stderr
    listed = json.loads(subprocess.run([rostersync_exe(), "connectors", "list", "--json"], capture_output=True,
                                       text=True, cwd=project, check=True).stdout)
    assert {o["connector"] for o in outcomes} == {c["name"] for c in listed}
    for connector in ("oneroster-api", "aeries"):
        assert {o["check"] for o in outcomes if o["connector"] == connector and o["status"] == "ok"} >= {
            "sync", "same-roster", "re-sync", "fault-token-expiry", "fault-throttled", "fault-dropped-connection"}
    assert {o["status"] for o in outcomes if o["connector"] == "sftp-csv" and o["check"] == "fault-dropped-connection"
            } == {"ok"}

