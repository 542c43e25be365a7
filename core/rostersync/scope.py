"""Which of a source's records belong to a school: the SIS org ids configured for it.

A district SIS exports every school; a school in rostersync imports its own share. With no org ids
configured, everything the source holds is imported. Rules (per record, so nothing is buffered):
orgs listed, their departments, and the org levels above schools (district, state...); courses of
those orgs; classes and enrollments of the listed schools; users with one of the listed orgs;
demographics of users this run imports; every academic session (they are district-wide).
"""

from __future__ import annotations

import attrs

from rostersync.batches import MappedBatch
from rostersync.model import Class, Course, Demographics, Enrollment, Org, Record, User
from rostersync.store.sqlite import StagingArea

ABOVE_SCHOOL = frozenset({"district", "local", "state", "national"})


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
        return True

    def filter(self, batch: MappedBatch, staging: StagingArea) -> MappedBatch:
        """The part of ``batch`` this school imports; the rest is counted as out of scope."""
        if not self.schools:
            return batch
        if batch.entity == "demographics":
            staged = staging.staged_ids("users", [r.sourced_id for r in batch.records])
            keep = [isinstance(r, Demographics) and r.sourced_id in staged for r in batch.records]
        else:
            keep = [self._keep(r) for r in batch.records]
        if all(keep):
            return batch
        staging.declare(batch.entity, batch.mode, batch.location)
        staging.count_out_of_scope(batch.entity, keep.count(False))
        lines = batch.lines or [0] * len(batch.records)
        kept = [(r, ln) for r, ln, k in zip(batch.records, lines, keep, strict=True) if k]
        return attrs.evolve(batch, records=[r for r, _ in kept], lines=[ln for _, ln in kept] if batch.lines else ())
