"""OneRoster REST JSON (1.1 and 1.2) -> canonical records: the formats
``oneroster-1.1-json`` and ``oneroster-1.2-json``.

A raw batch holds the objects of one or more pages of a collection endpoint; its location is the
first page's URL, and an error names the page of the record at fault when the rows know it.
Keys, shapes and parsers come from the field table the CSV mappers use
(:mod:`rostersync.formats.oneroster_fields`), so the same roster arrives whichever way a district
sends it. JSON shapes differ from CSV in three ways handled here: references are GUIDRef objects
(``{"sourcedId": ...}``), lists are arrays, and extension fields live in a ``metadata`` object (kept
in ``extra`` as ``metadata.<name>``, as the CSV mapper keeps ``metadata.*`` columns). 1.2 users carry
``roles[]`` instead of ``role``/``orgs``.

In a full (bulk) pull a record with status ``tobedeleted`` is not part of the live roster: it is
left out, so the store soft-deletes it like any record the server no longer lists.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from rostersync import hookimpl
from rostersync.batches import MappedBatch, RawBatch
from rostersync.errors import DataError
from rostersync.formats import Format
from rostersync.formats import fields as f
from rostersync.formats import oneroster_fields as table
from rostersync.formats.oneroster_csv import grades_finish
from rostersync.formats.oneroster_fields import LIST, REF, REFS, ROLES, ROSTERING, TEXT, USER_IDS, V12
from rostersync.model import Record, UserId

FORMATS = {"oneroster-1.1-json": "1.1", "oneroster-1.2-json": "1.2"}

#: the role of a 1.2 ``roles[]`` item: 1.2's user roles, ``ext:`` values included
_ROLE_12 = table.TABLE["users"].field("role").parser(V12)


@attrs.frozen
class Field:
    """One JSON key as the mapper reads it: derived from the field table. ``kind``: the value's JSON
    shape (text, GUIDRef, GUIDRef list, list, userIds)."""

    key: str
    attr: str
    kind: str = TEXT
    parse: f.Parser = f.text
    required: bool = False
    alternates: tuple[str, ...] = ()


class _Bad(ValueError):
    """A value of the wrong JSON shape (an object where text belongs...)."""


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value
    raise _Bad(f"expected a text value, got {type(value).__name__}")


def _ref_id(value: Any) -> str | None:
    """A GUIDRef (``{"sourcedId": ...}``) or a bare id, trimmed; None when absent or blank."""
    if type(value) is dict or isinstance(value, Mapping):
        value = value.get("sourcedId")
    if type(value) is not str:
        value = _text(value)
        if value is None:
            return None
    return value.strip() or None


def _items(value: Any) -> list[Any] | None:
    if value is None or value == "":
        return None
    if type(value) is str:  # some servers send "a,b" instead of ["a","b"]
        return list(f.id_list(value))
    if type(value) is not list:
        raise _Bad(f"expected a list, got {type(value).__name__}")
    return value


def _refs(value: Any) -> tuple[str, ...] | None:
    items = _items(value)
    return tuple(i for i in map(_ref_id, items) if i) or None if items else None


def _list(value: Any) -> tuple[str, ...] | None:
    items = _items(value)
    if not items:
        return None
    out = []
    for item in items:
        text = item if type(item) is str else _text(item)
        if text and text.strip():
            out.append(text.strip())
    return tuple(out) or None


def _user_ids(value: Any) -> tuple[UserId, ...] | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        return f.user_ids(value)
    if not isinstance(value, list):
        raise _Bad(f"expected a list of {{type, identifier}} objects, got {type(value).__name__}")
    ids = []
    for item in value:
        if not isinstance(item, Mapping) or not _text(item.get("type")) or _text(item.get("identifier")) is None:
            raise _Bad(f"{item!r} is not a {{type, identifier}} object")
        ids.append(UserId(str(_text(item["type"])).strip(), str(_text(item["identifier"])).strip()))
    return tuple(ids)


def _reader(field: Field) -> Callable[[Any], Any]:
    """A function: JSON value -> parsed value, or None when absent (null, "", [], blank required text)."""
    if field.kind == TEXT:
        parse, required, identity = field.parse, field.required, field.parse is f.text

        def read_text(value: Any) -> Any:
            if type(value) is not str:
                value = _text(value)
                if value is None:
                    return None
            if value == "" or (required and value.isspace()):
                return None
            return value if identity else parse(value)

        return read_text
    return {REF: _ref_id, REFS: _refs, LIST: _list, USER_IDS: _user_ids}[field.kind]


def _fields(entity: table.Entity, version: str) -> list[Field]:
    """The JSON keys of ``entity`` in ``version``, in spec order, from the field table (1.2 users'
    ``roles[]`` is read by :func:`_roles_12`)."""
    out = []
    for fd in entity.fields:
        key = fd.json_key(version)
        if key is not None and fd.attr is not None and fd.json_type(version) != ROLES:
            out.append(Field(key, fd.attr, fd.shape, fd.parser(version), version in fd.required,
                             fd.json_alternates))
    return out


#: entity -> (record type, version -> its fields): the entities read over REST (the rostering service's)
ENTITIES: dict[str, tuple[type[Record], dict[str, list[Field]]]] = {
    e.name: (e.record_type, {v: _fields(e, v) for v in table.VERSIONS})
    for e in table.ENTITIES if e.service == ROSTERING}
#: (entity, version) whose objects carry ``roles[]`` (1.2 users)
WITH_ROLES = frozenset((e.name, v) for e in table.ENTITIES if e.service == ROSTERING for v in table.VERSIONS
                       if any(fd.json_key(v) and fd.json_type(v) == ROLES for fd in e.fields))


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    """``metadata`` entries as ``metadata.<name>`` strings; nested objects join names with dots."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}", inner, out)
    elif value is None or value == "":
        return
    elif isinstance(value, bool):
        out[prefix] = "true" if value else "false"
    elif isinstance(value, str | int | float):
        out[prefix] = str(value)
    else:
        out[prefix] = json.dumps(value, ensure_ascii=False, sort_keys=True)


