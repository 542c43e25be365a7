"""Column maps as plugins: a map is checked when it is built, registered as a format (with the format
registry's clash check), selected by name through a connector's ``format`` setting (an SIS connector's
default included), and its reading code is not imported when plugins load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import attrs
import pytest
from formats_fixtures import DATA
from plugin_helpers import install_plugin
from rostersync.formats.column_map import ColumnMap, Derive, Enrich, Field, FileMap, schools_from

STUDENTS = FileMap("students", "students*.csv", "the students", entity="users", role="student",
                   fields=(Field("sourced_id", "Id", required=True), Field("given_name", "First", required=True),
                           Field("family_name", "Last", required=True)))


@pytest.mark.parametrize(("files", "derive", "message"), [
    ((FileMap("students", "s*", "students", entity="users", fields=(Field("sourced_id", "Id"),)),), (),
     "file students: nothing gives User's required family_name, given_name, role"),
    ((STUDENTS, FileMap("extra", "e*", "more", enrich=Enrich("pupils", "Id", "Id"))), (),
     "file extra: enriches 'pupils', which is not a file of this map with an entity"),
    ((STUDENTS, FileMap("extra", "e*", "more", enrich=Enrich("students", "Id", "Id"),
                        fields=(Field("given_name", "Name"),))), (),
     "file extra: sets given_name, which students sets too"),
    ((attrs.evolve(STUDENTS, fields=(*STUDENTS.fields, Field("shoe_size", "Shoes"))),), (),
     "User has no attribute 'shoe_size'"),
    ((attrs.evolve(STUDENTS, fields=(*STUDENTS.fields, Field("email", "Mail", template="{Mail}"))),), (),
     "field email needs exactly one of column, template or value"),
    ((STUDENTS,), (Derive("orgs", "students", (Field("sourced_id", "School"),)),),
     "derive orgs from students: nothing gives Org's required name, type"),
    ((STUDENTS,), (schools_from("teachers", "School"),), "derive orgs from teachers: no file 'teachers'"),
])
def test_a_map_is_checked_when_it_is_built(files, derive, message):
    with pytest.raises(ValueError, match="column map 'demo'") as caught:
        ColumnMap("demo", "Demo", files, derive)
    assert message in str(caught.value)


VENDOR_SOURCE = textwrap.dedent('''
    import attrs
    from rostersync import hookimpl
    from rostersync.connector import Connector
    from rostersync.formats.column_map import ColumnMap, Field, FileMap, column_map_format, schools_from
    from rostersync.settings import bundle_format
    from rostersync.transports.local_folder import LocalFolderSettings

    # A vendor's own export, as data: names in one column, a coded status, a fixed role.
    ACME = ColumnMap(
        name="acme-export", title="Acme SIS pupil export",
        files=(FileMap("pupils", "pupils*.csv", "the pupils", entity="users", role="student", drop=("PIN",),
                       fields=(Field("sourced_id", "Pupil No", required=True),
                               Field("given_name", "Forename", required=True),
                               Field("family_name", "Surname", required=True),
                               Field("username", template="{Forename}.{Surname}"),
                               Field("email", "Email", fallback="{Pupil No}@pupils.example.org"),
                               Field("enabled_user", "Status", values={"A": "true", "L": "false"},
                                     otherwise="true", parse=lambda v: v == "true"),
                               Field("grades", "Year", values={"R": "KG"}),
                               Field("org_sourced_ids", "School"))),),
        derive=(schools_from("pupils", "School", "School Name"),),
    )

    @attrs.frozen
    class AcmeSettings(LocalFolderSettings):
        format: str = bundle_format("Format of the files", default="DEFAULT_FORMAT")

    @hookimpl
    def rostersync_register_formats(register):
        register(column_map_format(ACME))
        if "CLASH_NAME":
            register(column_map_format(attrs.evolve(ACME, name="CLASH_NAME")))

    @hookimpl
    def rostersync_register_connectors(register):
        register(Connector(name="acme-sis", title="Acme SIS", kind="local-folder", settings=AcmeSettings))
''')

PUPILS = ("Pupil No,Forename,Surname,Email,Status,Year,School,School Name,PIN,House\r\n"
          "P1,Ada,Lovelace,,A,R,01,North School,1234,Red\r\n"
          "P2,Alan,Turing,alan@example.org,L,3,02,,9876,Blue\r\n"
          "P3,Grace,Hopper,,Z,11,01,North School,5555,\r\n")


def _vendor(tmp_path, default: str = "acme-export", clash: str = "") -> dict[str, str]:
    site = install_plugin(tmp_path / "site", "acme_export_rostersync", VENDOR_SOURCE.replace("DEFAULT_FORMAT", default)
                          .replace("CLASH_NAME", clash), "acme-export-rostersync", "acme_export", "1.2.0")
    return {**os.environ, "PYTHONPATH": str(site)}


def test_a_third_party_map_is_a_format_a_connector_defaults_to(run_cli, tmp_path, project):
    env = _vendor(tmp_path)
    export = tmp_path / "export"
    export.mkdir()
    (export / "pupils_2025.csv").write_text(PUPILS)
    shown = run_cli("connectors", "show", "acme-sis", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    setting = next(s for s in json.loads(shown.stdout)["settings"] if s["name"] == "format")
    assert setting["default"] == "acme-export" and "the name of an installed column map" in setting["help"]
    for args in (("init",), ("schools", "add", "acme", "--name", "Acme"),
                 ("enable", "acme", "acme-sis", "--set", f"path={export}")):
        result = run_cli(*args, env=env)
        assert result.returncode == 0, result.stderr
    result = run_cli("sync", "acme", "--json", env=env)
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)[0]
    assert {e: c["inserted"] for e, c in run["counts"].items()} == {"orgs": 2, "users": 3}
    import sqlite3

    with sqlite3.connect(project / "rostersync.db") as conn:
        users = conn.execute("SELECT sourced_id, username, email, enabled_user, grades, grades_raw, extra FROM users "
                             "ORDER BY 1").fetchall()
        orgs = conn.execute("SELECT sourced_id, name FROM orgs ORDER BY 1").fetchall()
    assert users == [
        ("P1", "Ada.Lovelace", "P1@pupils.example.org", 1, '["KG"]', '["R"]', '{"House": "Red"}'),
        ("P2", "Alan.Turing", "alan@example.org", 0, '["03"]', '["3"]', '{"House": "Blue"}'),
        ("P3", "Grace.Hopper", "P3@pupils.example.org", 1, '["11"]', None, None),  # Z: otherwise
    ]
    assert orgs == [("01", "North School"), ("02", "02")]  # no School Name on 02's row: named by its id
    assert b"9876" not in (project / "rostersync.db").read_bytes()  # PIN is dropped


def test_a_default_format_naming_no_installed_map_is_refused_when_plugins_load(run_cli, tmp_path):
    result = run_cli("connectors", "list", env=_vendor(tmp_path, default="acme-exprot"))
    assert result.returncode == 2
    assert ("invalid default for setting format: 'acme-exprot' is not one of: auto, oneroster-1.1, oneroster-1.2, "
            "clever, acme-export, asb-works, realtime-eds, tyler-sis-dw") in " ".join(result.stderr.split())


def test_a_second_map_of_a_taken_name_is_refused_naming_both_packages(run_cli, tmp_path):
    result = run_cli("connectors", "list", env=_vendor(tmp_path, clash="tyler-sis-dw"))
    assert result.returncode == 2
    assert "two plugins register a format named 'tyler-sis-dw'" in result.stderr
    assert "acme-export-rostersync" in result.stderr and "Traceback" not in result.stderr


def test_the_format_setting_names_the_installed_maps(cli, project):
    assert cli("init").exit_code == 0
    assert cli("schools", "add", "d", "--name", "D").exit_code == 0
    result = cli("enable", "d", "csv-folder", "--set", f"path={DATA}", "--set", "format=tyler")
    assert result.exit_code == 2
    assert ("format: 'tyler' is not one of: auto, oneroster-1.1, oneroster-1.2, clever, asb-works, realtime-eds, "
            "tyler-sis-dw") in " ".join(result.output.split())
    assert cli("validate", str(DATA), "--format", "tyler").exit_code == 2


def test_check_lists_the_files_of_the_map(cli, project):
    tyler = DATA / "tyler-sis" / "district"
    assert cli("init").exit_code == 0
    assert cli("schools", "add", "d", "--name", "D").exit_code == 0
    assert cli("enable", "d", "csv-folder", "--set", f"path={tyler}", "--set", "format=tyler-sis-dw").exit_code == 0
    last = json.loads(cli("check", "d", "--json").output)[-1]
    assert (last["step"], last["ok"], last["detail"]) == (
        "required files", True, "tyler-sis-dw: DWStudents.csv (bulk), DWEnrollment.csv (bulk)")


def test_loading_plugins_does_not_import_the_map_readers():
    """Maps are data: `connectors list` imports neither the bundle reader (sqlite3) nor the row mapper."""
    code = ("import sys; from rostersync.cli import main\n"
            "try:\n    main(['connectors', 'list', '--json'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('rostersync.formats.column_map')), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stderr.strip().splitlines()[-1] == "['rostersync.formats.column_map']"


def test_the_contributing_example_reads_the_tyler_fixture():
    """The map in CONTRIBUTING.md ("Vendor CSV exports: column maps") is real code that works."""
    from pathlib import Path

    from rostersync.bundlefiles import open_bundle
    from rostersync.formats.column_map import column_map_format

    guide = (Path(__file__).parent.parent / "CONTRIBUTING.md").read_text()
    section = guide.split("## Vendor CSV exports: column maps", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "CONTRIBUTING.md", "exec"), namespace)
    fmt = column_map_format(namespace["TYLER_SIS_DW"])
    assert fmt.bundle is not None
    counts: dict[str, int] = {}
    with open_bundle(DATA / "tyler-sis" / "district") as bundle:
        for raw in fmt.bundle.read(bundle, fmt.bundle.plan(bundle), demographics=True):
            mapped = fmt.map(raw)
            assert mapped is not None and not mapped.errors
            counts[mapped.entity] = counts.get(mapped.entity, 0) + len(mapped.records)
    assert counts == {"orgs": 2, "users": 20, "demographics": 20}


class _TylerProfile:
    """Registers, for one test, an SIS connector built from a profile whose format is a column map."""

    def __init__(self, format: str) -> None:
        self.format = format

    def rostersync_register_connectors(self, register):  # type: ignore[no-untyped-def]
        from rostersync.profiles import SftpProfile, sftp_connector

        register(sftp_connector(SftpProfile(name="tyler-test", title="Tyler SIS (test)", summary="DW extract.",
                                            basis="integrator docs", format=self.format)))


@pytest.fixture
def tyler_profile(request):  # type: ignore[no-untyped-def]
    from rostersync import hookimpl
    from rostersync.plugins import get_connectors, pm

    get_connectors()
    plugin = _TylerProfile(request.param)
    hookimpl(_TylerProfile.rostersync_register_connectors)
    pm.register(plugin, name="tyler-profile")
    yield plugin
    pm.unregister(name="tyler-profile")


@pytest.mark.parametrize("tyler_profile", ["tyler-sis-dw"], indirect=True)
def test_an_sftp_profile_names_a_column_map_as_its_format(cli, project, tyler_profile):
    from rostersync.connector import structure_settings
    from rostersync.plugins import get_connector

    connector = get_connector("tyler-test")
    settings = structure_settings(connector, {"host": "sftp.example.org", "username": "u", "remote_path": "/dw"})
    assert settings.format == "tyler-sis-dw"
    shown = json.loads(cli("connectors", "show", "tyler-test", "--json").output)
    assert next(s for s in shown["settings"] if s["name"] == "format")["default"] == "tyler-sis-dw"


@pytest.mark.parametrize("tyler_profile", ["tyler-sis"], indirect=True)
def test_an_sftp_profile_naming_no_installed_map_is_refused_when_plugins_load(tyler_profile):
    from rostersync.errors import ConfigError
    from rostersync.plugins import get_connectors

    with pytest.raises(ConfigError) as refused:
        get_connectors()
    assert str(refused.value).startswith("connector tyler-test (")
    assert ("invalid default for setting format: 'tyler-sis' is not one of: auto, oneroster-1.1, oneroster-1.2, "
            "clever, asb-works, realtime-eds, tyler-sis-dw") in str(refused.value)
