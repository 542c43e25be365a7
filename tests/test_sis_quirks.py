"""The data quirks of the built-in SIS connectors: each fix on a small raw batch, then the fixed batch mapped
by its format (what a sync does), so the result is known to validate. Also the SIS habits that need no quirk
because the formats already handle them."""

from __future__ import annotations

from typing import Any

import pytest
from rostersync.api.paging import Page, PageRows
from rostersync.batches import RawBatch
from rostersync.errors import DataError
from rostersync.formats import map_raw
from rostersync.plugins import get_connector, get_formats
from rostersync_connectors.quirks import NORWEGIAN_PROFILE, REDIKER_DEPARTMENTS, norwegian_profile, rediker_departments

V12, V11 = "oneroster-1.2-json", "oneroster-1.1-json"


def _batch(entity: str, rows: list[Any], fmt: str = V12) -> RawBatch:
    return RawBatch(fmt, entity, f"https://sis.example.org/{entity}", rows)


def _map(batch: RawBatch) -> Any:
    mapped = map_raw(get_formats(), batch)
    assert not mapped.errors
    return mapped


def _guardian(role: str = "ext:primaryGuardian") -> dict[str, Any]:
    return {"sourcedId": "g1", "status": "active", "enabledUser": True, "username": "kari", "givenName": "Kari",
            "familyName": "Nordmann", "roles": [{"roleType": "primary", "role": role, "org": {"sourcedId": "o1"}}],
            "userIds": [{"type": "ext:national", "identifier": "x-1"}], "agents": [{"sourcedId": "s1"}],
            "metadata": {"onedhub.firstLanguage": "nob"}}


def _class(class_type: str) -> dict[str, Any]:
    return {"sourcedId": "c1", "title": "1A", "course": {"sourcedId": "crs1"}, "classType": class_type,
            "school": {"sourcedId": "o1"}, "terms": [{"sourcedId": "t1"}]}


def test_norwegian_profile_reads_primary_guardian_as_guardian_and_keeps_the_value_sent():
    raw = _batch("users", [_guardian()])
    assert _map(raw).records[0].role == "ext:primaryGuardian"  # why the quirk exists: 1.2 keeps it, not a guardian
    fixed = norwegian_profile(raw)
    assert fixed.rows[0]["roles"][0]["role"] == "guardian" and raw.rows[0]["roles"][0]["role"] != "guardian"
    (user,) = _map(fixed).records
    assert user.role == "guardian" and user.agent_sourced_ids == ("s1",)
    assert user.extra == {"metadata.onedhub.firstLanguage": "nob", "metadata.original.role": "ext:primaryGuardian"}
    assert [(i.type, i.identifier) for i in user.user_ids] == [("ext:national", "x-1")]  # any userIds type is read


@pytest.mark.parametrize(("fmt", "entity", "row", "field", "read"), [
    (V12, "classes", _class("unlisted"), "class_type", "scheduled"),
    (V11, "classes", _class("ext:unlisted"), "class_type", "scheduled"),  # 1.1 allows no ext: value
    (V12, "classes", _class("ext:homeroom"), "class_type", "homeroom"),
    (V12, "orgs", {"sourcedId": "o2", "name": "Skolefritidsordning", "type": "unlisted"}, "type", "department"),
    (V12, "orgs", {"sourcedId": "o3", "name": "Oslo", "type": "ext:district"}, "type", "district"),
])
def test_norwegian_profile_reads_types_the_format_refuses_as_the_nearest_spec_value(fmt, entity, row, field, read):
    (record,) = _map(norwegian_profile(_batch(entity, [row], fmt))).records
    assert getattr(record, field) == read
    sent = row["classType"] if entity == "classes" else row["type"]
    assert record.extra[f"metadata.original.{'classType' if entity == 'classes' else 'type'}"] == sent


def test_norwegian_profile_keeps_other_ext_values_where_oneroster_12_allows_them():
    raw = _batch("classes", [_class("ext:unlisted")])
    assert norwegian_profile(raw) is raw
    assert _map(raw).records[0].class_type == "ext:unlisted"
    with pytest.raises(DataError, match="'unlisted' is not one of"):  # what the quirk reads as scheduled
        _map(_batch("classes", [_class("unlisted")]))


