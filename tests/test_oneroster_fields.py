"""The OneRoster field table is whole and consistent, and the CSV specs, the JSON fields, the bundle's file
lists and the export are what it says (none keeps a list of its own)."""

from __future__ import annotations

import attrs
import pytest
from rostersync import export
from rostersync.formats import fields as f
from rostersync.formats import oneroster12_csv, oneroster_bundle, oneroster_csv, oneroster_json
from rostersync.formats.oneroster_fields import ENTITIES, REF, REFS, TABLE, V11, V12, VERSIONS, Field
from rostersync.model import ENTITIES as MODEL

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
    rest = [e for e in ENTITIES if e.guid_type]
    assert list(oneroster_json.ENTITIES) == [e.name for e in rest]
    for entity in rest:
        json_fields = oneroster_json.ENTITIES[entity.name][1][version]
        assert [(j.key, j.attr, j.parse, j.required) for j in json_fields] == [
            (fd.json_key(version), fd.attr, fd.parser(version), version in fd.required)
            for fd in entity.fields if fd.json_key(version) and fd.attr]
        csv_attrs = {fd.attr for fd in entity.csv_fields(version) if fd.attr}
        json_attrs = {j.attr for j in json_fields}
        if entity.name == "users" and version == V12:
            json_attrs |= {"role", "org_sourced_ids"}  # from roles[]
        assert json_attrs == csv_attrs, entity.name
    keys = {j.key for j in oneroster_json.ENTITIES["users"][1][version]}
    assert "password" not in keys
    assert ("preferredFirstName" in keys) is (version == V12) and ("role" in keys) is (version == V11)


def test_a_bad_version_in_the_table_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown OneRoster version\(s\) \['1.3'\]"):
        Field("x", "x", required="1.3")


def test_model_entities_all_have_a_file() -> None:
    assert set(MODEL) == set(TABLE)
