"""The OneRoster field table is whole and consistent, and the CSV specs, the JSON fields, the bundle's file
lists and the export are what it says (none keeps a list of its own); its REST description (keys, order,
types, what a server must send) is what 1EdTech's OpenAPI descriptions say."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import pytest
from rostersync import export
from rostersync.batches import RawBatch
from rostersync.formats import fields as f
from rostersync.formats import oneroster12_csv, oneroster_bundle, oneroster_csv, oneroster_json
from rostersync.formats.oneroster_fields import (
    BOOL,
    BOOL_TEXT,
    DATE,
    DATETIME,
    ENTITIES,
    GRADEBOOK,
    JOINED,
    LIST,
    NUMBER,
    REF,
    REFS,
    RESOURCES,
    ROLES,
    ROSTERING,
    TABLE,
    TEXT,
    USER_IDS,
    V11,
    V12,
    VERSIONS,
    Entity,
    Field,
)
from rostersync.model import ENTITIES as MODEL
from rostersync.model import Org
from rostersync.testing.oneroster_server import fields as simulator

#: what a CSV file of each version has, as (entity, version) pairs
BINDINGS = [(e.name, v) for e in ENTITIES for v in VERSIONS if v in e.versions]


@pytest.mark.parametrize(("entity", "version"), BINDINGS)
def test_every_stored_attribute_of_the_model_is_one_field_per_version(entity: str, version: str) -> None:
    spec = TABLE[entity]
    fields = spec.csv_fields(version)
    names = [fd.name for fd in fields]
    assert len(names) == len(set(names)), names
    stored = [fd.attr for fd in fields if fd.attr is not None]
    assert len(stored) == len(set(stored)), stored
    model = attrs.fields_dict(spec.record_type)
    assert set(stored) <= set(model)
    # every attribute a source sends is a field in some version (extra and grades_raw are rostersync's own)
    sent = {fd.attr for fd in spec.fields if fd.attr is not None}
    assert set(model) - sent <= {"extra", "grades_raw"}
    # an attribute the model requires is required in every version that has it
    without_default = {name for name, a in model.items() if a.default is attrs.NOTHING}
    assert without_default <= {fd.attr for fd in fields if version in fd.required}


def test_references_name_an_entity_and_read_as_ids() -> None:
    for field in (fd for e in ENTITIES for fd in e.fields if fd.to):
        assert field.to in TABLE, field
        assert field.parse in (f.ident, f.id_list), field
        assert field.shape == (REF if field.parse is f.ident else REFS), field


def test_csv_specs_are_the_table() -> None:
    for version, files in ((V11, oneroster_csv.FILES), (V12, oneroster12_csv.FILES)):
        assert list(files) == [name for name, v in BINDINGS if v == version]
        for entity, spec in files.items():
            expected = [(fd.name, fd.attr, fd.parser(version), version in fd.required)
                        for fd in TABLE[entity].csv_fields(version) if fd.attr is not None]
            assert [(c.name, c.attr, c.parse, c.required) for c in spec.columns] == expected, (version, entity)
            assert "password" in spec.not_extra
    # 1.2 users.csv without role: those two come from roles.csv
    assert {c.name for c in oneroster12_csv.FILES["users"].columns} - \
        {c.name for c in oneroster12_csv.USERS_FROM_ROLES.columns} == {"role", "orgSourcedIds"}


def test_bundle_files_and_export_columns_are_the_table() -> None:
    assert list(oneroster_bundle.ONEROSTER_FILES.values()) == [n for n, v in BINDINGS if v == V11]
    assert list(oneroster_bundle.ONEROSTER_12_FILES.values()) == [n for n, v in BINDINGS if v == V12]
    assert list(oneroster_bundle.ONEROSTER_12_FILES).index("roles.csv") < \
        list(oneroster_bundle.ONEROSTER_12_FILES).index("users.csv")
    for name, (entity, columns) in export.FILES.items():
        assert name == TABLE[entity].file
        assert columns == tuple(fd.name for fd in TABLE[entity].fields if V11 in fd.versions)
    assert export.FILES["users.csv"][1][-1] == "password"  # written, always blank


@pytest.mark.parametrize("version", VERSIONS)
def test_json_fields_are_the_table_and_read_what_csv_reads(version: str) -> None:
    rest = [e for e in ENTITIES if e.service == ROSTERING]
    assert list(oneroster_json.ENTITIES) == [e.name for e in rest]
    for entity in rest:
        json_fields = oneroster_json.ENTITIES[entity.name][1][version]
        assert [(j.key, j.attr, j.parse, j.required) for j in json_fields] == [
            (fd.json_key(version), fd.attr, fd.parser(version), version in fd.required)
            for fd in entity.fields if fd.json_key(version) and fd.attr and fd.json_type(version) != ROLES]
        csv_attrs = {fd.attr for fd in entity.csv_fields(version) if fd.attr}
        json_attrs = {j.attr for j in json_fields}
        if entity.name == "users" and version == V12:
            json_attrs |= {"role", "org_sourced_ids"}  # from roles[]
        assert json_attrs == csv_attrs, entity.name
    keys = {j.key for j in oneroster_json.ENTITIES["users"][1][version]}
    assert "password" not in keys
    assert ("preferredFirstName" in keys) is (version == V12) and ("role" in keys) is (version == V11)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_simulators_objects_are_the_tables(version: str) -> None:
    """The loopback server serves every entity a REST service has, each with the table's keys in REST order,
    wire types and required-by-spec flags, GUIDRefs of the referenced entity's type."""
    assert set(simulator.served(version)) == {e.name for e in ENTITIES if e.service}
    for name in simulator.served(version):
        fields = TABLE[name].json_fields(version)
        assert [(s.key, s.column, s.kind, s.required) for s in simulator.fields(name, version)] == [
            (fd.json_key(version), fd.name, fd.json_type(version), version in fd.json_required) for fd in fields]
        assert [s.ref for s in simulator.fields(name, version)] == [
            TABLE[fd.to].guid_type if fd.to and fd.json_type(version) in (REF, REFS) else "" for fd in fields]
    # a 1.1 bundle's grading period is served as 1.2's academicSession, and the other way round
    grading = {s.key: s.columns for s in simulator.fields("line_items", version)}
    assert grading.get("gradingPeriod", grading.get("academicSession")) == (
        ("gradingPeriodSourcedId", "academicSessionSourcedId") if version == V11
        else ("academicSessionSourcedId", "gradingPeriodSourcedId"))


