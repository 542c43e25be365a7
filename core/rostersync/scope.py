"""Which of a source's records belong to a school: the SIS org ids configured for it.

A district SIS exports every school; a school in rostersync imports its own share. With no org ids
configured, everything the source holds is imported. Rules (per record, so nothing is buffered):
orgs listed, their departments, and the org levels above schools (district, state...); courses of
those orgs; classes and enrollments of the listed schools; users with one of the listed orgs;
demographics of users this run imports; every academic session (they are district-wide).
OneRoster 1.2 roles are kept for the listed schools (a district role of a user is the district's
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

import attrs

from rostersync.batches import MappedBatch
from rostersync.model import Class, Course, Enrollment, Org, Record, Role, User
from rostersync.store.sqlite import StagingArea

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
        self.orgs = set(org_ids)  # grows with admitted district-level orgs and departments

    def _keep(self, record: Record) -> bool:
        match record:
            case Org():
                if (record.sourced_id in self.schools or record.type in ABOVE_SCHOOL
                        or (record.type == "department" and record.parent_sourced_id in self.schools)):
                    self.orgs.add(record.sourced_id)
                    return True
                return False
            case Course():
                return record.org_sourced_id in self.orgs
            case Class() | Enrollment():
                return record.school_sourced_id in self.schools
            case User():
                return not self.schools.isdisjoint(record.org_sourced_ids)
            case Role():
                return record.org_sourced_id in self.schools
        return True

    def filter(self, batch: MappedBatch, staging: StagingArea) -> MappedBatch:
        """The part of ``batch`` this school imports; the rest is counted as out of scope."""
        if not self.schools:
            return batch
        if batch.entity in OWNED_BY:
            parent, attr = OWNED_BY[batch.entity]
            ids = [getattr(r, attr) for r in batch.records]
            staged = staging.staged_ids(parent, ids)
            dropped = _out_of_scope(staging, parent, [i for i in ids if i not in staged])
            keep = [i not in dropped for i in ids]
        else:
            keep = [self._keep(r) for r in batch.records]
        if all(keep):
            return batch
        staging.declare(batch.entity, batch.mode, batch.location)
        dropped = [r.sourced_id for r, k in zip(batch.records, keep, strict=True) if not k]
        staging.count_out_of_scope(batch.entity, len(dropped), dropped if batch.entity in REFERRED_TO else ())
        lines = batch.lines or [0] * len(batch.records)
        kept = [(r, ln) for r, ln, k in zip(batch.records, lines, keep, strict=True) if k]
        return attrs.evolve(batch, records=[r for r, _ in kept], lines=[ln for _, ln in kept] if batch.lines else ())


def _out_of_scope(staging: StagingArea, entity: str, ids: list[str]) -> set[str]:
    """Which of ``ids`` this school's scope dropped from ``entity`` in this run."""
    if not ids:
        return set()
    conn = staging.conn
    conn.execute("CREATE INDEX IF NOT EXISTS _out_of_scope_ids ON _out_of_scope (entity, sourced_id)")
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        sql = f"SELECT sourced_id FROM _out_of_scope WHERE entity=? AND sourced_id IN ({', '.join('?' * len(chunk))})"
        found.update(r[0] for r in conn.execute(sql, [entity, *chunk]))
    return found
