"""``rostersync export``: a school's current roster written back out as a OneRoster 1.1 CSV bundle.

For handing the roster to another system, for diffing two schools, and for round-trip tests. Rows
are streamed from the store (:meth:`~rostersync.store.base.Store.live_rows`); columns are the spec's,
in spec order, plus the ``metadata.*``/unmapped columns kept in ``extra``. Values that a spreadsheet
would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) are prefixed
with ``'`` unless ``raw`` is asked for; that goes for the header names of ``extra`` columns (they
come from the data too) and the manifest.

Users carry their stable rostersync person id (``metadata.rostersync.personId``, see
:mod:`rostersync.identity`). A school with a bell-schedule map (:mod:`rostersync.periods`) gets its
period names in classes' ``periods``, the SIS's codes kept in ``metadata.rostersync.sisPeriods``.
"""

from __future__ import annotations

import csv
import json
import os
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from rostersync.formats.oneroster_fields import TABLE, V11
from rostersync.store.schema import TABLES

if TYPE_CHECKING:
    from rostersync.store.base import Store

#: the roster entities an export writes, in dependency order
EXPORTED = ("orgs", "academic_sessions", "courses", "classes", "users", "enrollments", "demographics")

#: file name -> (entity, OneRoster 1.1 columns in spec order), from the field table
FILES: dict[str, tuple[str, tuple[str, ...]]] = {
    TABLE[e].file: (e, tuple(fd.name for fd in TABLE[e].csv_fields(V11))) for e in EXPORTED}
ALL_MANIFEST_FILES = ("academicSessions", "categories", "classes", "classResources", "courses", "courseResources",
                      "demographics", "enrollments", "lineItems", "orgs", "resources", "results", "users")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: str) -> str:
    """Defuse CSV injection: a cell a spreadsheet would evaluate gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _cell(value: Any, kind: Any) -> str:
    if value is None:
        return ""
    if kind is int:
        return "true" if value else "false"
    if kind is tuple:  # a list column, stored as a JSON array (a plain value starting with "[" is just text)
        return ",".join(json.loads(value))
    return str(value)


def _kind(record_type: type, column: str, stored: type) -> Any:
    """int (booleans), tuple (lists) or str: how a stored value is written back out."""
    field = attrs.fields_dict(record_type)[column]
    return tuple if typing.get_origin(field.type) is tuple else stored


PERSON_ID = "metadata.rostersync.personId"
SIS_PERIODS = "metadata.rostersync.sisPeriods"


def _rows(store: Store, entity: str, school: str, columns: tuple[str, ...], extra_keys: list[str],
          raw: bool, periods: dict[str, str]) -> Iterator[list[str]]:
    spec = TABLES[entity]
    stored = {fd.name: fd.attr for fd in TABLE[entity].fields}
    present = [stored[c] for c in columns]  # None: a column never stored (password), written blank
    kinds = [_kind(spec.record_type, c, spec.types[c]) if c else str for c in present]
    tail = ["person_id"] if entity == "users" else []
    mapped = entity == "classes" and bool(periods)
    at = columns.index("periods") if mapped else -1
    n = len(present) - present.count(None)  # where ``extra`` is in a row read
    for row in store.live_rows(school, entity, [*(c for c in present if c), "extra", *tail]):
        values = iter(row)
        out = [_cell(next(values), kind) if col else "" for col, kind in zip(present, kinds, strict=True)]
        extra = json.loads(row[n]) if row[n] else {}
        out += [str(extra.get(k, "")) for k in extra_keys]
        if tail:
            out.append(row[-1] or "")
        if mapped:
            codes = out[at]
            out[at] = ",".join(periods.get(c, c) for c in codes.split(",")) if codes else ""
            out.append(codes)
        yield out if raw else [escape_formula(v) for v in out]


def export_school(store: Store, school: str, folder: Path, *, raw: bool = False,
                  periods: dict[str, str] | None = None) -> dict[str, int]:
    """Write the school's current roster to ``folder``; returns rows written per file. ``periods``: the
    school's bell-schedule map (SIS code -> name)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    written: dict[str, int] = {}
    for name, (entity, columns) in FILES.items():
        keys = [k for k in store.extra_keys(school, entity) if k not in (PERSON_ID, SIS_PERIODS)]
        count = 0
        path = folder / name
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with open(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            added = [PERSON_ID] if entity == "users" else [SIS_PERIODS] if entity == "classes" and periods else []
            writer.writerow([*columns, *(keys if raw else map(escape_formula, keys)), *added])
            for row in _rows(store, entity, school, columns, keys, raw, periods or {}):
                writer.writerow(row)
                count += 1
        if count == 0:
            path.unlink()  # the spec wants absent files declared absent, not sent empty
        else:
            written[name] = count
    manifest = [["manifest.version", "1.0"], ["oneroster.version", "1.1"]]
    manifest += [[f"file.{n}", "bulk" if f"{n}.csv" in written else "absent"] for n in ALL_MANIFEST_FILES]
    manifest += [["source.systemName", "rostersync"], ["source.systemCode", school]]
    fd = os.open(folder / "manifest.csv", os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with open(fd, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(["propertyName", "value"])
        writer.writerows(manifest if raw else [[k, escape_formula(v)] for k, v in manifest])
    return written
