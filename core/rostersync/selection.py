"""Selective sync: a school's rules for which of its own records it takes (``[schools.X.select]``).

Scope (:mod:`rostersync.scope`) decides which school a record belongs to; selection decides which of
the school's records it wants: only some grades, roles, courses, classes or terms. Rules, each an
include list (empty: everything) and an exclude list (wins over include)::

    [schools.lincoln.select]
    grades = ["09", "10"]            # users and classes with grades (CEDS codes); none: not judged
    exclude_roles = ["aide"]         # users (roles = [...] to include only some)
    courses = ["MATH*", "ENG*"]      # glob on the course code (its sourcedId when it has none)
    exclude_classes = ["*-HR"]       # glob on the class code (its sourcedId when it has none)
    terms = ["current", "next"]      # classes of these sessions (keywords, sourcedIds or titles)

A record a rule leaves out is **filtered**: not staged (so never inserted then deleted), counted per
entity as ``filtered``, and listed in the run report with its place and the rule. Rows that depend on
a filtered row follow it (a filtered student's enrollments and demographics, a filtered course's
classes, a filtered class's enrollments...), and references to filtered rows are not dangling.
Because filtered rows are simply not part of the run, a changed rule shows in ``sync --dry-run`` and
applies as an ordinary diff under the safeguards: rows newly filtered out of a bulk entity are
deleted (soft), rows newly let in are inserted (a delta source changes only what it sends; run
``sync --full`` after changing the rules).

Per batch, never per row in Python where the columnar path avoids it: each rule is decided once per
distinct value of its column (roles, grade lists, codes, term lists repeat endlessly) and the column is
then mapped through that table in C; a dependent row's check is one query per batch on the staging
file. Only filtered rows cost Python (their report line).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from rostersync.batches import MappedBatch
from rostersync.errors import ConfigError
from rostersync.grades import normalise_grades
from rostersync.issues import Issue
from rostersync.sessions import KEYWORDS, Session, covering, resolve
from rostersync.store.schema import StoredRows

if TYPE_CHECKING:
    from rostersync.store.base import Store
    from rostersync.store.staging import StagingArea

#: entity -> (attribute, entity it refers to): a row whose referenced row was filtered is filtered too
DEPENDS = {
    "classes": (("course_sourced_id", "courses"),),
    "enrollments": (("user_sourced_id", "users"), ("class_sourced_id", "classes")),
    "demographics": (("sourced_id", "users"),),
    "roles": (("user_sourced_id", "users"),),
    "user_profiles": (("user_sourced_id", "users"),),
    "line_items": (("class_sourced_id", "classes"),),
    "results": (("student_sourced_id", "users"), ("line_item_sourced_id", "line_items")),
    "class_resources": (("class_sourced_id", "classes"),),
    "course_resources": (("course_sourced_id", "courses"),),
}
#: entities whose filtered ids are noted for the rows that depend on them
NOTED = frozenset(target for deps in DEPENDS.values() for _attr, target in deps)
LABELS = {"grades": "grades", "role": "role", "class_code": "classCode", "course_code": "courseCode",
          "term_sourced_ids": "termSourcedIds", "course_sourced_id": "courseSourcedId",
          "user_sourced_id": "userSourcedId", "class_sourced_id": "classSourcedId", "sourced_id": "sourcedId",
          "student_sourced_id": "studentSourcedId", "line_item_sourced_id": "lineItemSourcedId"}
KEYS = ("grades", "exclude_grades", "roles", "exclude_roles", "courses", "exclude_courses", "classes",
        "exclude_classes", "terms")


def _strings(value: Any, where: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: select.{key} must be a list of strings")
    return tuple(value)


@attrs.frozen
class Selection:
    """A school's selective-sync rules (all empty: the school takes everything in its scope)."""

    grades: tuple[str, ...] = ()
    exclude_grades: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    exclude_roles: tuple[str, ...] = ()
    courses: tuple[str, ...] = ()
    exclude_courses: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    exclude_classes: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()

    @classmethod
    def parse(cls, table: dict[str, Any], where: str) -> Selection:
        unknown = sorted(set(table) - set(KEYS))
        if unknown:
            raise ConfigError(f"{where}: unknown select rule(s) {', '.join(unknown)} (rules: {', '.join(KEYS)})")
        values = {key: _strings(table[key], where, key) for key in KEYS if key in table}
        for key in ("grades", "exclude_grades"):  # compared as CEDS codes, whatever the operator wrote
            if key in values:
                values[key] = tuple(normalise_grades(values[key])[0])
        return cls(**values)

    def __bool__(self) -> bool:
        return any(getattr(self, key) for key in KEYS)

    def as_dict(self) -> dict[str, list[str]]:
        return {key: list(getattr(self, key)) for key in KEYS if getattr(self, key)}


