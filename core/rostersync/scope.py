"""Which of a source's records belong to a school: the SIS org ids configured for it.

A district SIS exports every school; a school in rostersync imports its own share. With no org ids
configured, everything the source holds is imported. Rules (per batch, so nothing is buffered):
orgs listed, the orgs below them (departments...: an org whose parent is one of the school's), and
the org levels above schools (district, state...); courses of those orgs; classes and enrollments of
the listed schools and the orgs below them; users with one of those orgs (a teacher attached only
to the science department is the school's);
demographics of users this run imports; every academic session (they are district-wide).
OneRoster 1.2 roles are kept for the listed schools and their orgs (a district role of a user is the district's
business); user profiles their user; line items and class resources
their class; course resources their course; results their line item. Categories and resources are
district-wide catalogues and always kept.

The ids of dropped orgs, courses, classes, users and line items are noted in staging, so that a kept
row referring to one of them (a teacher's enrollment in another school's class...) is recognised
as pointing out of scope rather than at nothing (see :mod:`rostersync.integrity`). A row owned by
another (a result by its line item...) is dropped only when its owner was dropped that way: an owner
this run did not send at all is either live from an earlier run (a delta) or missing, and the
reference checks tell which, rather than the row vanishing as "out of scope".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from rostersync.batches import MappedBatch
from rostersync.model import Record
from rostersync.store.schema import StoredRows

if TYPE_CHECKING:
    from rostersync.store.staging import StagingArea

ABOVE_SCHOOL = frozenset({"district", "local", "state", "national"})
#: entity -> (parent entity, attribute): kept when this run staged the parent
OWNED_BY = {
    "demographics": ("users", "sourced_id"),
    "user_profiles": ("users", "user_sourced_id"),
    "line_items": ("classes", "class_sourced_id"),
    "class_resources": ("classes", "class_sourced_id"),
    "course_resources": ("courses", "course_sourced_id"),
    "results": ("line_items", "line_item_sourced_id"),
}
#: entities other rows refer to: their dropped ids are noted for the reference checks
REFERRED_TO = frozenset({"orgs", "courses", "classes", "users", "line_items"})


class Scope:
    def __init__(self, org_ids: tuple[str, ...]) -> None:
        self.schools = frozenset(org_ids)
        self.orgs = set(org_ids)  # grows with admitted district-level orgs and the orgs below the schools
        self.local = set(org_ids)  # the schools and the orgs below them: rows attached to these are ours

    def filter(self, batch: MappedBatch, staging: StagingArea) -> MappedBatch:
        """The part of ``batch`` this school imports; the rest is counted as out of scope."""
        if not self.schools:
            return batch
        records, column = batch.records, _columns(batch.records)
        if batch.entity in OWNED_BY:
            parent, attr = OWNED_BY[batch.entity]
            ids = list(column(attr))
            staged = staging.staged_ids(parent, ids)
            dropped = staging.out_of_scope_ids(parent, [i for i in ids if i not in staged])
            keep = [i not in dropped for i in ids]
        else:
            keep = self._keep(batch.entity, column)
        if all(keep):
            return batch
        staging.declare(batch.entity, batch.mode, batch.location)
        dropped = [i for i, k in zip(column("sourced_id"), keep, strict=True) if not k]
        staging.count_out_of_scope(batch.entity, len(dropped), dropped if batch.entity in REFERRED_TO else ())
        lines = [ln for ln, k in zip(batch.lines, keep, strict=True) if k] if batch.lines else ()
        kept = records.select(keep) if isinstance(records, StoredRows) else \
            [r for r, k in zip(records, keep, strict=True) if k]
        return attrs.evolve(batch, records=kept, lines=lines)

    def _keep(self, entity: str, column: Callable[[str], Sequence[Any]]) -> list[bool]:
        """Which rows to keep, by the rules above; ``column(attr)`` gives an attribute's values, row by row."""
        match entity:
            case "orgs":
                keep = []
                for sid, kind, parent in zip(column("sourced_id"), column("type"), column("parent_sourced_id"),
                                             strict=True):
                    below = kind != "school" and parent in self.local
                    if below:
                        self.local.add(sid)
                    ok = sid in self.schools or kind in ABOVE_SCHOOL or below
                    if ok:
                        self.orgs.add(sid)
                    keep.append(ok)
                return keep
            case "courses":
                return [org in self.orgs for org in column("org_sourced_id")]
            case "classes" | "enrollments":
                return [school in self.local for school in column("school_sourced_id")]
            case "users":
                return [not self.local.isdisjoint(orgs) for orgs in column("org_sourced_ids")]
            case "roles":
                return [org in self.local for org in column("org_sourced_id")]
        return [True] * len(column("sourced_id"))


def _columns(records: Sequence[Record]) -> Callable[[str], Sequence[Any]]:
    """Attribute values column by column: read from stored columns (lists decoded) or from records."""
    if isinstance(records, StoredRows):
        def stored(attr: str) -> Sequence[Any]:
            values = records.column(attr)
            return [json.loads(v) if v else () for v in values] if attr == "org_sourced_ids" else values
        return stored
    return lambda attr: [getattr(r, attr) for r in records]
