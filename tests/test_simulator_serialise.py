"""How the simulator turns a bundle's CSV rows into each version's JSON objects (the typing the
OpenAPI walk cannot see on a generated district: translations, defaults, odd values)."""

from __future__ import annotations

from typing import Any

import pytest
from rostersync.testing.oneroster_server.fields import fields
from rostersync.testing.oneroster_server.serialise import Serialiser

ORGS = {"sch-1": {"type": "school"}, "dist": {"type": "district"}}


def serialise(version: str, entity: str, **raw: str) -> dict[str, Any]:
    serialiser = Serialiser(version, lambda kind, i: f"http://x/{kind}/{i}", "2026-07-01T00:00:00.000Z",
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