def _included(value: str, include: Sequence[str], exclude: Sequence[str], what: str,
              match: Callable[[str, str], bool]) -> str | None:
    """Why ``value`` is left out by an include/exclude pair (None: kept)."""
    hit = next((p for p in exclude if match(value, p)), None)
    if hit is not None:
        return f"{what} {value!r} is excluded ({hit})"
    if include and not any(match(value, p) for p in include):
        return f"{what} {value!r} is not among the included ({', '.join(include)})"
    return None


def _glob(value: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def _equal(value: str, other: str) -> bool:
    return value == other


class Filter:
    """One run's selection: applied to each mapped batch after scope, before staging."""

    def __init__(self, selection: Selection, staging: StagingArea, store: Store | None, school: str,
                 today: dt.date) -> None:
        self.selection, self.staging, self.store, self.school, self.today = selection, staging, store, school, today
        self._terms: frozenset[str] | None = None
        self._term_titles: str = ""

    def filter(self, batch: MappedBatch) -> MappedBatch:
        """The part of ``batch`` the school's rules select; the rest is counted and reported as filtered."""
        if not batch.records:
            return batch
        column = _columns(batch.records, batch.entity)
        why: list[str | None] = [None] * len(batch.records)
        fields: list[str] = [""] * len(batch.records)
        values: list[Any] = [None] * len(batch.records)
        for attr, decide in self._rules(batch.entity):
            self._apply(column(attr), attr, decide, why, fields, values)
        for attr, target in DEPENDS.get(batch.entity, ()):
            if self.staging.has_filtered(target):
                ids = column(attr)
                gone = self.staging.filtered_ids(target, sorted({i for i in ids if i}))
                if gone:
                    self._apply(ids, attr, {i: f"its {target[:-1].replace('_', ' ')} {i!r} was filtered"
                                            for i in gone}.get, why, fields, values)
        if not any(why):
            return batch
        self.staging.declare(batch.entity, batch.mode, batch.location)
        keep = [w is None for w in why]
        sids = column("sourced_id")
        lines = batch.lines or [None] * len(keep)
        issues = [Issue(w, "warning", "filtered", batch.entity, batch.location, line, LABELS.get(f, f), sid,
                        _shown(v), "filtered")
                  for w, f, v, sid, line in zip(why, fields, values, sids, lines, strict=True) if w]
        dropped = [sid for sid, k in zip(sids, keep, strict=True) if not k] if batch.entity in NOTED else ()
        self.staging.count_filtered(batch.entity, issues, dropped)
        records = batch.records
        kept = records.select(keep) if isinstance(records, StoredRows) else \
            [r for r, k in zip(records, keep, strict=True) if k]
        kept_lines = [ln for ln, k in zip(batch.lines, keep, strict=True) if k] if batch.lines else ()
        return attrs.evolve(batch, records=kept, lines=kept_lines)

    @staticmethod
    def _apply(column: Sequence[Any], attr: str, decide: Callable[[Any], str | None], why: list[str | None],
               fields: list[str], values: list[Any]) -> None:
        """Decide each distinct value of ``column`` once, then mark the rows it leaves out (first rule wins)."""
        table = {value: decide(value) for value in set(column)}
        if not any(table.values()):
            return
        for row, reason in enumerate(map(table.__getitem__, column)):
            if reason and why[row] is None:
                why[row], fields[row], values[row] = reason, attr, column[row]

    def _rules(self, entity: str) -> list[tuple[str, Callable[[Any], str | None]]]:
        s = self.selection
        rules: list[tuple[str, Callable[[Any], str | None]]] = []
        if entity in ("users", "classes") and (s.grades or s.exclude_grades):
            rules.append(("grades", self._grades))
        if entity == "users" and (s.roles or s.exclude_roles):
            rules.append(("role", lambda role: _included(role, s.roles, s.exclude_roles, "role", _equal)))
        if entity == "courses" and (s.courses or s.exclude_courses):
            rules.append(("course_code", lambda code: _included(code, s.courses, s.exclude_courses, "course code",
                                                                _glob)))
        if entity == "classes" and (s.classes or s.exclude_classes):
            rules.append(("class_code", lambda code: _included(code, s.classes, s.exclude_classes, "class code",
                                                               _glob)))
        if entity == "classes" and s.terms:
            rules.append(("term_sourced_ids", self._term))
        return rules

    def _grades(self, grades: Any) -> str | None:
        codes = _listed(grades)
        if not codes:
            return None  # a record without grades is not judged by grade
        s = self.selection
        excluded = [g for g in codes if g in s.exclude_grades]
        if excluded:
            return f"grade {', '.join(excluded)} is excluded ({', '.join(s.exclude_grades)})"
        if s.grades and not set(codes) & set(s.grades):
            return f"grade {', '.join(codes)} is not among the included ({', '.join(s.grades)})"
        return None

    def _term(self, terms: Any) -> str | None:
        selected = self._selected_terms()
        ids = _listed(terms)
        if not ids or set(ids) & selected:
            return None
        return f"term {', '.join(ids)} is not among the selected terms ({self._term_titles or 'none found'})"

    def _selected_terms(self) -> frozenset[str]:
        """The sessions the ``terms`` rule selects, worked out once per run from this run's sessions (or
        the roster's, when the run carries none) and today's date."""
        if self._terms is None:
            sessions = staged_sessions(self.staging) or (live_sessions(self.store, self.school) if self.store else [])
            chosen = resolve(sessions, self.selection.terms, self.today)
            words = [w for w in self.selection.terms if w in KEYWORDS]
            self._term_titles = ", ".join(chosen.values()) + (f" [{', '.join(words)}]" if words else "")
            self._terms = covering(sessions, chosen)
        return self._terms


def _listed(value: Any) -> tuple[str, ...]:
    """A list attribute's values: stored as JSON text (the columnar path) or a tuple (records)."""
    if not value:
        return ()
    return tuple(json.loads(value)) if isinstance(value, str) else tuple(value)


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, str) and value.startswith("["):
        try:
            return ",".join(json.loads(value))
        except ValueError:
            return value
    return str(value)


