"""How the simulator turns a bundle's CSV rows into each version's JSON objects (the typing the
OpenAPI walk cannot see on a generated district: translations, defaults, odd values)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_check import validate
from rostersync.batches import RawBatch
from rostersync.formats import oneroster_json
from rostersync.testing.oneroster_server.fields import fields
from rostersync.testing.oneroster_server.serialise import Serialiser
from rostersync.testing.simulator import Simulator

ORGS = {"sch-1": {"type": "school"}, "dist": {"type": "district"}}


def serialise(version: str, entity: str, **raw: str) -> dict[str, Any]:
    serialiser = Serialiser(lambda kind, i: f"http://x/{kind}/{i}", "2026-07-01T00:00:00.000Z",
                            lambda entity, i: ORGS.get(i) if entity == "orgs" else None)
    obj, _defaulted = serialiser.row(fields(entity, version), {"sourcedId": "x", **raw}, {})
    return obj


@pytest.mark.parametrize(("orgs", "role"), [("sch-1", "siteAdministrator"), ("dist", "districtAdministrator"),
                                            ("dist,sch-1", "siteAdministrator")])
def test_a_11_administrator_is_a_12_site_or_district_administrator(orgs: str, role: str) -> None:
    user = serialise("1.2", "users", role="administrator", orgSourcedIds=orgs, enabledUser="true")
    assert {r["role"] for r in user["roles"]} == {role} and user["roles"][0]["roleType"] == "primary"
    assert serialise("1.1", "users", role="administrator", orgSourcedIds=orgs)["role"] == "administrator"


def test_an_enrollments_administrator_role_is_kept_in_12() -> None:
    """1.2 enrollments have ``administrator`` (only 1.2 users lost it)."""
    assert serialise("1.2", "enrollments", role="administrator")["role"] == "administrator"


def test_bulk_rows_get_status_and_export_time_and_dates_become_utc() -> None:
    blank = serialise("1.2", "orgs", name="A", type="school")
    assert (blank["status"], blank["dateLastModified"]) == ("active", "2026-07-01T00:00:00.000Z")
    assert serialise("1.2", "orgs", status="inactive")["status"] == "tobedeleted"  # 1.0's inactive
    when = serialise("1.1", "orgs", status="active", dateLastModified="2026-09-01 10:00:00+02:00")
    assert when["dateLastModified"] == "2026-09-01T08:00:00.000Z"


def test_values_are_typed_per_version_and_optional_blanks_are_omitted() -> None:
    v11 = serialise("1.1", "classes", title="T", periods="1, 2", terms="", termSourcedIds="t1", grades="")
    v12 = serialise("1.2", "classes", title="T", periods="1, 2", termSourcedIds="t1")
    assert (v11["periods"], v12["periods"]) == ("1,2", ["1", "2"])  # 1.1 types periods as one string
    assert "grades" not in v11 and "classCode" not in v12  # optional and blank: omitted, never null
    assert v12["terms"] == [{"href": "http://x/academicSession/t1", "sourcedId": "t1", "type": "academicSession"}]
    assert serialise("1.1", "enrollments", primary="TRUE")["primary"] is True
    assert serialise("1.2", "enrollments", primary="TRUE")["primary"] == "true"
    assert serialise("1.2", "enrollments", primary="maybe")["primary"] == "maybe"  # served as held: the client says
    assert serialise("1.2", "orgs", identifier="")["identifier"] == ""  # required text stays a string


def _rename(bundle: Path, old: str, new: str) -> None:
    """Every cell of every CSV file of ``bundle`` that is ``old`` becomes ``new`` (quoted where CSV needs it)."""
    for path in bundle.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [[new if cell == old else cell for cell in row] for row in csv.reader(handle)]
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_an_org_id_with_a_comma_from_roles_csv_is_one_org_through_users(tmp_path: Path, version: str) -> None:
    """roles.csv names one org per row, so an org id may hold a comma. The server takes a 1.2 bundle's
    roles as values: it used to join them into ``orgSourcedIds`` text and split it again, serving
    ``sch,b`` as two orgs ``sch`` and ``b``."""
    bundle = Path(shutil.copytree(Path(__file__).parent / "data" / "oneroster-1.2" / "bundle", tmp_path / "b"))
    _rename(bundle, "sch-b", "sch,b")
    assert '"sch,b"' in (bundle / "roles.csv").read_text(encoding="utf-8")
    with Simulator(bundle, version=version) as sim:
        token = httpx.post(sim.token_url, data={"grant_type": "client_credentials"},
                           auth=(sim.client_id, sim.client_secret)).json()["access_token"]
        answer = httpx.get(sim.base_url + "/users", params={"filter": "sourcedId='tch-1'"},
                           headers={"Authorization": f"Bearer {token}"})
        validate(sim, answer)  # (this bundle's districtAdministrator has no 1.1 role: only the teacher is asked)
    users = answer.json()["users"]
    [teacher] = users
    if version == "1.2":  # roles.csv: sch,b secondary, sch-a primary (served primary first)
        assert [(r["roleType"], r["role"], r["org"]["sourcedId"]) for r in teacher["roles"]] == [
            ("primary", "teacher", "sch-a"), ("secondary", "teacher", "sch,b")]
        assert teacher["roles"][1]["org"]["href"].endswith("/orgs/sch,b")
    else:
        assert (teacher["role"], [o["sourcedId"] for o in teacher["orgs"]]) == ("teacher", ["sch-a", "sch,b"])
    mapped = oneroster_json.map_batch(RawBatch(f"oneroster-{version}-json", "users", "/users", users))
    assert mapped is not None
    assert [(u.sourced_id, u.org_sourced_ids) for u in mapped.records] == [("tch-1", ("sch-a", "sch,b"))]


def test_roles_rows_are_served_each_with_its_own_role_and_type(tmp_path: Path) -> None:
    """A 1.2 user teaching at one school and an aide at another has two roles, as roles.csv says; a
    ``tobedeleted`` role row is no role (as the bundle reader reads it)."""
    bundle = Path(shutil.copytree(Path(__file__).parent / "data" / "oneroster-1.2" / "bundle", tmp_path / "b"))
    with (bundle / "roles.csv").open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["r-6", "", "", "stu-1", "secondary", "aide", "", "", "sch-b", ""],
                                      ["r-7", "tobedeleted", "", "stu-1", "secondary", "student", "", "", "dist-1",
                                       ""]])
    with Simulator(bundle, version="1.2") as sim:
        student = sim.data.find("users", "stu-1")
        assert student is not None
        assert [(r["roleType"], r["role"], r["org"]["sourcedId"]) for r in student["roles"]] == [
            ("primary", "student", "sch-a"), ("secondary", "aide", "sch-b")]
