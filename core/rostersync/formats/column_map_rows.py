"""A column map's rows -> canonical records, through the shared header mapper (:mod:`.columns`).

A file's fields are compiled once per header into a :class:`~rostersync.formats.columns.FileSpec`
and a finish step. A plain field (one column, a parser) becomes a ``Column`` the shared row mapper
reads and validates itself; a field with a value map, a template, a fallback, or grades reads its
columns' text and is computed per row by the finish step, which names the column when it refuses a
row. Unknown columns go to ``extra`` as in every format, except the map's sensitive, dropped and
demographic columns. Case never matters in header names.

The bundle reader (:mod:`.column_map_bundle`) hands over two kinds of private data as JSON text: the
fields an enrich file adds to a row (column ``_enrich.<file>``) and derived records (header
``_values``), both already validated when that reader scanned their file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs

from rostersync.batches import MappedBatch, RawBatch
from rostersync.errors import DataError
from rostersync.formats import fields as f
from rostersync.formats.column_map import (
    GRADES,
    PLACEHOLDER,
    USER_IDS,
    ColumnMap,
    Field,
    FileMap,
    tuple_attrs,
)
from rostersync.formats.columns import Column, FileSpec, Finish, RowProblem, map_rows, parse_rows, plan_header
from rostersync.grades import normalise_grade
from rostersync.model import ENTITIES, Record, UserId

#: the column the bundle reader appends with an enrich file's fields for the row (JSON)
ENRICHED = "_enrich."
#: the header of a derived stream: one JSON object of attributes per row
DERIVED = ("_values",)
#: a field's step: compute its attribute in ``values``; may return a warning ``"column: message"``
Step = Callable[[dict[str, Any]], "str | None"]


def _raw(column: str) -> str:
    """The private attribute a column's text is read into, for the fields computed from it."""
    return f"_c:{column.lower()}"


