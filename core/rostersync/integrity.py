"""Referential checks on a staged run, after the last batch and before apply: set-based SQL on the
staging file, never a per-row lookup from Python.

Checks, each with a policy (``error``: refuse the run; ``skip``: leave the row out and warn):

* ``duplicate`` - a sourcedId twice in one entity (enforced while staging). Default: error.
* ``dangling`` - a row refers to a record that does not exist: an enrollment's class or user, a
  class's course or school, a course's org (and the gradebook/resource/role links). Default: skip.
* ``no_school`` - a student none of whose orgs is known (an org of any type: a student attached only
  to a department is kept, see :mod:`rostersync.orgtree`). Default: skip.
* ``invalid`` - a row with a bad value (applied by the engine as each batch is mapped: ``skip`` leaves
  the row out, reported as *rejected*, and keeps its live row as it is). Default: error.
* ``cycle`` - an org or academic session that is its own ancestor (:mod:`rostersync.hierarchy`).
  Always an error.

Broken headers are always errors, and invalid values unless ``invalid`` is ``skip`` (see
:mod:`rostersync.formats.columns`).

When does a reference resolve? The rule, applied per referenced id:

1. it is staged in this run and not ``tobedeleted``; or
2. this school's scope dropped it in this run (it exists, in another school: "out of scope", fine,
   not dangling - a teacher's enrollment in a class of a school this rostersync school does not
   import is expected when a district sends everything); or
3. the referenced entity is ``delta`` or ``absent`` in this run (so its live rows stay), the id is
   not staged at all, and it is live in this school's roster from this source (a delta refers to rows
   sent earlier). When the referenced entity is ``bulk``, the live roster does not count: whatever bulk
   omits is deleted.

Rule 3 asks the store (:meth:`rostersync.store.base.Store.live_ids`) about only the ids rules 1-2 leave
unresolved, distinct, in chunks, and keeps its answers in a temporary table of the staging file; the
check itself stays one query per reference, in SQLite's C.

A reference into an entity this run does not carry at all (the manifest declares courses.csv
``absent``, an API does not share the endpoint) that the roster does not resolve either is not
dangling: the source chose not to say. The row is kept with the reference unresolved and a warning,
whatever the ``dangling`` policy (a class still names its course; skipping it would take its
enrollments with it).

With no roster to look in (``rostersync validate``), rule 3 cannot be checked: such references are
counted as "unverified", not reported. Checks run in dependency order, so a skipped class makes its
enrollments dangle in turn (and each is reported). Skipped rows are deleted from staging: in a bulk
entity that means "not current", so a live row that now dangles is soft-deleted on apply; in a delta
the live row is left alone.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import attrs

from rostersync.errors import ConfigError, DataError
from rostersync.formats.oneroster_csv import FILES
from rostersync.issues import Issue
from rostersync.orgtree import attach_to_schools, check_types, treat_as_schools
from rostersync.settings import ReferenceCheckSettings
from rostersync.store.schema import staged_live
from rostersync.store.sqlfiles import q

if TYPE_CHECKING:
    from rostersync.store.base import Store
    from rostersync.store.staging import StagingArea

CHECKS = ("duplicate", "dangling", "no_school", "invalid")
ACTIONS = ("error", "skip")
EXAMPLES = 5
#: how many ids one question to the store (rule 3) carries
LIVE_CHUNK = 10_000


@attrs.frozen
class CheckPolicy:
    """What each check does with a failing row: ``error`` (refuse the run) or ``skip`` (leave it out, warn)."""

    duplicate: str = "error"
    dangling: str = "skip"
    no_school: str = "skip"
    #: org types stored and checked as schools (e.g. ``department`` for an SIS with no school orgs)
    org_types_as_school: tuple[str, ...] = ()
    invalid: str = "error"  # a row with a bad value: refuse the run, or leave the row out (its live row kept)

    def __attrs_post_init__(self) -> None:
        for check in CHECKS:
            if getattr(self, check) not in ACTIONS:
                raise ConfigError(f"check {check}: {getattr(self, check)!r} is not one of {', '.join(ACTIONS)}")
        try:
            check_types(self.org_types_as_school)
        except ValueError as exc:
            raise ConfigError(f"org_types_as_school: {exc}") from None

    @classmethod
    def parse(cls, items: Iterable[str]) -> CheckPolicy:
        """From ``check=action`` strings, e.g. ``("dangling=error",)``."""
        values: dict[str, str] = {}
        for item in items:
            check, sep, action = item.partition("=")
            check = check.strip().replace("-", "_")
            if not sep or check not in CHECKS:
                raise ConfigError(f"{item!r}: expected CHECK=error|skip with CHECK one of {', '.join(CHECKS)}")
            values[check] = action.strip()
        return cls(**values)

    @classmethod
    def from_settings(cls, settings: ReferenceCheckSettings) -> CheckPolicy:
        """The policies a connector's settings chose (every kind's settings inherit them)."""
        return cls(duplicate=settings.on_duplicate, dangling=settings.on_dangling, no_school=settings.on_no_school,
                   org_types_as_school=tuple(settings.org_types_as_school), invalid=settings.on_invalid)


@attrs.frozen
class Reference:
    entity: str
    attr: str
    target: str
    what: str


#: in dependency order: a row skipped by an earlier check makes later references to it dangle
REFERENCES = (
    Reference("courses", "org_sourced_id", "orgs", "org"),
    Reference("classes", "course_sourced_id", "courses", "course"),
    Reference("classes", "school_sourced_id", "orgs", "school"),
    Reference("users", "org_sourced_ids", "orgs", "school"),  # the no_school check
    Reference("enrollments", "class_sourced_id", "classes", "class"),
    Reference("enrollments", "user_sourced_id", "users", "user"),
    Reference("demographics", "sourced_id", "users", "user"),
    Reference("roles", "user_sourced_id", "users", "user"),
    Reference("user_profiles", "user_sourced_id", "users", "user"),
    Reference("line_items", "class_sourced_id", "classes", "class"),
    Reference("results", "line_item_sourced_id", "line_items", "line item"),
    Reference("results", "student_sourced_id", "users", "student"),
    Reference("class_resources", "class_sourced_id", "classes", "class"),
    Reference("class_resources", "resource_sourced_id", "resources", "resource"),
    Reference("course_resources", "course_sourced_id", "courses", "course"),
    Reference("course_resources", "resource_sourced_id", "resources", "resource"),
)

#: Clever's column names, by file (lower-case), used when the run read Clever files (it has schools.csv,
#: a name no OneRoster bundle uses); otherwise the OneRoster header names
CLEVER_LABELS = {
    "enrollments.csv": {"class_sourced_id": "Section_id", "user_sourced_id": "Student_id"},
    "sections.csv": {"course_sourced_id": "Course_number", "school_sourced_id": "School_id",
                     "class_sourced_id": "Section_id", "user_sourced_id": "Teacher_id", "org_sourced_id": "School_id"},
    "students.csv": {"org_sourced_ids": "School_id", "sourced_id": "Student_id"},
    "teachers.csv": {"org_sourced_ids": "School_id"},
    "staff.csv": {"org_sourced_ids": "School_id"},
}


def column_label(file: str, entity: str, attr: str, clever: bool = False) -> str:
    """The header name a row's attribute came from, for ``file:line:column`` messages."""
    labels = CLEVER_LABELS.get(file.rsplit("/", 1)[-1].lower(), {}) if clever else {}
    if attr in labels:
        return labels[attr]
    spec = FILES.get(entity)
    return next((c.name for c in spec.columns if c.attr == attr), attr) if spec else attr


