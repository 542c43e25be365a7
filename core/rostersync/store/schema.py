"""Table layouts derived from the canonical model, so the model is the one place a field is declared.

Roster tables hold one row per (school, source, sourced_id). Lists and ``extra`` are stored as JSON
text (queryable with ``json_each``); booleans as 0/1. Bookkeeping columns say which run created,
last changed or soft-deleted a row. The SQLite tables themselves are created by the numbered, frozen
migrations (:mod:`rostersync.store.migrations`); a test keeps the migrated schema equal to these layouts.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
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
#: columns a store keeps besides the model's and the bookkeeping: a user's stable person id (it survives a
#: re-key by the SIS) and, on a row closed as re-keyed, the sourcedId that replaced it
IDENTITY_COLUMNS: dict[str, tuple[str, ...]] = {"users": ("person_id", "rekeyed_to")}


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


def _user_id(text: str) -> UserId:
    """``{type:identifier}`` (as ``str(UserId)`` writes it) back to a UserId; types hold no ``:``."""
    kind, _, identifier = text[1:-1].partition(":")
    return UserId(kind, identifier)


#: A column's attrs field has no default: a row must supply it.
REQUIRED = object()


@attrs.frozen
class TableSpec:
    """How one entity is stored: its data columns (in order), their SQLite types, the encoder of each
    column (None: stored as it is), each column's stored default (:data:`REQUIRED` when it has none),
    and the two directions between a record and its stored row."""

    entity: str
    record_type: type[Record]
    columns: tuple[str, ...]
    types: dict[str, type]
    encoders: dict[str, Callable[[Any], Any] | None]
    defaults: dict[str, Any]
    to_row: Callable[[Record], tuple]
    from_row: Callable[[Sequence[Any]], Record]


def _spec(entity: str, record_type: type[Record]) -> TableSpec:
    attrs.resolve_types(record_type)
    columns: list[str] = []
    types: dict[str, type] = {}
    converters: list[Callable[[Any], Any] | None] = []
    decoders: list[Callable[[Any], Any] | None] = []
    defaults: dict[str, Any] = {}
    for field in attrs.fields(record_type):
        tp = field.type
        columns.append(field.name)
        if field.name == "extra":
            types[field.name], conv, dec = str, _json_object, _decode_object
        elif _is_tuple(tp):
            types[field.name], conv = str, _json_list
            dec = _decode_user_ids if "UserId" in str(tp) else _decode_list
        elif tp in (bool, bool | None):
            types[field.name], conv, dec = int, _bool, _decode_bool
        else:
            types[field.name], conv, dec = str, None, None
        converters.append(conv)
        decoders.append(dec)
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()  # type: ignore[union-attr]
        defaults[field.name] = REQUIRED if default is attrs.NOTHING else conv(default) if conv else default
    getter = operator.attrgetter(*columns)
    convert_at = [(i, c) for i, c in enumerate(converters) if c is not None]

    def to_row(record: Record) -> tuple:
        row = list(getter(record))
        for i, conv in convert_at:
            row[i] = conv(row[i])
        return tuple(row)

    names = tuple(columns)
    decode_at = [(i, d) for i, d in enumerate(decoders) if d is not None]

    def from_row(row: Sequence[Any]) -> Record:
        values = list(row)
        for i, dec in decode_at:
            values[i] = dec(values[i])
        return record_type(**dict(zip(names, values, strict=True)))

    return TableSpec(entity, record_type, names, types, dict(zip(names, converters, strict=True)), defaults,
                     to_row, from_row)


def _decode_object(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {}


def _decode_list(text: str | None) -> tuple[str, ...]:
    return tuple(json.loads(text)) if text else ()


def _decode_user_ids(text: str | None) -> tuple[UserId, ...]:
    return tuple(map(_user_id, json.loads(text))) if text else ()


def _decode_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


TABLES: dict[str, TableSpec] = {entity: _spec(entity, cls) for entity, cls in ENTITIES.items()}


class StoredRows(Sequence[Record]):
    """Records already in their stored form, held column by column: what the CSV fast path
    (:mod:`rostersync.formats.columnar`) hands the staging area, which writes the columns
    as they are; anything else that asks for a record gets one decoded on demand, so plugins and the
    scope filter see ordinary records."""

    def __init__(self, table: TableSpec, columns: Sequence[Sequence[Any]]) -> None:
        self.table = table
        self.columns = columns  # one sequence per table column, in ``table.columns`` order
        self._size = len(columns[0]) if columns else 0

    @classmethod
    def from_records(cls, table: TableSpec, records: Sequence[Record]) -> StoredRows:
        """Records converted to their stored form, column by column."""
        if not records:
            return cls(table, [[] for _ in table.columns])
        return cls(table, [list(values) for values in zip(*map(table.to_row, records), strict=True)])

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._size))]
        return self.table.from_row([column[index] for column in self.columns])

    def rows(self) -> Any:
        """The stored rows as tuples, lazily (``zip`` over the columns)."""
        return zip(*self.columns, strict=True)

    def column(self, name: str) -> Sequence[Any]:
        """One column's stored values (lists as JSON text, booleans as 0/1)."""
        return self.columns[self.table.columns.index(name)]

    def select(self, keep: Sequence[bool]) -> StoredRows:
        """The rows whose ``keep`` flag is true."""
        return StoredRows(self.table, [[v for v, k in zip(values, keep, strict=True) if k] for values in self.columns])


def staged_live(alias: str, mode: str) -> str:
    """SQL, `` AND ...`` or nothing: the staged row ``alias`` of an entity staged in ``mode`` is not a
    deletion. Only a delta stages deletions (its ``tobedeleted`` rows); a bulk entity's ``_deleted`` is 0
    on every row, so the test is left out and a lookup by sourcedId stays inside the staging table's
    unique index instead of also reading each row (millions of lookups in the reference checks)."""
    return "" if mode == "bulk" else f" AND {alias}._deleted = 0"
