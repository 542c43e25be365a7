"""Referential checks on a staged run, after the last batch and before apply: set-based SQL on the
staging file, never a per-row lookup from Python.

Checks, each with a policy (``error``: refuse the run; ``skip``: leave the row out and warn):

* ``duplicate`` - a sourcedId twice in one entity (enforced while staging). Default: error.
* ``dangling`` - a row refers to a record that does not exist: an enrollment's class or user, a
  class's course or school, a course's org (and the gradebook/resource/role links). Default: skip.
* ``no_school`` - a student none of whose orgs is a school. Default: skip.
* ``cycle`` - an org or academic session that is its own ancestor (:mod:`rostersync.hierarchy`).
  Always an error.

Broken headers and invalid values are always errors (see :mod:`rostersync.formats.columns`).

When does a reference resolve? The rule, applied per referenced id:

1. it is staged in this run and not ``tobedeleted``; or
2. this school's scope dropped it in this run (it exists, in another school: "out of scope", fine,
   not dangling - a teacher's enrollment in a class of a school this rostersync school does not
   import is expected when a district sends everything); or
3. the referenced entity is ``delta`` or ``absent`` in this run (so its live rows stay) and the id
   is live in this school's roster from this source (a delta refers to rows sent earlier). When the
   referenced entity is ``bulk``, the live roster does not count: whatever bulk omits is deleted.

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
from pathlib import Path

import attrs

from rostersync.errors import ConfigError, DataError
from rostersync.formats.oneroster_csv import FILES
from rostersync.settings import ReferenceCheckSettings
from rostersync.store.schema import staged_live

CHECKS = ("duplicate", "dangling", "no_school")
ACTIONS = ("error", "skip")
EXAMPLES = 5


@attrs.frozen
class CheckPolicy:
    """What each check does with a failing row: ``error`` (refuse the run) or ``skip`` (leave it out, warn)."""

    duplicate: str = "error"
    dangling: str = "skip"
    no_school: str = "skip"

    def __attrs_post_init__(self) -> None:
        for check in CHECKS:
            if getattr(self, check) not in ACTIONS:
                raise ConfigError(f"check {check}: {getattr(self, check)!r} is not one of {', '.join(ACTIONS)}")

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
        return cls(duplicate=settings.on_duplicate, dangling=settings.on_dangling, no_school=settings.on_no_school)


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
    """Where rule 3 looks: the store's database, for one school and source."""

    path: Path
    school: str
    source: str


@attrs.define
class Finding:
    check: str
    file: str
    line: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}:{self.column}: {self.message}"


@attrs.define
class IntegrityReport:
    """Errors (policy ``error``; at most a few examples kept per check) and counts per check."""

    errors: list[Finding] = attrs.Factory(list)
    error_counts: dict[str, int] = attrs.Factory(dict)
    skipped: dict[str, int] = attrs.Factory(dict)
    unverified: int = 0
    examples: int = EXAMPLES

    def add_error(self, finding: Finding) -> None:
        self.error_counts[finding.check] = self.error_counts.get(finding.check, 0) + 1
        if self.error_counts[finding.check] <= self.examples:
            self.errors.append(finding)

    def raise_errors(self) -> None:
        if not self.errors:
            return
        first = self.errors[0]
        total = sum(self.error_counts.values())
        more = f" (and {total - 1} more; rostersync validate lists them)" if total > 1 else ""
        raise DataError(first.message + more, first.file, first.line, first.column)


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def verify_references(conn: sqlite3.Connection, policy: CheckPolicy, roster: LiveRoster | None = None,
                      on_error: Callable[[Finding], None] | None = None) -> IntegrityReport:
    """Run every check on the staging database ``conn`` (a StagingArea's connection). Rows failing a
    ``skip`` check are deleted and warned about; those failing an ``error`` check go to ``on_error``
    (default: the report keeps counts and a few examples)."""
    report = IntegrityReport()
    on_error = on_error or report.add_error
    modes = dict(conn.execute("SELECT entity, mode FROM _entities").fetchall())
    files = dict(conn.execute("SELECT id, name FROM _files").fetchall())
    clever = any(name.rsplit("/", 1)[-1].lower() == "schools.csv" for name in files.values())
    conn.execute("CREATE INDEX IF NOT EXISTS _out_of_scope_ids ON _out_of_scope (entity, sourced_id)")
    attached = False
    if roster is not None and Path(roster.path).is_file():
        conn.execute("ATTACH DATABASE ? AS live", [str(roster.path)])
        attached = True
    try:
        from rostersync.hierarchy import parent_cycles  # it builds on this module's Finding

        for finding in parent_cycles(conn, modes, files):
            on_error(finding)
        for ref in REFERENCES:
            if ref.entity not in modes:
                continue
            check = "no_school" if ref.attr == "org_sourced_ids" else "dangling"
            _check(conn, ref, check, getattr(policy, check), modes, files, clever,
                   roster if attached else None, report, on_error)
    finally:
        if attached:
            conn.execute("DETACH DATABASE live")
    return report