def test_a_bad_version_in_the_table_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown OneRoster version\(s\) \['1.3'\]"):
        Field("x", "x", required="1.3")


def test_model_entities_all_have_a_file() -> None:
    assert set(MODEL) == set(TABLE)


# -- the REST description: what a spec-exact server sends (the simulator derives its objects from it) -----

def test_required_when_read_and_required_by_the_rest_binding_are_separate() -> None:
    """A server must send an org's identifier and a course's courseCode, but rostersync reads objects
    without them (a real SIS leaves them out); 1.2 makes classType optional, which rostersync requires."""
    for entity, attr in (("orgs", "identifier"), ("courses", "course_code")):
        fd = TABLE[entity].field(attr)
        assert (fd.required, fd.json_required) == (frozenset(), frozenset(VERSIONS)), attr
    class_type = TABLE["classes"].field("class_type")
    assert (class_type.required, class_type.json_required) == (frozenset(VERSIONS), frozenset())
    enabled = TABLE["users"].field("enabled_user")
    assert (enabled.required, enabled.json_required) == (frozenset(VERSIONS), frozenset({V12}))
    for entity in (e for e in ENTITIES if e.service):  # every REST object has status and dateLastModified
        assert all(version in fd.json_required for fd in entity.fields[:3] for version in VERSIONS)
    # the mapper goes on reading what it read: an org without identifier, a status-less object
    org = {"sourcedId": "o1", "name": "North", "type": "school"}
    for version, name in (("1.1", "oneroster-1.1-json"), ("1.2", "oneroster-1.2-json")):
        mapped = oneroster_json.map_batch(RawBatch(name, "orgs", "http://sis/orgs", [org]))
        assert mapped is not None and len(mapped.records) == 1, version
        record = mapped.records[0]
        assert isinstance(record, Org) and (record.sourced_id, record.identifier, record.status) == ("o1", None, None)