def _roles_12(obj: Mapping[str, Any], values: dict[str, Any]) -> None:
    """1.2 ``roles[]``: the primary role is the user's role; every role's org is one of the user's orgs."""
    roles = obj.get("roles")
    if not isinstance(roles, list) or not roles:
        raise _Bad("roles: required list is empty or missing (1.2 users carry roles[])")
    parse_role = _ROLE_12
    orgs: list[str] = []
    primary: list[str] = []
    first = None
    for item in roles:
        if not isinstance(item, Mapping):
            raise _Bad(f"roles: {item!r} is not a role object")
        role = parse_role(_text(item.get("role")) or "")
        first = first or role
        if _text(item.get("roleType")) == "primary":
            primary.append(role)
        org = _ref_id(item.get("org"))
        if org and org not in orgs:
            orgs.append(org)
    values["role"] = primary[0] if primary else first
    if not orgs:
        raise _Bad("roles: no role names an org")
    values["org_sourced_ids"] = tuple(orgs)


def _location(batch: RawBatch, index: int) -> str:
    """The URL of the page row ``index`` came from (a batch may group several pages)."""
    location_of = getattr(batch.rows, "location_of", None)
    return location_of(index) if location_of else batch.location


@functools.cache
def _plan(entity: str, version: str) -> list[tuple[str, tuple[str, ...], str, Callable[[Any], Any], bool]]:
    _record, by_version = ENTITIES[entity]
    return [(fd.key, fd.alternates, fd.attr, _reader(fd), fd.required) for fd in by_version[version]]


def map_objects(batch: RawBatch, version: str,
                finish: Callable[[dict[str, Any]], list[str]] | None = None) -> MappedBatch:
    record_type = ENTITIES[batch.entity][0]
    plan = _plan(batch.entity, version)
    roles_12 = (batch.entity, version) in WITH_ROLES
    drop_deleted = batch.mode == "bulk"
    records: list[Record] = []
    warnings: list[str] = []
    for index, obj in enumerate(batch.rows):
        if type(obj) is not dict:
            raise DataError(f"item {index} is not an object", _location(batch, index), None, "sourcedId")
        values: dict[str, Any] = {}
        key = "sourcedId"
        try:
            for key, alternates, attr, read, required in plan:
                raw = obj.get(key)
                for alt in alternates:
                    if raw is None:
                        raw, key = obj.get(alt), alt
                value = read(raw)
                if value is None:
                    if required:
                        raise _Bad("required value is missing or empty")
                    continue
                values[attr] = value
            if roles_12:
                key = "roles"
                _roles_12(obj, values)
        except ValueError as exc:
            sid = str(obj.get("sourcedId", "")).strip() or f"#{index}"
            raise DataError(str(exc), _location(batch, index), None, f"{key} of {sid!r}") from None
        if drop_deleted and values.get("status") == "tobedeleted":
            continue
        metadata = obj.get("metadata")
        if metadata and isinstance(metadata, Mapping):
            extra: dict[str, str] = {}
            _flatten("metadata", metadata, extra)
            if extra:
                values["extra"] = extra
        if finish is not None:
            warnings.extend(f"{batch.location} {values['sourced_id']}: {w}" for w in finish(values))
        records.append(record_type(**values))
    return MappedBatch(batch.entity, batch.location, records, batch.mode, warnings)


def map_batch(batch: RawBatch) -> MappedBatch | None:
    version = FORMATS.get(batch.format)
    if version is None or batch.entity not in ENTITIES:
        return None
    record_type = ENTITIES[batch.entity][0]
    finish = grades_finish if "grades_raw" in attrs.fields_dict(record_type) else None
    return map_objects(batch, version, finish)


@hookimpl
def rostersync_register_formats(register):  # type: ignore[no-untyped-def]
    for name, version in FORMATS.items():
        register(Format(name, f"OneRoster {version} REST JSON (collection pages)", map_batch))