def test_norwegian_profile_leaves_spec_values_and_unknown_person_roles_alone():
    plain = _batch("classes", [_class("scheduled")])
    assert norwegian_profile(plain) is plain  # nothing to fix: the very same batch
    odd = _batch("users", [_guardian("unlisted")])
    assert norwegian_profile(odd) is odd
    with pytest.raises(DataError, match=r"roles of 'g1'.*'unlisted' is not one of"):  # never guessed
        _map(norwegian_profile(odd))
    user_11 = {k: v for k, v in _guardian().items() if k != "roles"} | {"role": "ext:parent", "orgs": ["o1"]}
    one_one = _batch("users", [user_11], V11)
    (user,) = _map(norwegian_profile(one_one)).records
    assert user.role == "parent" and user.extra["metadata.original.role"] == "ext:parent"


def test_a_fixed_row_keeps_the_page_it_came_from_in_error_messages():
    pages = [Page(f"https://sis.example.org/classes?offset={n}", n, [_class("unlisted")]) for n in (0, 1)]
    pages[1].rows[0]["terms"] = []  # a broken row on the second page
    fixed = norwegian_profile(_batch("classes", PageRows(pages)))  # type: ignore[arg-type]
    with pytest.raises(DataError) as caught:
        _map(fixed)
    assert caught.value.file == "https://sis.example.org/classes?offset=1"


def _org(sid: str, kind: str) -> dict[str, Any]:
    return {"sourcedId": sid, "name": sid.title(), "type": kind}


def test_rediker_departments_are_schools_when_no_school_is_sent():
    raw = _batch("orgs", [_org("dist", "district"), _org("north", "departments"), _org("south", "Department")], V11)
    orgs = {o.sourced_id: o for o in _map(rediker_departments(raw)).records}
    assert {k: o.type for k, o in orgs.items()} == {"dist": "district", "north": "school", "south": "school"}
    assert orgs["north"].extra == {"metadata.original.type": "departments"}
    assert orgs["dist"].extra == {}


def test_rediker_departments_stay_departments_beside_real_schools():
    raw = _batch("orgs", [_org("north", "school"), _org("art", "departments"), _org("music", "department")], V11)
    with pytest.raises(DataError, match="'departments' is not one of"):  # the plural alone breaks the format
        _map(raw)
    fixed = rediker_departments(raw)
    assert {o.sourced_id: o.type for o in _map(fixed).records} == {"north": "school", "art": "department",
                                                                   "music": "department"}
    assert fixed.rows[2] is raw.rows[2]  # already a spec value: untouched
    users = _batch("users", [{"sourcedId": "u"}], V11)
    assert rediker_departments(users) is users


def test_smartschool_class_names_in_user_metadata_are_kept_without_a_quirk():
    user = {"sourcedId": " u1 ", "enabledUser": "true", "username": "an", "givenName": "An", "familyName": "Peeters",
            "role": "student", "orgs": [{"sourcedId": " school "}], "birthDate": "2012-01-01", "sex": "F",
            "metadata": {"smsc.classInfo": "3A", "smsc.classYear": "3", "smsc.internalNumber": "1234"}}
    (record,) = _map(_batch("users", [user], V11)).records
    assert record.extra["metadata.smsc.classInfo"] == "3A" and record.extra["metadata.smsc.classYear"] == "3"
    # padded ids (a PowerSchool habit) are trimmed by the JSON mapper; birthDate/sex on a user are not imported
    assert record.sourced_id == "u1" and record.org_sourced_ids == ("school",)
    assert not any("birth" in key.lower() for key in record.extra)


@pytest.mark.parametrize(("connector", "quirk"), [("vigilo", NORWEGIAN_PROFILE), ("skool", NORWEGIAN_PROFILE),
                                                  ("rediker", REDIKER_DEPARTMENTS)])
def test_the_quirks_are_the_connectors_and_run_before_mapping(connector, quirk):
    found = get_connector(connector)
    assert quirk in found.quirks and quirk.description in found.docs
    raw = _batch("orgs", [_org("north", "departments")]) if quirk is REDIKER_DEPARTMENTS else \
        _batch("users", [_guardian()])
    assert _map(found.repair(raw)).records