@attrs.frozen
class LiveRoster:
    """Where rule 3 looks: the store's live roster of one school and source."""

    store: Store
    school: str
    source: str

    def ids(self, entity: str, ids: list[str], schools_only: bool) -> set[str]:
        return self.store.live_ids(self.school, self.source, entity, ids, schools_only=schools_only)


@attrs.define
class IntegrityReport:
    """Errors (policy ``error``; at most a few examples kept per check) and counts per check."""

    errors: list[Issue] = attrs.Factory(list)
    error_counts: dict[str, int] = attrs.Factory(dict)
    skipped: dict[str, int] = attrs.Factory(dict)
    unverified: int = 0
    examples: int = EXAMPLES

    def add_error(self, issue: Issue) -> None:
        self.error_counts[issue.code] = self.error_counts.get(issue.code, 0) + 1
        if self.error_counts[issue.code] <= self.examples:
            self.errors.append(issue)

    def raise_errors(self) -> None:
        if not self.errors:
            return
        first = self.errors[0]
        total = sum(self.error_counts.values())
        more = f" (and {total - 1} more; rostersync validate lists them)" if total > 1 else ""
        raise DataError(first.message + more, first.file or "", first.line, first.column)


def verify_references(staging: StagingArea, policy: CheckPolicy, roster: LiveRoster | None = None,
                      on_error: Callable[[Issue], None] | None = None) -> IntegrityReport:
    """Run every check on a finished staging area. Rows failing a ``skip`` check are deleted and warned
    about; those failing an ``error`` check go to ``on_error`` (default: the report keeps counts and a
    few examples). Without a ``roster`` (``rostersync validate``) rule 3 is not checked."""
    report = IntegrityReport()
    on_error = on_error or report.add_error
    conn = staging.conn
    modes = dict(conn.execute("SELECT entity, mode FROM _entities").fetchall())
    files = dict(conn.execute("SELECT id, name FROM _files").fetchall())
    clever = any(name.rsplit("/", 1)[-1].lower() == "schools.csv" for name in files.values())
    staging.index_out_of_scope()
    if roster is not None:  # rule 3's answers: (entity, schools only?, id) live in the roster
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS _live (entity TEXT, schools INTEGER, sourced_id TEXT, "
                     "PRIMARY KEY (entity, schools, sourced_id)) WITHOUT ROWID")
    from rostersync.hierarchy import parent_cycles  # it builds on this module's column_label

    for issue in parent_cycles(conn, modes, files):
        on_error(issue)
    treat_as_schools(conn, policy.org_types_as_school)
    attach_to_schools(conn)
    for ref in REFERENCES:
        if ref.entity not in modes:
            continue
        check = "no_school" if ref.attr == "org_sourced_ids" else "dangling"
        _check(staging, ref, check, getattr(policy, check), modes, files, clever, roster, report, on_error)
    return report


