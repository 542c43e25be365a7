"""The CSV fast path: map a batch column by column instead of row by row.

:func:`~rostersync.formats.columns.map_rows` is the reference mapper: plain, one dict and one record
per row, ~20 us of Python per row. A million-student district has ~8M rows, so that per-row Python is
most of a sync. Here a batch is transposed once (``zip``, in C) and each column is validated and
encoded as a whole:

- a column's parser runs once per *distinct* value (roles, dates, booleans, org lists, grades repeat
  endlessly), and the column is then mapped through that table in C;
- sourcedIds and references (``ident``) are stripped with ``map(str.strip, ...)``; free text is
  taken as it is;
- the result is the stored form the staging area writes directly (:class:`StoredRows`), so no record
  object is built for a row unless a plugin asks for one.

The outcome is exactly the reference mapper's: the same stored values, the same errors (one per bad
row, its first bad column in spec order, same message), the same warnings in the same order; a
property test holds the two to that. Batches this path does not cover (delta files, a bulk file
carrying ``tobedeleted`` rows) return ``None`` and take the reference path, as do, by their format's
choice, gradebook line items (a cross-column check) and OneRoster 1.2 users (roles joined in).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from rostersync.batches import MappedBatch, RawBatch
from rostersync.errors import DataError
from rostersync.formats import fields as f
from rostersync.formats.columns import FileSpec, plan_header
from rostersync.grades import normalise_grades
from rostersync.issues import Issue
from rostersync.model import ENTITIES
from rostersync.store.schema import REQUIRED, TABLES, StoredRows, TableSpec

EMPTY_REQUIRED = "required value is empty"


def map_columns(batch: RawBatch, spec: FileSpec, *, grades: bool = False) -> MappedBatch | None:
    """Map a bulk CSV batch through ``spec`` column-wise, or None when the batch needs the reference
    mapper. ``grades``: normalise the ``grades`` column to CEDS codes, keeping ``grades_raw``."""
    if batch.mode != "bulk" or not batch.rows:
        return None
    table = TABLES[spec.record_type.entity]
    if ENTITIES[table.entity] is not spec.record_type:
        return None
    plan = plan_header(batch, spec)
    if any(attr not in table.defaults for attr, *_ in plan.fields):
        return None
    needed = {c for c, d in table.defaults.items() if d is REQUIRED}
    spec_required = {attr for attr, _i, _p, required, _n in plan.fields if required}
    if not needed <= spec_required:  # a record could lack a value it must have: the reference decides
        return None

    lines, raw_rows = zip(*batch.rows, strict=True)
    raw_columns = list(zip(*raw_rows, strict=True))
    bad: dict[int, DataError] = {}  # row index -> the row's first problem, in spec column order
    sid = next((index for attr, index, *_ in plan.fields if attr == "sourced_id"), None)
    out: dict[str, Sequence[Any]] = {}
    unknown_grades: list[tuple[str, ...]] | None = None
    for attr, index, parse, required, name in plan.fields:
        column = raw_columns[index]
        if grades and attr == "grades":
            empty = (table.defaults["grades"], table.defaults["grades_raw"], ())
            found, problems = _distinct(column, parse, required, empty, _grades_of(table))
            out["grades"], out["grades_raw"], unknown_grades = _split(found, column, 3)
        elif parse is f.text:
            out[attr], problems = _text(column, required, table.defaults[attr])
        elif parse is f.ident:
            out[attr], problems = _ident(column, required, table.defaults[attr])
        else:
            encode = table.encoders[attr]
            found, problems = _distinct(column, parse, required, table.defaults[attr],
                                        encode if encode is not None else _same)
            out[attr] = list(map(found.__getitem__, column))
        for row, message in problems:
            if row not in bad:
                bad[row] = DataError(message, batch.location, lines[row], name, value=column[row],
                                     sourced_id=_sid(raw_columns, sid, row))

    status = out.get("status")
    if status is not None and "tobedeleted" in status:
        return None  # the reference mapper warns about and leaves out such rows
    n = len(lines)
    if plan.extra:
        out["extra"] = _extra([raw_columns[i] for i, _ in plan.extra], [name for _, name in plan.extra])
    warnings = list(batch.warnings)
    if unknown_grades is not None:
        warnings.extend(Issue(f"{u!r} is not a known grade level; stored as Other", file=batch.location,
                              line=lines[row], column="grades")
                        for row, unknown in enumerate(unknown_grades) if unknown and row not in bad for u in unknown)
    columns: list[Sequence[Any]] = []
    for column in table.columns:
        values = out.get(column)
        if values is None:
            values = [table.defaults[column]] * n
        columns.append(values)
    kept_lines: Sequence[int] = list(lines)
    if bad:
        keep = [row for row in range(n) if row not in bad]
        columns = [[values[row] for row in keep] for values in columns]
        kept_lines = [lines[row] for row in keep]
    errors = [*batch.errors, *(bad[row] for row in sorted(bad))]
    return MappedBatch(batch.entity, batch.location, StoredRows(table, columns), batch.mode, warnings,
                       kept_lines, errors)


def _sid(raw_columns: Sequence[Sequence[str]], index: int | None, row: int) -> str | None:
    """A refused row's sourcedId as sent (stripped), for the run report (as the reference mapper says it)."""
    return (raw_columns[index][row].strip() or None) if index is not None else None


