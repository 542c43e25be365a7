"""Reading a Clever SFTP bundle: the required-files check, and the streams Clever leaves implicit.

Clever's files are flat: a section row carries its course, term and up to ten teachers; a student
with three contacts is three student rows (and siblings repeat the same contact). The canonical
model needs courses, terms, teacher enrollments, one row per student and one guardian per contact,
linked both ways through ``agent_sourced_ids``; a teacher who teaches at two schools belongs to both
(Clever lists such a teacher once, with one School_id). All of that needs rows that are far apart in
a file, so a first pass copies the few columns involved into a private temporary SQLite file
(indexed), and the streams are then produced from it with SQL and per-batch indexed lookups. Memory
is bounded by a batch; the temporary file is removed when reading ends.

A student belongs to their School_id and to the school of every section they are enrolled in (a
fifth-grader taking band at the middle school), as a teacher belongs to the schools they teach at,
so a sync scoped to the second school keeps the student with the enrollment; their guardians
follow them. enrollments.csv is therefore read before the people files, noting each student's
schools as its batches pass.

What is derived (terms, courses, guardians) is built as records straight from the joined columns
(``clever-csv+records`` batches, at the line of the first row it came from), never written out as
CSV text to be parsed again; lists a reader adds to a file's own rows (a teacher's schools, a
student's contacts) travel as JSON. A district whose vendor asked for a ``courses.csv`` gets its
courses from it; a section naming a course the file lacks still gets one, derived, with a warning.

Every Clever drop is a full snapshot (Clever has no deltas), so every stream is ``bulk``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from rostersync.batches import RawBatch
from rostersync.bundlefiles import BATCH_ROWS, Bundle, read_csv
from rostersync.errors import DataError
from rostersync.formats.clever_csv import (
    CLEVER,
    CO_TEACHERS,
    RECORDS,
    SECTION_TEACHERS,
    contact_key,
    contact_user,
    course_key,
    derived_course,
    derived_term,
    person_id,
    term_dates,
    term_key,
)
from rostersync.formats.oneroster_bundle import BundlePlan, PlannedFile, bundle_incomplete
from rostersync.formats.scratch import ScratchIndex
from rostersync.issues import Issue
from rostersync.model import Record

#: what a derived stream's builder makes of one joined row
Built = Record | tuple[Record, Issue] | DataError

#: Clever's files in reading order -> canonical entity; staff.csv and courses.csv are optional.
CLEVER_FILES: dict[str, str] = {
    "schools.csv": "orgs",
    "courses.csv": "courses",
    "sections.csv": "classes",
    "teachers.csv": "users",
    "staff.csv": "users",
    "students.csv": "users",
    "enrollments.csv": "enrollments",
}
OPTIONAL = frozenset({"staff.csv", "courses.csv"})
PURPOSE = {
    "schools.csv": "the schools (every other file refers to them by School_id)",
    "students.csv": "students, one row per student and contact",
    "teachers.csv": "teachers (sections name them in Teacher_id, Teacher_2_id...)",
    "sections.csv": "sections with their course, term and teachers",
    "enrollments.csv": "which students are in which section",
}


def plan_clever(bundle: Bundle) -> BundlePlan:
    """Every Clever file present, or an error listing every missing required file and its purpose."""
    problems = [f"{name} is missing: it holds {purpose}" for name, purpose in PURPOSE.items()
                if bundle.find(name) is None]
    if problems:
        raise bundle_incomplete(problems, "clever", bundle.location)
    files = tuple(PlannedFile(name, bundle.find(name) or name, entity, "bulk")
                  for name, entity in CLEVER_FILES.items() if bundle.find(name))
    return BundlePlan("clever", CLEVER, files)


def _quiet(batches: Iterator[RawBatch]) -> Iterator[RawBatch]:
    """A second read of a file: its warnings and row errors were already reported by the first."""
    for batch in batches:
        yield attrs.evolve(batch, warnings=(), errors=())


def read_clever(bundle: Bundle, plan: BundlePlan, *, demographics: bool) -> Iterator[RawBatch]:
    names = {p.name: p.actual for p in plan.files}

    def read(name: str, entity: str, format: str = CLEVER) -> Iterator[RawBatch]:
        return read_csv(bundle, names[name], format=format, entity=entity)

    with tempfile.TemporaryDirectory(prefix="rostersync-clever-") as tmp:
        index = CleverIndex(Path(tmp) / "clever.db")
        try:
            index.scan_sections(read("sections.csv", "classes"))
            index.scan_students(read("students.csv", "users"))
            courses = names.get("courses.csv")
            if courses:
                index.scan_courses(read("courses.csv", "courses"))
            sections, students = names["sections.csv"], names["students.csv"]
            yield from read("schools.csv", "orgs")
            yield from index.terms(sections)
            if courses:
                yield from read("courses.csv", "courses")
            yield from index.courses(sections, listed=courses)
            yield from read("sections.csv", "classes")
            yield from index.note_schools(read("enrollments.csv", "enrollments"))
            yield from _quiet(read("sections.csv", "enrollments", SECTION_TEACHERS))
            yield from index.with_schools(read("teachers.csv", "users"))
            if "staff.csv" in names:
                yield from read("staff.csv", "users")
            yield from index.first_rows(read("students.csv", "users"), with_contacts=True)
            yield from index.contacts(students)
            if demographics:
                yield from _quiet(index.first_rows(read("students.csv", "demographics"), with_contacts=False))
        finally:
            index.close()


def _columns(batch: RawBatch, names: Sequence[str]) -> list[int | None]:
    index = {h.lower(): i for i, h in enumerate(batch.header)}
    return [index.get(n.lower()) for n in names]


def _get(row: Sequence[str], i: int | None) -> str:
    return row[i].strip() if i is not None else ""


def _ids(value: str | None) -> list[str]:
    """A ``json_group_array`` of ids, without the NULL a missing value adds."""
    return [v for v in json.loads(value or "[]") if v]


class CleverIndex(ScratchIndex):
    """The columns that need joining, in the reader's scratch database."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, """
            CREATE TABLE sections (line INTEGER, course TEXT, school TEXT, number TEXT, name TEXT, description TEXT,
                                   grade TEXT, subject TEXT, title TEXT, term TEXT, term_name TEXT,
                                   term_start TEXT, term_end TEXT);
            CREATE TABLE teacher_schools (teacher TEXT, school TEXT, PRIMARY KEY (teacher, school)) WITHOUT ROWID;
            CREATE TABLE students (student TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID;
            CREATE TABLE contacts (contact TEXT, student TEXT, school TEXT, line INTEGER, name TEXT, type TEXT,
                                   relationship TEXT, email TEXT, phone TEXT, phone_type TEXT, sis TEXT);
            CREATE TABLE listed_courses (course TEXT PRIMARY KEY) WITHOUT ROWID;
            CREATE TABLE enrolled_schools (student TEXT, school TEXT, PRIMARY KEY (student, school)) WITHOUT ROWID;
        """)

    # -- first pass -------------------------------------------------------------------------------
    def scan_sections(self, batches: Iterator[RawBatch]) -> None:
        wanted = ("Section_id", "School_id", "Course_number", "Course_name", "Course_description", "Grade",
                  "Subject", "Name", "Term_name", "Term_start", "Term_end", "Teacher_id", *CO_TEACHERS)
        for batch in batches:
            cols = _columns(batch, wanted)
            sec, school, number, name, desc, grade, subject, title, tname, tstart, tend = cols[:11]
            teachers = cols[11:]
            rows, links = [], []
            for line, row in batch.rows:
                s, sch, num, nm = _get(row, sec), _get(row, school), _get(row, number), _get(row, name)
                tn = _get(row, tname)
                dates = term_dates(_get(row, tstart), _get(row, tend))
                start, end = dates or (None, None)
                rows.append((line, course_key(sch, num, nm, s), sch, num, nm, _get(row, desc),
                             _get(row, grade) or None, _get(row, subject) or None, _get(row, title) or s,
                             term_key(tn, *dates) if dates else None, tn, start, end))
                links.extend((person_id("teacher", t), sch) for i in teachers if (t := _get(row, i)))
            self.insert("INSERT INTO sections VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self.insert("INSERT OR IGNORE INTO teacher_schools VALUES (?, ?)", links)

    def scan_students(self, batches: Iterator[RawBatch]) -> None:
        wanted = ("Student_id", "School_id", "Contact_name", "Contact_type", "Contact_relationship",
                  "Contact_email", "Contact_phone", "Contact_phone_type", "Contact_sis_id")
        for batch in batches:
            sid, school, name, ctype, rel, email, phone, ptype, sis = _columns(batch, wanted)
            students, contacts = [], []
            for line, row in batch.rows:
                student = _get(row, sid)
                students.append((student, line))
                fields = (_get(row, name), _get(row, ctype), _get(row, rel), _get(row, email), _get(row, phone),
                          _get(row, ptype), _get(row, sis))
                if any(fields) and fields[2].lower() != "self":
                    contacts.append((contact_key(fields[6], student, fields[0]), person_id("student", student),
                                     _get(row, school), line, *fields))
            self.insert("INSERT OR IGNORE INTO students VALUES (?, ?)", students)
            self.insert("INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", contacts)
        self.conn.execute("CREATE INDEX contacts_student ON contacts (student)")

    def scan_courses(self, batches: Iterator[RawBatch]) -> None:
        """The ids courses.csv gives its courses (so sections naming them need no derived course)."""
        for batch in batches:
            school, number, name = _columns(batch, ("School_id", "Course_number", "Course_name"))
            keys = [(course_key(_get(row, school), _get(row, number), _get(row, name), ""),)
                    for _line, row in batch.rows if _get(row, number) or _get(row, name)]
            self.insert("INSERT OR IGNORE INTO listed_courses VALUES (?)", keys)

    # -- derived streams ----------------------------------------------------------------------------
    def _records(self, sql: str, entity: str, location: str,
                 build: Callable[[tuple[Any, ...]], Built]) -> Iterator[RawBatch]:
        """Batches of ``build(row)`` for the rows of ``sql`` (whose second column is the line): a record,
        a record with a warning, or a DataError refusing the row. At least one batch, so the entity
        is declared even when nothing is derived."""
        cursor = self.conn.execute(sql)
        first = True
        while True:
            chunk = cursor.fetchmany(BATCH_ROWS)
            if chunk or first:
                rows: list[tuple[int, Record]] = []
                warnings: list[Issue] = []
                errors: list[DataError] = []
                for found in chunk:
                    made = build(found)
                    if isinstance(made, DataError):
                        errors.append(made)
                    elif isinstance(made, tuple):
                        warnings.append(made[1])
                        rows.append((found[1], made[0]))
                    else:
                        rows.append((found[1], made))
                yield RawBatch(RECORDS, entity, location, rows, "bulk", (), warnings, errors)
            first = False
            if len(chunk) < BATCH_ROWS:
                return

    def terms(self, location: str) -> Iterator[RawBatch]:
        return self._records(
            "SELECT term, min(line), term_name, term_start, term_end FROM sections WHERE term IS NOT NULL "
            "GROUP BY term ORDER BY min(line)", "academic_sessions", location,
            lambda r: derived_term(r[0], r[2], r[3], r[4]))

    def courses(self, location: str, listed: str | None = None) -> Iterator[RawBatch]:
        """Courses made from sections; with a courses.csv (``listed``: its name) only those it lacks."""
        where = "WHERE course NOT IN (SELECT course FROM listed_courses) " if listed else ""

        def build(r: tuple[Any, ...]) -> Built:
            course = derived_course(r[0], r[2], r[3], r[4], r[5], _ids(r[6]), _ids(r[7]), r[8])
            if not listed:
                return course
            return (course, Issue(f"course {r[0]!r} is not in {listed}; made from the sections naming it",
                                  code="course_not_listed", entity="courses", file=location, line=r[1],
                                  column="Course_number"))

        return self._records(
            "SELECT course, min(line), school, number, name, description, json_group_array(DISTINCT grade), "
            f"json_group_array(DISTINCT subject), title FROM sections {where}GROUP BY course ORDER BY min(line)",
            "courses", location, build)

    def contacts(self, location: str) -> Iterator[RawBatch]:
        def build(r: tuple[Any, ...]) -> Built:
            if not r[2]:
                return DataError("required value is empty", location, r[1], "Contact_name")
            return contact_user(r[0], *r[2:9], _ids(r[9]), _ids(r[10]))

        return self._records(
            "SELECT contact, min(line), name, type, relationship, email, phone, phone_type, sis, "
            "json_group_array(DISTINCT student), json_group_array(DISTINCT school) FROM ("
            " SELECT * FROM contacts UNION ALL"  # a contact's schools: its students' and where they are enrolled
            " SELECT c.contact, c.student, e.school, c.line, c.name, c.type, c.relationship, c.email, c.phone,"
            " c.phone_type, c.sis FROM contacts c JOIN enrolled_schools e ON e.student = c.student"
            ") GROUP BY contact ORDER BY min(line)", "users", location, build)

    def note_schools(self, batches: Iterator[RawBatch]) -> Iterator[RawBatch]:
        """Pass enrollments.csv through, noting each student's (student, School_id) pairs."""
        for batch in batches:
            student, school = _columns(batch, ("Student_id", "School_id"))
            if student is not None and school is not None:
                pairs = {(person_id("student", row[student]), row[school].strip()) for _line, row in batch.rows}
                self.insert("INSERT OR IGNORE INTO enrolled_schools VALUES (?, ?)", list(pairs))
            yield batch

    # -- per-batch lookups ----------------------------------------------------------------------------
    def _lookup(self, sql: str, keys: list[str]) -> dict[str, tuple]:
        """Key -> the rest of its row, for the rows of ``sql`` (see :meth:`ScratchIndex.lookup`)."""
        return {row[0]: row[1:] for row in self.lookup(sql, keys)}

    def with_schools(self, batches: Iterator[RawBatch]) -> Iterator[RawBatch]:
        """teachers.csv rows + ``_schools``: the schools of every section they teach (a JSON list)."""
        for batch in batches:
            (tid,) = _columns(batch, ("Teacher_id",))
            if tid is None:
                yield batch
                continue
            ids = [person_id("teacher", row[tid]) for _line, row in batch.rows]
            found = self._lookup("SELECT teacher, json_group_array(school) FROM teacher_schools "
                                 "WHERE teacher IN ({}) GROUP BY teacher", ids)
            rows = [(line, [*row, (found.get(i) or ("[]",))[0]])
                    for (line, row), i in zip(batch.rows, ids, strict=True)]
            yield attrs.evolve(batch, rows=rows, header=(*batch.header, "_schools"))

    def first_rows(self, batches: Iterator[RawBatch], *, with_contacts: bool) -> Iterator[RawBatch]:
        """students.csv without the repeated rows of students with several contacts (the first row of
        each student is kept), plus ``_contacts`` and ``_schools``: the ids of the student's contacts
        and the schools of the sections they are enrolled in (JSON lists)."""
        sql = ("SELECT s.student, s.line, (SELECT json_group_array(DISTINCT c.contact) FROM contacts c "
               "WHERE c.student = 'student:' || s.student), (SELECT json_group_array(e.school) FROM "
               "enrolled_schools e WHERE e.student = 'student:' || s.student) FROM students s WHERE s.student IN ({})")
        for batch in batches:
            (sid,) = _columns(batch, ("Student_id",))
            if sid is None:
                yield batch
                continue
            found = self._lookup(sql, [row[sid].strip() for _line, row in batch.rows])
            rows = []
            for line, row in batch.rows:
                first, contacts, schools = found.get(row[sid].strip(), (line, None, None))
                if first == line:
                    rows.append((line, [*row, contacts or "[]", schools or "[]"]) if with_contacts else (line, row))
            header = (*batch.header, "_contacts", "_schools") if with_contacts else batch.header
            yield attrs.evolve(batch, rows=rows, header=header)