def _value(ref: Reference, org_list: bool) -> str:
    """SQL: the referenced id (one org of a student's list for the no-school check: ``org_list``)."""
    return "j.value" if org_list else f"s.{q(ref.attr)}"


def _referring(ref: Reference, org_list: bool, condition: str, select: str) -> str:
    """SQL selecting ``select`` for each staged referring row (each org of a student's list for the
    no-school check) whose referenced id meets ``condition``."""
    e = q(ref.entity)
    if org_list:
        return (f"SELECT {select} FROM {e} s, json_each(coalesce(s.org_sourced_ids, '[]')) j "
                f"WHERE s._deleted = 0 AND s.role = 'student' AND {condition}")
    return f"SELECT {select} FROM {e} s WHERE s._deleted = 0 AND s.{q(ref.attr)} IS NOT NULL AND {condition}"


def _resolves(ref: Reference, value: str, modes: dict[str, str], roster: LiveRoster | None) -> str | None:
    """SQL (in terms of ``value``) true when the reference resolves by rules 1-3; None when that cannot
    be decided (the target is not bulk and there is no roster to look in)."""
    t = q(ref.target)
    # most references resolve to a staged row: that test comes first, so OR stops there
    parts = []
    if ref.target in modes:
        live = staged_live("t", modes[ref.target])
        parts.append(f"EXISTS (SELECT 1 FROM {t} t WHERE t.sourced_id = {value}{live})")
    parts.append(_out_of_scope(ref, value))
    if modes.get(ref.target) != "bulk":
        if roster is None:
            return None
        parts.append(f"({_unstaged(ref, value, modes)} AND EXISTS (SELECT 1 FROM _live l WHERE "
                     f"l.entity = '{ref.target}' AND l.schools = 0 AND l.sourced_id = {value}))")
    return " OR ".join(parts)


def _out_of_scope(ref: Reference, value: str) -> str:
    """SQL: rule 2, this school's scope (or its selective-sync rules) dropped the referenced id in this
    run, or it was refused as invalid and left as it is (``on_invalid = "skip"``): it exists, it is not
    dangling."""
    return (f"(EXISTS (SELECT 1 FROM _out_of_scope o WHERE o.entity = '{ref.target}' AND o.sourced_id = {value}) "
            f"OR EXISTS (SELECT 1 FROM _filtered o WHERE o.entity = '{ref.target}' AND o.sourced_id = {value}) "
            f"OR EXISTS (SELECT 1 FROM _kept o WHERE o.entity = '{ref.target}' AND o.sourced_id = {value}))")


def _unstaged(ref: Reference, value: str, modes: dict[str, str]) -> str:
    """SQL: this run staged no row at all (not even a tombstone) with the referenced id."""
    if ref.target not in modes:
        return "1"
    return f"NOT EXISTS (SELECT 1 FROM {q(ref.target)} t WHERE t.sourced_id = {value})"