def _columns(records: Sequence[Any], entity: str) -> Callable[[str], Sequence[Any]]:
    """Attribute values column by column, in stored form for the columnar path (lists as JSON text). A
    course's or class's code is its sourcedId when it has none (patterns then match the id)."""
    if isinstance(records, StoredRows):
        def read(attr: str) -> Sequence[Any]:
            return records.column(attr)
    else:
        def read(attr: str) -> Sequence[Any]:
            return [getattr(r, attr) for r in records]

    def column(attr: str) -> Sequence[Any]:
        if attr in ("course_code", "class_code"):
            return [code or sid for code, sid in zip(read(attr), read("sourced_id"), strict=True)]
        return read(attr)
    return column


def staged_sessions(staging: StagingArea) -> list[Session]:
    """The academic sessions this run staged (none when it carries no sessions file)."""
    if "academic_sessions" not in staging._modes:
        return []
    staging.finish()
    rows = staging.conn.execute("SELECT sourced_id, title, type, start_date, end_date, parent_sourced_id "
                                "FROM academic_sessions WHERE _deleted = 0").fetchall()
    return [Session(*row) for row in rows]


def live_sessions(store: Store, school: str) -> list[Session]:
    """The school's live academic sessions (every source)."""
    columns = ("sourced_id", "title", "type", "start_date", "end_date", "parent_sourced_id")
    return [Session(*row) for row in store.live_rows(school, "academic_sessions", columns)]