def decode(text: str) -> dict[str, Any]:
    """JSON attributes back to record values (lists were tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(text).items()}


def encode(values: dict[str, Any]) -> str:
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


@attrs.frozen
class Compiled:
    spec: FileSpec
    finish: Finish


def _listed(parse: f.Parser) -> f.Parser:
    return lambda value: (parse(value),)


def _constant(attr: str, value: Any) -> Step:
    def step(values: dict[str, Any]) -> None:
        values[attr] = value

    return step


def _fill(template: str, values: dict[str, Any]) -> str:
    """``template`` with its columns filled in; blank when every column is blank."""
    parts = [values.get(_raw(name), "").strip() for name in PLACEHOLDER.findall(template)]
    if not any(parts):
        return ""
    filled = iter(parts)
    return PLACEHOLDER.sub(lambda _m: next(filled), template).strip()


def _computed(field: Field, listed: bool, label: str) -> Step:
    """The step of a field with a value map, template, fallback or grades."""
    attr, parse, otherwise = field.attr, field.parser(), field.otherwise
    lookup = {k.strip().lower(): v for k, v in field.values.items()}
    known = ", ".join(field.values)

    def step(values: dict[str, Any]) -> str | None:
        raw = values.get(_raw(field.column), "").strip() if field.column else _fill(field.template, values)
        if not raw and field.fallback:
            raw = _fill(field.fallback, values)
        if not raw:
            if field.required:
                raise RowProblem(label, "required value is empty")
            return None
        if attr == GRADES:
            return _grade(values, raw, lookup, label)
        text = raw
        if lookup:
            text = lookup.get(raw.lower(), otherwise)  # type: ignore[arg-type]
            if text is None:
                raise RowProblem(label, f"{raw!r} is not one of the values this export may have: {known}")
        try:
            parsed = parse(text)
        except ValueError as exc:
            raise RowProblem(label, str(exc)) from None
        values[attr] = (parsed,) if listed else parsed
        return None

    return step


def _grade(values: dict[str, Any], raw: str, aliases: dict[str, str], label: str) -> str | None:
    """A grade level as its CEDS code (after the map's aliases), keeping what the file said."""
    code = normalise_grade(aliases.get(raw.lower(), raw))
    warning = None
    if code is None:
        code, warning = "Other", f"{label}: {raw!r} is not a known grade level; stored as Other"
    values[GRADES] = (code,)
    if code != raw:
        values["grades_raw"] = (raw,)
    return warning


def compile_fields(fields: Sequence[Field], record_type: type[Record], header: Sequence[str],
                   *, final: bool = True, extra: Sequence[Column] = (), not_extra: frozenset[str] = frozenset(),
                   extra_only: frozenset[str] | None = None) -> Compiled:
    """The spec and finish step of ``fields`` for a file with this ``header``. ``final``: the values
    become a record (``user_ids.*`` gathered); otherwise they are an enrich file's contribution."""
    present = {h.lower(): h for h in header}
    lists = tuple_attrs(record_type)
    columns: list[Column] = list(extra)
    raw: dict[str, Column] = {}
    steps: list[Step] = []
    for field in fields:
        listed = field.attr in lists
        if field.value is not None:
            value = field.value
            steps.append(_constant(field.attr, (value,) if listed and not isinstance(value, tuple) else value))
            continue
        if field.simple:
            parse = field.parser()
            columns.append(Column(present.get(field.column.lower(), field.column), field.attr,
                                  _listed(parse) if listed else parse, field.required))
            continue
        primary = [field.column] if field.column else PLACEHOLDER.findall(field.template)
        for name in field.columns():
            key = name.lower()
            needed = field.required and not field.fallback and name in primary
            before = raw.get(key)
            raw[key] = Column(present.get(key, name), _raw(name), f.text, needed or bool(before and before.required))
        label = present.get(primary[0].lower(), primary[0]) if primary else field.attr
        steps.append(_computed(field, listed, label))
    columns += raw.values()
    enriched = [h for h in header if h.startswith(ENRICHED)]
    columns += [Column(h, h, decode) for h in enriched]
    spec = FileSpec(record_type, tuple(columns), not_extra=not_extra | {"password"}, fold_case=True,
                    extra_only=extra_only)
    private = [c.attr for c in raw.values()]

    def finish(values: dict[str, Any]) -> list[str]:
        warnings = [w for step in steps if (w := step(values))]
        for key in private:
            values.pop(key, None)
        for name in enriched:
            values.update(values.pop(name, None) or {})
        if final:
            ids = [UserId(k.removeprefix(USER_IDS), values.pop(k)) for k in list(values) if k.startswith(USER_IDS)]
            if ids:
                values["user_ids"] = tuple(ids)
        return warnings

    return Compiled(spec, finish)


def check_layout(fm: FileMap, header: Sequence[str], location: str, map_name: str) -> None:
    """A positional export's header must begin with its layout's columns, in order."""
    for position, want in enumerate(fm.layout, start=1):
        got = header[position - 1] if position <= len(header) else ""
        if got.lower() != want.lower():
            raise DataError(f"column {position} is {got or 'missing'!r} but the {map_name} layout has {want!r} there: "
                            f"this export is positional (a skipped field shifts every later column into the wrong "
                            f"place), so the file is refused; fix the export's column list", location, 1, got or want)


def parse_values(batch: RawBatch, compiled: Compiled, errors: list[DataError]
                 ) -> Iterator[tuple[int, dict[str, Any], list[str]]]:
    """``(line, values, warnings)`` of each valid row (what ``map_rows`` makes records of), for the
    files the bundle reader scans; each invalid row adds one DataError to ``errors``."""
    plan = plan_header(batch, compiled.spec)
    for line, values in parse_rows(batch, plan, errors):
        try:
            notes = compiled.finish(values)
        except RowProblem as exc:
            errors.append(DataError(str(exc), batch.location, line, exc.field))
            continue
        yield line, values, [f"{batch.location}:{line}:{w}" for w in notes]


class Mapper:
    """Maps the raw batches of one column map, compiling each file's spec once per header."""

    def __init__(self, cmap: ColumnMap) -> None:
        self.cmap = cmap
        self._compiled: dict[tuple[str, str, tuple[str, ...]], Compiled] = {}

    def file_of(self, location: str) -> FileMap | None:
        name = location.replace("\\", "/").rsplit("/", 1)[-1]
        return next((fm for fm in self.cmap.files if fm.matches(name)), None)

    def map(self, batch: RawBatch) -> MappedBatch | None:
        fm = self.file_of(batch.location)
        if fm is None:
            return None
        if any(d.source == fm.name and d.entity == batch.entity for d in self.cmap.derive):
            return derived_batch(batch, ENTITIES[batch.entity])
        if batch.entity == fm.entity:
            kind = "records"
        elif batch.entity == "demographics" and fm.demographics:
            kind = "demographics"
        else:
            return None
        key = (kind, fm.name, batch.header)
        compiled = self._compiled.get(key)
        if compiled is None:
            check_layout(fm, batch.header, batch.location, self.cmap.name)
            compiled = self._compiled[key] = self._compile(kind, fm, batch.header)
        return map_rows(batch, compiled.spec, compiled.finish)

    def _compile(self, kind: str, fm: FileMap, header: Sequence[str]) -> Compiled:
        if kind == "records":  # columns that derived records read are mapped there, not extra here
            derived = {c.lower() for d in self.cmap.derive if d.source == fm.name
                       for field in d.fields for c in field.columns()}
            return compile_fields(fm.all_fields(), ENTITIES[fm.entity], header, not_extra=fm.not_extra() | derived)
        keys = [field for field in fm.fields if field.attr == "sourced_id"]
        mapped = {c.lower() for field in fm.demographics for c in field.columns()}
        return compile_fields((*keys, *fm.demographics), ENTITIES["demographics"], header,
                              extra_only=frozenset(c for c in fm.sensitive if c.lower() not in mapped))


def derived_batch(batch: RawBatch, record_type: type[Record]) -> MappedBatch:
    """Records the bundle reader derived (and validated) while scanning their file."""
    records = [record_type(**decode(row[0])) for _line, row in batch.rows]
    lines = [line for line, _row in batch.rows]
    return MappedBatch(batch.entity, batch.location, records, batch.mode, batch.warnings, lines, batch.errors)