def _ask_roster(conn: sqlite3.Connection, ref: Reference, org_list: bool, modes: dict[str, str],
                roster: LiveRoster) -> None:
    """Rule 3's look-ups: the distinct ids this reference may resolve only in the live roster (not
    staged, not out of scope) go to the store in chunks; those live there land in ``_live``."""
    value = _value(ref, org_list)
    sql = _referring(ref, org_list, f"{_unstaged(ref, value, modes)} AND NOT {_out_of_scope(ref, value)}",
                     f"DISTINCT {value}")
    insert = f"INSERT OR IGNORE INTO _live VALUES ('{ref.target}', 0, ?)"  # any org counts, not only schools
    candidates = conn.execute(sql)
    while chunk := [v for (v,) in candidates.fetchmany(LIVE_CHUNK)]:
        found = roster.ids(ref.target, chunk, False)
        if found:
            conn.executemany(insert, [(i,) for i in found])


def _check(staging: StagingArea, ref: Reference, check: str, action: str, modes: dict[str, str],
           files: dict[int, str], clever: bool, roster: LiveRoster | None, report: IntegrityReport,
           on_error: Callable[[Issue], None]) -> None:
    conn = staging.conn
    e = q(ref.entity)
    org_list = check == "no_school"
    ok = _resolves(ref, _value(ref, org_list), modes, roster)
    if ok is None:
        report.unverified += conn.execute(f"SELECT count(*) FROM {e} WHERE _deleted = 0").fetchone()[0]
        return
    if roster is not None and modes.get(ref.target) != "bulk":
        _ask_roster(conn, ref, org_list, modes, roster)
    if org_list:
        sql = (f"SELECT s.rowid, s._line, s._file, s.sourced_id, s.org_sourced_ids FROM {e} s "
               f"WHERE s._deleted = 0 AND s.role = 'student' AND NOT EXISTS "
               f"(SELECT 1 FROM json_each(coalesce(s.org_sourced_ids, '[]')) j WHERE {ok})")
    else:
        sql = (f"SELECT s.rowid, s._line, s._file, s.sourced_id, s.{q(ref.attr)} FROM {e} s "
               f"WHERE s._deleted = 0 AND s.{q(ref.attr)} IS NOT NULL AND NOT ({ok})")
    skipped: list[tuple[int]] = []
    warnings: list[Issue] = []
    absent = ref.target not in modes
    for rowid, line, file_id, sourced_id, value in conn.execute(sql):
        file = files.get(file_id, ref.entity)
        issue = Issue(_message(ref, check, sourced_id, value, modes, roster), "error", check, ref.entity, file,
                      line, column_label(file, ref.entity, ref.attr, clever), sourced_id,
                      _list(value) if org_list else value)
        if absent:
            warnings.append(attrs.evolve(issue, level="warning", code="unresolved",
                                         message=f"{issue.message}; kept with the reference unresolved"))
        elif action == "skip":
            skipped.append((rowid,))
            warnings.append(attrs.evolve(issue, level="warning", message=f"{issue.message}; row skipped",
                                         outcome="skipped"))
        else:
            on_error(issue)
    if skipped or warnings:
        conn.execute("BEGIN")
        conn.executemany(f"DELETE FROM {e} WHERE rowid = ?", skipped)
        staging.warn(warnings)
        conn.execute("COMMIT")
    if skipped:
        report.skipped[ref.entity] = report.skipped.get(ref.entity, 0) + len(skipped)


def _message(ref: Reference, check: str, sourced_id: str, value: str, modes: dict[str, str],
             roster: LiveRoster | None) -> str:
    where = "this bundle" if modes.get(ref.target) == "bulk" or roster is None else "this bundle or the roster"
    if ref.target not in modes:
        target = ref.target.replace("_", " ")
        if check == "no_school":
            return (f"student {sourced_id!r} belongs to orgs ({_list(value)}) that the roster does not hold, and "
                    f"{target} are absent from this run")
        return (f"{ref.entity.replace('_', ' ')} {sourced_id!r} refers to {ref.what} {value!r}, which the roster "
                f"does not hold, and {target} are absent from this run")
    if check == "no_school":
        return f"student {sourced_id!r} has no known org: none of its orgs ({_list(value)}) is in {where}"
    return f"{ref.entity.replace('_', ' ')} {sourced_id!r} refers to {ref.what} {value!r}, which is not in {where}"


def _list(value: str | None) -> str:
    return ", ".join(json.loads(value)) if value else "none"
