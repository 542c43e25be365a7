"""OneRoster 1.1 CSV -> canonical records (the ``oneroster-1.1-csv`` format).

All 14 files of the 1.1 CSV binding: the manifest is read by the bundle reader; the roster files map
to the canonical model; gradebook and resource files (categories, lineItems, results, resources,
classResources, courseResources) are validated and stored in their own tables. Each file is a
:class:`~rostersync.formats.columns.FileSpec` derived from the field table
(:mod:`~rostersync.formats.oneroster_fields`): spec column order, required columns and values,
enumerations (any case, stored in the spec's spelling), lists, ``{type:value}`` userIds, dates and
booleans. ``password`` is never stored.
"""

from __future__ import annotations

from typing import Any

import attrs

from rostersync import hookimpl
from rostersync.batches import MappedBatch, RawBatch
from rostersync.formats import Format
from rostersync.formats.columnar import map_columns
from rostersync.formats.columns import Column, FileSpec, RowProblem, map_rows
from rostersync.formats.oneroster_fields import ENTITIES, V11, Entity
from rostersync.grades import normalise_grades
from rostersync.model import LineItem

ONEROSTER_11 = "oneroster-1.1-csv"

#: header names rostersync reads past in every file and never stores (``password``)
NEVER_STORED = frozenset(fd.name for entity in ENTITIES for fd in entity.fields if fd.attr is None)


def file_spec(entity: Entity, version: str) -> FileSpec:
    """How ``entity``'s CSV file of OneRoster ``version`` maps, from the field table."""
    return FileSpec(entity.record_type, tuple(
        Column(fd.name, fd.attr, fd.parser(version), version in fd.required)
        for fd in entity.csv_fields(version) if fd.attr is not None), not_extra=NEVER_STORED)


#: canonical entity -> how its 1.1 file maps. Keys are the entities ``csvbundle`` names for each file.
FILES: dict[str, FileSpec] = {e.name: file_spec(e, V11) for e in ENTITIES if V11 in e.versions}


def grades_finish(values: dict[str, Any]) -> list[str]:
    """Normalise ``grades`` to CEDS codes, keeping what the source sent in ``grades_raw``."""
    raw = values.get("grades")
    if not raw:
        return []
    values["grades"], values["grades_raw"], unknown = normalise_grades(raw)
    return [f"grades: {u!r} is not a known grade level; stored as Other" for u in unknown]


def line_item_finish(values: dict[str, Any]) -> list[str]:
    """A gradebook column whose lowest possible score is above its highest cannot be graded."""
    low, high = values.get("result_value_min"), values.get("result_value_max")
    if low is not None and high is not None and float(low) > float(high):
        raise RowProblem("resultValueMin", f"resultValueMin {low} is greater than resultValueMax {high}")
    return []


def map_file(batch: RawBatch, spec: FileSpec) -> MappedBatch:
    """Map one batch with ``spec``, normalising grades where the record type has them: column-wise
    (:mod:`~rostersync.formats.columnar`) where it can, else with the reference row mapper."""
    grades = "grades_raw" in attrs.fields_dict(spec.record_type)
    if spec.record_type is LineItem:
        return map_rows(batch, spec, line_item_finish)
    fast = map_columns(batch, spec, grades=grades)
    if fast is not None:
        return fast
    return map_rows(batch, spec, grades_finish if grades else None)


def map_batch(batch: RawBatch) -> MappedBatch | None:
    if batch.format != ONEROSTER_11 or batch.entity not in FILES:
        return None
    return map_file(batch, FILES[batch.entity])


@hookimpl
def rostersync_register_formats(register):  # type: ignore[no-untyped-def]
    register(Format(ONEROSTER_11, "OneRoster 1.1 CSV (the 14 files of a bundle)", map_batch))