def _resolves(ref: Reference, value: str, modes: dict[str, str], roster: LiveRoster | None,
              school_only: bool) -> str | None:
    """SQL (in terms of ``value``) true when the reference resolves by rules 1-3; None when that cannot
    be decided (the target is not bulk and there is no roster to look in)."""
    t = q(ref.target)
    kind = " AND t.type = 'school'" if school_only else ""
    live_kind = " AND l.type = 'school'" if school_only else ""
    # most references resolve to a staged row: that test comes first, so OR stops there
    parts = []
    if ref.target in modes:
        live = staged_live("t", modes[ref.target])
        parts.append(f"EXISTS (SELECT 1 FROM {t} t WHERE t.sourced_id = {value}{live}{kind})")
    parts.append(f"EXISTS (SELECT 1 FROM _out_of_scope o WHERE o.entity = '{ref.target}' AND o.sourced_id = {value})")
    if modes.get(ref.target) != "bulk":
        if roster is None:
            return None
        staged = f"NOT EXISTS (SELECT 1 FROM {t} t WHERE t.sourced_id = {value})" if ref.target in modes else "1"
        parts.append(
            f"({staged} AND EXISTS (SELECT 1 FROM live.{t} l WHERE l.school = :school AND l.source = :source "
            f"AND l.sourced_id = {value} AND l.deleted_at IS NULL{live_kind}))"
        )
    return " OR ".join(parts)


def _check(conn: sqlite3.Connection, ref: Reference, check: str, action: str, modes: dict[str, str],
           files: dict[int, str], clever: bool, roster: LiveRoster | None, report: IntegrityReport,
           on_error: Callable[[Finding], None]) -> None:
    e = q(ref.entity)
    school_only = check == "no_school"
    ok = _resolves(ref, "j.value" if school_only else f"s.{q(ref.attr)}", modes, roster, school_only)
    if ok is None:
        report.unverified += conn.execute(f"SELECT count(*) FROM {e} WHERE _deleted = 0").fetchone()[0]
        return
    if school_only:
        sql = (f"SELECT s.rowid, s._line, s._file, s.sourced_id, s.org_sourced_ids FROM {e} s "
               f"WHERE s._deleted = 0 AND s.role = 'student' AND NOT EXISTS "
               f"(SELECT 1 FROM json_each(coalesce(s.org_sourced_ids, '[]')) j WHERE {ok})")
    else:
        sql = (f"SELECT s.rowid, s._line, s._file, s.sourced_id, s.{q(ref.attr)} FROM {e} s "
               f"WHERE s._deleted = 0 AND s.{q(ref.attr)} IS NOT NULL AND NOT ({ok})")
    params = {"school": roster.school, "source": roster.source} if roster else {}
    skipped: list[tuple[int]] = []
    warnings: list[tuple[str]] = []
    for rowid, line, file_id, sourced_id, value in conn.execute(sql, params):
        file = files.get(file_id, ref.entity)
        finding = Finding(check, file, line, column_label(file, ref.entity, ref.attr, clever),
                          _message(ref, check, sourced_id, value, modes, roster))
        if action == "skip":
            skipped.append((rowid,))
            warnings.append((f"{finding}; row skipped",))
        else:
            on_error(finding)
    if skipped:
        conn.execute("BEGIN")
        conn.executemany(f"DELETE FROM {e} WHERE rowid = ?", skipped)
        conn.executemany("INSERT INTO _issues (level, message) VALUES ('warning', ?)", warnings)
        conn.execute("COMMIT")
        report.skipped[ref.entity] = report.skipped.get(ref.entity, 0) + len(skipped)


def _message(ref: Reference, check: str, sourced_id: str, value: str, modes: dict[str, str],
             roster: LiveRoster | None) -> str:
    where = "this bundle" if modes.get(ref.target) == "bulk" or roster is None else "this bundle or the roster"
    if check == "no_school":
        return (f"student {sourced_id!r} has no school: none of its orgs ({_list(value)}) is a school in {where}")
    return f"{ref.entity.replace('_', ' ')} {sourced_id!r} refers to {ref.what} {value!r}, which is not in {where}"


def _list(value: str | None) -> str:
    return ", ".join(json.loads(value)) if value else "none"
