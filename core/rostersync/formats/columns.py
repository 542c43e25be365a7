"""Header-name mapping shared by the CSV format plugins: a file is a table of columns, each naming its
canonical attribute, parser and whether a value is required.

Columns are found by header name, never by position. Unknown columns (``metadata.*``, a district's own
additions) go to the record's ``extra``; columns listed in ``not_extra`` (passwords, which rostersync
never stores, and columns a format maps elsewhere, e.g. Clever's demographic columns, which only the
opt-in demographics table may hold) are dropped; ``extra_only`` restricts ``extra`` to named columns.
Header names starting with ``_`` are private columns a bundle reader appended. A row that fails validation is
left out and reported as a :class:`~rostersync.errors.DataError` naming file, line and column, so one
pass finds every bad row; the engine refuses a batch with errors, ``rostersync validate`` lists them.

The per-row loop is deliberately plain (tuple unpacking, one dict, one parser call per non-empty
value): it runs a few million times per district.
"""

from __future__ import annotations

import difflib
import typing
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs

from rostersync.batches import MappedBatch, RawBatch
from rostersync.errors import DataError
from rostersync.formats import fields as f
from rostersync.issues import Issue
from rostersync.model import Record

#: finish(values) may adjust a row's attributes in place and returns warnings, each ``"column: message"``
#: (the location is prepended); it raises :class:`RowProblem` for a row that must be refused.
Finish = Callable[[dict[str, Any]], list[str]]
#: build(values) turns one row's attributes into records (default: one record of the file's type).
Build = Callable[[dict[str, Any]], Iterable[Record]]


class RowProblem(ValueError):
    """Raised by a ``finish`` step: the row is refused, naming the column at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@attrs.frozen
class Column:
    name: str
    attr: str
    parse: f.Parser = f.text
    required: bool = False


@attrs.frozen
class FileSpec:
    """How one CSV file maps to one record type. ``fold_case``: header names match in any case (Clever)."""

    record_type: type[Record]
    columns: tuple[Column, ...]
    not_extra: frozenset[str] = frozenset({"password"})
    fold_case: bool = False
    extra_only: frozenset[str] | None = None


@attrs.frozen
class HeaderPlan:
    fields: tuple[tuple[str, int, f.Parser, bool, str], ...]  # attr, index, parse, required, column name
    extra: tuple[tuple[int, str], ...]
    status_index: int | None
    placeholders: dict[str, Any]


def plan_header(batch: RawBatch, spec: FileSpec) -> HeaderPlan:
    """Where each column of ``spec`` is in this file's header; header problems stop the whole file."""
    header = batch.header
    keys = [h.lower() for h in header] if spec.fold_case else list(header)
    index = {key: i for i, key in enumerate(keys)}
    if len(index) != len(keys):
        counts = Counter(keys)
        dupes = sorted({h for h, k in zip(header, keys, strict=True) if counts[k] > 1})
        raise DataError(f"header repeats column(s) {', '.join(dupes)}", batch.location, 1, dupes[0])

    def key(name: str) -> str:
        return name.lower() if spec.fold_case else name

    missing = [c.name for c in spec.columns if c.required and key(c.name) not in index]
    if missing:
        near = {h.lower(): h for h in header}
        hints = [f"found {near[m.lower()]!r}" for m in missing if m.lower() in near]
        hint = f" ({'; '.join(hints)}: header names are case-sensitive)" if hints else ""
        raise DataError(f"header lacks required column(s) {', '.join(missing)}{hint}", batch.location, 1, missing[0])
    plan = tuple((c.attr, index[key(c.name)], c.parse, c.required, c.name) for c in spec.columns
                 if key(c.name) in index)
    known = {key(c.name) for c in spec.columns} | {key(n) for n in spec.not_extra}
    _refuse_misspelt([h for h, k in zip(header, keys, strict=True) if k not in known],
                     [c.name for c in spec.columns if key(c.name) not in index], batch.location)
    only = None if spec.extra_only is None else {key(n) for n in spec.extra_only}
    extra = tuple((i, header[i]) for i, k in enumerate(keys)
                  if k not in known and not k.startswith("_") and (only is None or k in only))
    status = next((i for attr, i, *_ in plan if attr == "status"), None)
    return HeaderPlan(plan, extra, status, _placeholders(spec))


