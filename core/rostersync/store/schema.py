"""Table layouts derived from the canonical model, so the model is the one place a field is declared.

Roster tables hold one row per (school, source, sourced_id). Lists and ``extra`` are stored as JSON
text (queryable with ``json_each``); booleans as 0/1. Bookkeeping columns say which run created,
last changed or soft-deleted a row.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

import attrs

from rostersync.model import ENTITIES, Record, UserId

BOOKKEEPING = {
    "created_run": int,
    "updated_run": int,
    "deleted_at": str,
    "deleted_run": int,
}


def _is_tuple(tp: Any) -> bool:
    return str(tp).startswith(("tuple", "typing.Tuple"))


def _json_list(value: tuple) -> str | None:
    """A tuple of strings as a JSON array. Hand-assembled from the C string encoder json itself uses:
    json.dumps costs ~3 us a call, and users carry four lists each."""
    if not value:
        return None
    if isinstance(value[0], UserId):
        value = tuple(map(str, value))
    return "[" + ",".join(map(encode_basestring, value)) + "]"


def _json_object(value: Any) -> str | None:
    return json.dumps(dict(value), ensure_ascii=False, sort_keys=True) if value else None


def _bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


@attrs.frozen
class TableSpec:
    """How one entity is stored: its data columns (in order), their SQLite types and a row builder."""

    entity: str
    record_type: type[Record]
    columns: tuple[str, ...]
    types: dict[str, type]
    to_row: Callable[[Record], tuple]


def _spec(entity: str, record_type: type[Record]) -> TableSpec:
    attrs.resolve_types(record_type)
    columns: list[str] = []
    types: dict[str, type] = {}
    converters: list[Callable[[Any], Any] | None] = []
    for field in attrs.fields(record_type):
        tp = field.type
        columns.append(field.name)
        if field.name == "extra":
            types[field.name], conv = str, _json_object
        elif _is_tuple(tp):
            types[field.name], conv = str, _json_list
        elif tp in (bool, bool | None):
            types[field.name], conv = int, _bool
        else:
            types[field.name], conv = str, None
        converters.append(conv)
    getter = operator.attrgetter(*columns)
    convert_at = [(i, c) for i, c in enumerate(converters) if c is not None]

    def to_row(record: Record) -> tuple:
        row = list(getter(record))
        for i, conv in convert_at:
            row[i] = conv(row[i])
        return tuple(row)

    return TableSpec(entity, record_type, tuple(columns), types, to_row)


TABLES: dict[str, TableSpec] = {entity: _spec(entity, cls) for entity, cls in ENTITIES.items()}