def test_rest_keys_types_and_order_per_version() -> None:
    users = TABLE["users"]
    assert [fd.json_key(V11) for fd in users.json_fields(V11)][-4:] == ["phone", "agents", "orgs", "grades"]
    assert [fd.json_key(V12) for fd in users.json_fields(V12)][12:16] == [
        "preferredLastName", "pronouns", "roles", "primaryOrg"]
    orgs = users.field("org_sourced_ids")
    assert [(orgs.json_key(v), orgs.json_type(v)) for v in VERSIONS] == [("orgs", REFS), ("roles", ROLES)]
    assert [users.field("enabled_user").json_type(v) for v in VERSIONS] == [BOOL, BOOL_TEXT]
    assert [TABLE["classes"].field("periods").json_type(v) for v in VERSIONS] == [JOINED, LIST]
    assert TABLE["resources"].field("roles").json_type(V12) == LIST  # a list_of parser is a list
    sessions = TABLE["academic_sessions"]
    assert [fd.json_key(V11) for fd in sessions.json_fields(V11)] == [
        "sourcedId", "status", "dateLastModified", "title", "startDate", "endDate", "type", "parent", "schoolYear"]
    assert [fd.name for fd in sessions.csv_fields(V11)][3:5] == ["title", "type"]  # CSV order untouched


def test_gradebook_and_resources_have_rest_keys() -> None:
    line_items = TABLE["line_items"]
    assert [fd.json_key(V11) for fd in line_items.json_fields(V11)][3:] == [
        "title", "description", "assignDate", "dueDate", "class", "category", "gradingPeriod", "resultValueMin",
        "resultValueMax"]
    assert [fd.json_key(V12) for fd in line_items.json_fields(V12)][7:11] == [
        "class", "school", "category", "academicSession"]
    assert {e.name: e.service for e in ENTITIES if e.service in (GRADEBOOK, RESOURCES)} == {
        "categories": GRADEBOOK, "resources": RESOURCES, "line_items": GRADEBOOK, "results": GRADEBOOK}
    for entity in (e for e in ENTITIES if e.service):
        for fd in (fd for fd in entity.fields if fd.to):
            # a reference is a GUIDRef named without "SourcedId", of a type some entity has
            assert all(not k.endswith(("SourcedId", "SourcedIds")) for k in map(fd.json_key, VERSIONS) if k), fd
            assert TABLE[fd.to].guid_type, fd


def test_a_rest_order_that_is_not_the_keys_or_a_bad_version_is_refused() -> None:
    fields = (*TABLE["orgs"].fields,)
    with pytest.raises(ValueError, match=r"orgs.csv: json_order \['name', 'type'\] is not its REST keys"):
        Entity(Org, "orgs.csv", True, "org", "orgs", fields, json_order=("name", "type"))
    with pytest.raises(ValueError, match=r"each once"):
        Entity(Org, "orgs.csv", True, "org", "orgs", fields, json_order=("name", "type", "identifier", "parent",
                                                                          "parent"))
    with pytest.raises(ValueError, match=r"unknown OneRoster version\(s\) \['1.3'\]"):
        Field("x", json={"1.3": "y"})
    with pytest.raises(ValueError, match=r"unknown OneRoster version\(s\) \['1.0'\]"):
        Field("x", json_types={"1.0": LIST})