def _same(value: Any) -> Any:
    return value


def _text(column: Sequence[str], required: bool, default: Any) -> tuple[Sequence[Any], list[tuple[int, str]]]:
    """Free text, stored as sent; an empty value is the attribute's default (or refused, if required)."""
    problems: list[tuple[int, str]] = []
    if required:
        if "" in column or any(map(str.isspace, column)):
            problems = [(row, EMPTY_REQUIRED) for row, v in enumerate(column) if not v or v.isspace()]
        return column, problems
    if "" in column:
        return [v if v else default for v in column], problems
    return column, problems


def _ident(column: Sequence[str], required: bool, default: Any) -> tuple[Sequence[Any], list[tuple[int, str]]]:
    """A sourcedId or reference: stripped; blank is refused (empty optional ones take the default)."""
    stripped = list(map(str.strip, column))
    problems: list[tuple[int, str]] = []
    if "" in stripped:
        for row, (raw, value) in enumerate(zip(column, stripped, strict=True)):
            if value:
                continue
            if required:
                problems.append((row, EMPTY_REQUIRED))
            elif raw:
                problems.append((row, "is blank"))
            else:
                stripped[row] = default
    return stripped, problems


def _distinct(column: Sequence[str], parse: f.Parser, required: bool, empty: Any,
              encode: Callable[[Any], Any]) -> tuple[dict[str, Any], list[tuple[int, str]]]:
    """Parse and encode each distinct value of a column once: (raw value -> stored value, problems).
    ``empty`` is what an empty optional value stores (the attribute's default). The caller maps the
    column through the table in C (``map(table.__getitem__, column)``)."""
    table: dict[str, Any] = {}
    bad: dict[str, str] = {}
    for value in set(column):
        if value == "" or (required and value.isspace()):
            if required:
                bad[value] = EMPTY_REQUIRED
            table[value] = empty
            continue
        try:
            table[value] = encode(parse(value))
        except ValueError as exc:
            bad[value] = str(exc)
            table[value] = empty
    problems = [(row, bad[v]) for row, v in enumerate(column) if v in bad] if bad else []
    return table, problems


def _grades_of(table: TableSpec) -> Callable[[Any], tuple[Any, Any, tuple[str, ...]]]:
    """Encoder of a parsed grades list: (CEDS codes, what was sent if it differed, unknown values)."""
    encode = table.encoders["grades"]
    assert encode is not None

    def grades(parsed: Any) -> tuple[Any, Any, tuple[str, ...]]:
        if not parsed:  # empty: nothing to normalise, the stored defaults stand
            return table.defaults["grades"], table.defaults["grades_raw"], ()
        codes, raw, unknown = normalise_grades(parsed)
        return encode(codes), encode(raw), tuple(unknown)

    return grades


def _split(found: dict[str, tuple[Any, ...]], column: Sequence[str], parts: int) -> tuple[list[Any], ...]:
    """Columns from an encoder that gives each distinct value several stored values (grades and grades_raw)."""
    return tuple(list(map({raw: stored[k] for raw, stored in found.items()}.__getitem__, column)) for k in range(parts))


def _extra(columns: list[Sequence[str]], names: list[str]) -> list[str | None]:
    """The district's own columns of each row as a JSON object (non-empty values only), as ``to_row`` does."""
    out: list[str | None] = []
    for values in zip(*columns, strict=True):
        if any(values):
            found = {name: v for name, v in zip(names, values, strict=True) if v}
            out.append(json.dumps(found, ensure_ascii=False, sort_keys=True))
        else:
            out.append(None)
    return out