def _refuse_misspelt(unknown: Sequence[str], absent: Sequence[str], location: str) -> None:
    """A header name that is not the format's but nearly matches one of its columns the header lacks
    (``emial``, ``Email``, ``userId``) is a typo, not a district's own column: kept as ``extra`` it would
    silently blank that column for every row, so the file is refused. ``metadata.*`` names are never typos."""
    candidates = {c.lower(): c for c in absent if not c.startswith("_")}
    if not candidates:
        return
    for name in unknown:
        if name.lower().startswith("metadata.") or name.startswith("_"):
            continue
        close = difflib.get_close_matches(name.lower(), list(candidates), n=1, cutoff=0.8)
        if close:
            meant = candidates[close[0]]
            raise DataError(f"column {name!r} is not one this file can have; did you mean {meant!r}? (read as "
                            f"it is, {meant} would be blank in every row: fix the header)",
                            location, 1, name)


def _placeholders(spec: FileSpec) -> dict[str, Any]:
    """Values for required attributes of a delta ``tobedeleted`` row that left them blank: such a row
    only says "delete this sourcedId", so blanks there are not errors."""
    types = attrs.fields_dict(attrs.resolve_types(spec.record_type))
    out: dict[str, Any] = {}
    for c in spec.columns:
        if c.required and c.attr in types and c.attr != "sourced_id":
            tp = types[c.attr].type
            out[c.attr] = () if typing.get_origin(tp) is tuple else False if tp is bool else ""
    return out


def parse_rows(batch: RawBatch, plan: HeaderPlan, errors: list[DataError]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, attributes)`` for each valid row; each invalid row adds one DataError to ``errors``."""
    location, delta = batch.location, batch.mode == "delta"
    fields, extra = plan.fields, plan.extra
    sid = next((i for attr, i, *_ in fields if attr == "sourced_id"), None)
    for line, row in batch.rows:
        values: dict[str, Any] = {}
        for attr, i, parse, required, name in fields:
            raw = row[i]
            if raw == "" or (required and raw.isspace()):
                if required:
                    if delta and attr != "sourced_id" and _is_tombstone(row, plan):
                        continue
                    errors.append(DataError("required value is empty", location, line, name,
                                            sourced_id=_sid(row, sid), value=raw))
                    break
                continue
            try:
                values[attr] = parse(raw)
            except ValueError as exc:
                errors.append(DataError(str(exc), location, line, name, sourced_id=_sid(row, sid), value=raw))
                break
        else:
            if extra:
                values["extra"] = {name: row[i] for i, name in extra if row[i] != ""}
            if delta and values.get("status") == "tobedeleted":
                values = {**plan.placeholders, **values}
            yield line, values


def _sid(row: Sequence[str], index: int | None) -> str | None:
    """A refused row's sourcedId as sent (stripped), for the run report; None when it has none."""
    return (row[index].strip() or None) if index is not None else None


def _is_tombstone(row: Sequence[str], plan: HeaderPlan) -> bool:
    return plan.status_index is not None and row[plan.status_index].strip().lower() == "tobedeleted"


def _located(warning: str, file: str, line: int) -> Issue:
    """A ``finish`` step's ``"column: message"`` warning about the row at ``file:line``."""
    column, _, message = warning.partition(": ")
    return Issue(message, file=file, line=line, column=column) if message else Issue(warning, file=file, line=line)


def map_rows(batch: RawBatch, spec: FileSpec, finish: Finish | None = None, build: Build | None = None) -> MappedBatch:
    """Map a CSV batch through ``spec``; the reader's warnings and errors are passed on."""
    plan = plan_header(batch, spec)
    errors: list[DataError] = list(batch.errors)
    warnings: list[str | Issue] = list(batch.warnings)
    records: list[Record] = []
    lines: list[int] = []
    make = spec.record_type
    bulk = batch.mode == "bulk"
    for line, values in parse_rows(batch, plan, errors):
        if bulk and values.get("status") == "tobedeleted":
            warnings.append(Issue("tobedeleted in a bulk file: left out, so the record is deleted (a bulk file "
                                  "lists every current record)", "warning", "bulk_tobedeleted", batch.entity,
                                  batch.location, line, "status", values.get("sourced_id")))
            continue
        if finish is not None:
            try:
                warnings.extend(_located(w, batch.location, line) for w in finish(values))
            except RowProblem as exc:
                errors.append(DataError(str(exc), batch.location, line, exc.field,
                                        sourced_id=values.get("sourced_id")))
                continue
        if build is None:
            records.append(make(**values))
            lines.append(line)
        else:
            for record in build(values):
                records.append(record)
                lines.append(line)
    return MappedBatch(batch.entity, batch.location, records, batch.mode, warnings, lines, errors)