# The vendored OpenAPI descriptions (tests/data/openapi, SOURCES.md says where each came from).
OPENAPI = Path(__file__).parent / "data" / "openapi"
FILES_12 = {ROSTERING: "oneroster-1.2-rostering.json", GRADEBOOK: "oneroster-1.2-gradebook.json",
            RESOURCES: "oneroster-1.2-resources.json"}
FILE_11 = "oneroster-1.1-strongmind-derived.json"
#: Where the table follows the 1.1 binding and the derived 1.1 description (not 1EdTech's file) does not:
#: (entity, REST key) -> how the derived file differs.
DERIVED_11_DEPARTURES = {
    ("classes", "course"): "optional there; the 1.1 information model requires a class's course",
    ("classes", "terms"): "optional there; a 1.1 class has one or more terms",
    ("line_items", "dueDate"): "optional there; a 1.1 line item's dueDate is required",
    ("resources", "roles"): "a single 'role' there; 1.1 resources list their roles",
    ("demographics", "americanIndianOrAlaskaNative"): "misspelt 'americanIndianOrAlsakaNative' there",
}


@cache
def _openapi(name: str) -> dict[str, Any]:
    return json.loads((OPENAPI / name).read_text(encoding="utf-8"))["components"]["schemas"]


def _schema(entity: Entity, version: str) -> tuple[dict[str, Any], set[str]]:
    """The OpenAPI properties (in order) and required keys of ``entity``'s objects in ``version``."""
    guid = str(entity.guid_type)
    if version == V12:
        schema = _openapi(FILES_12[str(entity.service)])[guid[0].upper() + guid[1:] + "DType"]
        return schema["properties"], set(schema["required"])
    schemas = _openapi(FILE_11)
    base, own = schemas["Base.Type"], schemas[("Demographic" if guid == "demographics" else guid[0].upper() + guid[1:])
                                               + "_Type_allOf"]
    return {**base["properties"], **own["properties"]}, set(base["required"]) | set(own.get("required", ()))


def _wire(prop: dict[str, Any]) -> str:
    """What an OpenAPI property's schema types the value as, in the table's words."""
    if "$ref" in prop:
        target = prop["$ref"].rsplit("/", 1)[-1]
        return REF if "GUIDRef" in target else target
    if prop.get("type") == "array":
        item = _wire(prop["items"])
        return {REF: REFS, TEXT: LIST, "UserId.Type": USER_IDS, "UserIdDType": USER_IDS, "RoleDType": ROLES}[item]
    if prop.get("enum") == ["true", "false"]:
        return BOOL_TEXT
    if prop.get("format") in ("date", "date-time"):
        return DATE if prop["format"] == "date" else DATETIME
    return {"boolean": BOOL, "number": NUMBER}.get(prop.get("type", ""), TEXT)  # strings, enums, anyOf


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("entity", [e.name for e in ENTITIES if e.service])
def test_rest_description_is_the_openapis(entity: str, version: str) -> None:
    """Keys, their order, their types and which are required, for every object a REST service serves."""
    spec = TABLE[entity]
    properties, required = _schema(spec, version)
    fields = spec.json_fields(version)
    departures = {k for (e, k) in DERIVED_11_DEPARTURES if e == entity} if version == V11 else set()
    keys = [str(fd.json_key(version)) for fd in fields]
    assert [k for k in keys if k not in properties] == sorted(departures - {"course", "terms", "dueDate"})
    assert [k for k in keys if k in properties] == [p for p in properties if p in keys]  # the REST order
    for fd, key in zip(fields, keys, strict=True):
        if key in properties:  # 1.1 sends periods as one string, which the description types as text
            assert {JOINED: TEXT}.get(fd.json_type(version), fd.json_type(version)) == _wire(properties[key]), key
    table_required = {k for fd, k in zip(fields, keys, strict=True) if version in fd.json_required}
    assert table_required ^ required == departures - {"roles", "americanIndianOrAlaskaNative"}
