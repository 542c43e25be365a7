"""Clever Data API objects -> canonical records: the ``clever-api-json`` format.

Clever builds its API from what a district sends it: for a district on Clever's SFTP sync each API
object is a row of the Clever CSV files, and Clever documents which field holds which column
(``roles.student.sis_id`` is ``Student_id``, ``roles.teacher.teacher_number`` is ``Teacher_number``...).
So this mapper writes each object back as the row Clever's CSV spec would hold and maps it with the
Clever CSV mapper (:mod:`rostersync.formats.clever_csv`): one set of parsers, grade rules, extras and
ids for both, so a district moving from Clever CSV to the API keeps every record as it was. What the
Clever CSV reader derives rather than reads (terms, courses, guardians) is built by the same record
builders it uses (``derived_term``, ``derived_course``, ``contact_user``), never written out as CSV
text to be parsed again. Fields no
column holds are kept in ``extra`` under their API path; a student's demographic fields only ever
reach the opt-in demographics table.

**The id rule.** A record's sourcedId is the one the Clever CSV bundle of the same district gives it,
and a Clever CSV id is the API's ``sis_id``: students ``student:<sis_id>``, teachers
``teacher:<sis_id>``, staff ``staff:<staff_id>``, guardians ``contact:<sis_id>`` (without one:
``contact:<student's sis_id>:<digest of the name>``, one per student, as in the CSV); schools and
sections their ``sis_id``; courses ``course:<school's sis_id>:<number, else name>``; terms
``term:<start>:<end>:<name>``; enrollments ``<section>:<user>``. What the CSV has no counterpart for
takes Clever's id: the district ``district:<id>``, district admins ``district_admin:<id>``. Clever's
own ids never key anything the CSV has, so a user Clever re-creates under a new id (300 days away, a
changed email) stays the same record here.

The transport (:mod:`rostersync.clever.full`, :mod:`rostersync.clever.events`) does the joins. Each
raw row is a dict: ``kind``, the API ``object``, its ``uri``, ``refs`` (the objects it refers to, by
Clever id: schools, course, term, users) and, for a student, ``contacts`` (the Clever ids of the
contacts naming them); a course row carries the ``sections`` it is made from. ``deleted`` marks a row
of a delta holding an object's former state: of the records it maps to, those in its ``only`` list
are deleted (the others live on). A reference the API did not resolve becomes ``clever:<id>``, so the
reference checks report it (and skip or refuse by policy) as they do an unknown id in a CSV. Errors
and warnings name the object's URI and its API field, never a CSV column.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from rostersync import hookimpl
from rostersync.batches import MappedBatch, RawBatch
from rostersync.errors import DataError
from rostersync.formats import Format
from rostersync.formats import clever_csv as csv
from rostersync.formats import fields as f
from rostersync.issues import Issue
from rostersync.model import Org, Record, User

CLEVER_API = "clever-api-json"
Row = Mapping[str, Any]

#: Clever CSV column -> the API field it comes from (what errors name)
SCHOOL = {"School_id": "sis_id", "School_name": "name", "School_number": "school_number", "State_id": "state_id",
          "NCES_ID": "nces_id", "MDR_number": "mdr_number", "Low_grade": "low_grade", "High_grade": "high_grade",
          "Principal": "principal.name", "Principal_email": "principal.email", "School_address": "location.address",
          "School_city": "location.city", "School_state": "location.state", "School_zip": "location.zip",
          "School_phone": "phone"}
NAME = {"First_name": "name.first", "Middle_name": "name.middle", "Last_name": "name.last"}
STUDENT = {"Student_id": "roles.student.sis_id", "School_id": "roles.student.school",
           "Student_number": "roles.student.student_number", "State_id": "roles.student.state_id", **NAME,
           "Grade": "roles.student.grade", "Student_email": "email",
           "Username": "roles.student.credentials.district_username",
           "Student_street": "roles.student.location.address", "Student_city": "roles.student.location.city",
           "Student_state": "roles.student.location.state", "Student_zip": "roles.student.location.zip"}
DEMOGRAPHICS = {"Student_id": "roles.student.sis_id", "DOB": "roles.student.dob", "Gender": "roles.student.gender",
                "Race": "roles.student.race", "Hispanic_Latino": "roles.student.hispanic_ethnicity",
                "Ell_status": "roles.student.ell_status", "Frl_status": "roles.student.frl_status",
                "IEP_status": "roles.student.iep_status", "Home_language": "roles.student.home_language"}
TEACHER = {"Teacher_id": "roles.teacher.sis_id", "School_id": "roles.teacher.school",
           "Teacher_number": "roles.teacher.teacher_number", "State_teacher_id": "roles.teacher.state_id",
           "Teacher_email": "email", **NAME, "Title": "roles.teacher.title",
           "Username": "roles.teacher.credentials.district_username"}
STAFF = {"Staff_id": "roles.staff.staff_id", "School_id": "roles.staff.schools", "Staff_email": "email", **NAME,
         "Department": "roles.staff.department", "Title": "roles.staff.title",
         "Username": "roles.staff.credentials.district_username", "Role": "roles.staff.roles"}
SECTION = {"Section_id": "sis_id", "School_id": "school", "Name": "name", "Section_number": "section_number",
           "Grade": "grade", "Subject": "subject", "Period": "period", "Course_number": "course",
           "Course_name": "course", "Term_name": "term_id", "Term_start": "term_id", "Term_end": "term_id"}
ENROLLMENT = {"School_id": "school", "Section_id": "sis_id", "Student_id": "students"}
TEACHERS = {"Section_id": "sis_id", "School_id": "school", "Teacher_id": "teacher",
            **{name: "teachers" for name in csv.CO_TEACHERS}}
#: attributes the Clever CSV mapper's warnings name, by the column they come from
ATTRIBUTE_COLUMNS = {"grades": "Grade"}
#: the columns each role's file takes from the API, and the file
PEOPLE = {"student": (STUDENT, "students.csv"), "teacher": (TEACHER, "teachers.csv"), "staff": (STAFF, "staff.csv")}
#: API fields that are Clever's bookkeeping, or that a column or relation above already carries
SKIP = frozenset({"id", "district", "created", "last_modified", "legacy_id", "lms_status", "ext", "name", "email",
                  "school", "schools", "enrollments", "credentials", "sis_id", "student_relationships", "students",
                  "teacher", "teachers", "course", "term_id"})
#: student fields only the opt-in demographics table may hold (whatever a later API version adds to them)
SENSITIVE = frozenset({"dob", "gender", "race", "hispanic_ethnicity", "ell_status", "frl_status", "iep_status",
                       "home_language", "home_language_code", "section_504_status", "gifted_status", "disability"})


def text(value: Any) -> str:
    """An API value as CSV text: lists joined with commas, absent as blank."""
    if type(value) is str:  # nearly always: the fast way out
        return value
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(text(v) for v in value if v not in (None, ""))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True)
    return str(value)


@functools.cache
def _steps(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def dig(obj: Any, path: str) -> Any:
    """The value at a dotted ``path`` of a JSON object; None where any step is missing."""
    for step in _steps(path):
        if type(obj) is not dict and not isinstance(obj, Mapping):  # dicts nearly always: skip the ABC check
            return None
        obj = obj.get(step)
    return obj


def date(value: Any) -> str:
    """A term date: Clever documents ``YYYY-MM-DD`` and its OpenAPI file says date-time; keep the date."""
    found = text(value).strip()
    return found[:10] if re.fullmatch(r"\d{4}-\d{2}-\d{2}T[0-9:.]+(Z|[+-]\d{2}:?\d{2})?", found) else found


# -- the id rule, for what the transport groups or matches before mapping ----------------------------
def sis(obj: Mapping[str, Any] | None) -> str:
    """A school's or section's sourcedId: its ``sis_id`` (the Clever CSV id)."""
    return text((obj or {}).get("sis_id")).strip()


def term_id(term: Mapping[str, Any]) -> str | None:
    """A term's sourcedId, or None without both dates (no term is made, as for a Clever CSV section
    without Term_start/Term_end)."""
    dates = csv.term_dates(date(term.get("start_date")), date(term.get("end_date")))
    return csv.term_key(text(term.get("name")), *dates) if dates else None


def course_id(section: Mapping[str, Any], school: Mapping[str, Any] | None,
              course: Mapping[str, Any] | None) -> str:
    """The sourcedId of a section's course: one per school and Course_number (else Course_name)."""
    course = course or {}
    return csv.course_key(sis(school), text(course.get("number")), text(course.get("name")), sis(section))


def district_id(clever_id: str) -> str:
    return f"district:{clever_id}"


def admin_id(user: Mapping[str, Any]) -> str:
    return f"district_admin:{text(user.get('id'))}"


def enrollment_id(section: str, user: str) -> str:
    """An enrollment's sourcedId, as the Clever CSV mapper writes it: ``<section>:<user>``."""
    return f"{section}:{user}"


def unresolved(clever_id: str) -> str:
    """What stands for an object the API did not give us (the reference checks report it)."""
    return f"clever:{clever_id}"


def roles_of(user: Mapping[str, Any]) -> list[str]:
    """The roles a Clever user has (employees may have several), in a fixed order."""
    found = user.get("roles") or {}
    return [r for r in ("student", "teacher", "staff", "district_admin", "contact") if found.get(r) is not None]


def person_sis(user: Mapping[str, Any], role: str) -> str:
    """The CSV id of a user in one role: ``sis_id`` (``staff_id`` for staff)."""
    return text(dig(user, f"roles.{role}.{'staff_id' if role == 'staff' else 'sis_id'}")).strip()


def person_id(user: Mapping[str, Any] | None, role: str, clever_id: str = "") -> str:
    """A person's sourcedId in ``role``, for references (an enrollment's user)."""
    if user is None or not person_sis(user, role):
        return csv.person_id(role, unresolved(clever_id or text((user or {}).get("id"))))
    return csv.person_id(role, person_sis(user, role))


def full_name(obj: Mapping[str, Any]) -> str:
    """A contact's name: Clever puts all of it in ``name.last``; join whatever parts there are."""
    name = obj.get("name") or {}
    return " ".join(part for p in ("first", "middle", "last") if (part := text(name.get(p)).strip()))


def relationships(contact: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A contact's student relationships, without ``Self`` (a student named as their own contact)."""
    found = dig(contact, "roles.contact.student_relationships") or []
    return [r for r in found if isinstance(r, Mapping) and text(r.get("relationship")).lower() != "self"]


def contact_ids(contact: Mapping[str, Any], refs: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Contact sourcedId -> the Clever ids of its students: one guardian when the contact has an sis_id,
    else one per student, as the Clever CSV mapper makes them. ``refs`` holds the students by Clever id."""
    own = text(dig(contact, "roles.contact.sis_id")).strip()
    out: dict[str, list[str]] = {}
    for rel in relationships(contact):
        student_id = text(rel.get("student"))
        student_sis = person_sis(refs.get(student_id) or {}, "student") or unresolved(student_id)
        out.setdefault(csv.contact_key(own, student_sis, full_name(contact)), []).append(student_id)
    return out


def members(section: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """A section's students and its teachers (the primary teacher first), by Clever id, once each."""
    students = list(dict.fromkeys(text(s) for s in section.get("students") or () if text(s)))
    teachers = [section.get("teacher"), *(section.get("teachers") or [])]
    return students, list(dict.fromkeys(text(t) for t in teachers if text(t)))


def row_ids(row: Row) -> list[tuple[str, str]]:
    """(entity, sourcedId) of every record a row maps to, by the id rule above (a delta uses it to tell
    which records of an object's former state are gone)."""
    kind, obj, refs = row["kind"], row.get("object") or {}, row.get("refs") or {}
    if kind == "district":
        return [("orgs", district_id(text(obj.get("id"))))]
    if kind == "school":
        return [("orgs", sis(obj))]
    if kind == "term":
        return [("academic_sessions", key)] if (key := term_id(obj)) else []
    if kind == "course":
        return [("courses", course_id(row["sections"][0], refs.get(text(row["school"])), obj))]
    if kind == "section":
        return [("classes", sis(obj))]
    if kind in PEOPLE:
        return [("users", person_id(obj, kind))]
    if kind == "district_admin":
        return [("users", admin_id(obj))]
    if kind == "contact":
        return [("users", key) for key in contact_ids(obj, refs)]
    if kind == "demographics":
        return [("demographics", person_id(obj, "student"))]
    if kind == "enrollments":
        students, teachers = members(obj)
        users = [person_id(refs.get(s), "student", s) for s in students]
        users += [person_id(refs.get(t), "teacher", t) for t in teachers]
        return [("enrollments", enrollment_id(sis(obj), u)) for u in users]
    raise ValueError(f"unknown row kind {kind!r}")


# -- CSV rows from API objects -----------------------------------------------------------------------
def leaves(obj: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in obj.items():
        if isinstance(value, Mapping) and value:
            yield from leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def cells(obj: Mapping[str, Any], columns: Mapping[str, str], role: str | None = None,
          skip: frozenset[str] = frozenset()) -> dict[str, str]:
    """The columns read from ``obj`` by path, then its extension fields (``ext``, or the role's: a
    district's own columns, kept as extra under their own name), then any other field no column reads
    (under its API path; of a user's roles, only ``role``'s)."""
    out = {column: text(dig(obj, path)) for column, path in columns.items()}
    taken = {c.lower() for c in out}
    ext = f"roles.{role}.ext" if role else "ext"
    for key, value in (dig(obj, ext) or {}).items():
        name = key if key.lower() not in taken else f"{ext}.{key}"
        out[name] = text(value)
        taken.add(name.lower())
    used = set(columns.values())
    for path, value in leaves(obj):
        if path in used or value in (None, "", [], {}) or set(path.split(".")) & (SKIP | skip):
            continue
        if path.startswith("roles.") and not (role and path.startswith(f"roles.{role}.")):
            continue
        out[path] = text(value)
    return out


def school_ids(row: Row, ids: Iterable[Any]) -> list[str]:
    """The sourcedIds of schools referred to by Clever id, in order, once each."""
    refs = row.get("refs") or {}
    found = (sis(refs.get(text(i))) or unresolved(text(i)) for i in ids if text(i))
    return list(dict.fromkeys(found))


def user_schools(row: Row, user: Mapping[str, Any], role: str) -> list[str]:
    """A person's schools: the role's ``school`` (the primary one; staff have none, so their first) then
    the others of its ``schools`` in id order, as the Clever CSV mapper lists them (Clever's order says
    nothing more)."""
    base = f"roles.{role}"
    found = school_ids(row, [dig(user, f"{base}.school"), *(dig(user, f"{base}.schools") or [])])
    return found[:1] + sorted(found[1:])


@attrs.frozen
class Table:
    """Rows of one Clever CSV file built from API rows, with the URI of each and the API field behind
    each column (so errors can name them)."""

    header: tuple[str, ...]
    rows: list[tuple[int, list[str]]]
    uris: list[str]
    fields: Mapping[str, str]


def table(built: Sequence[Mapping[str, str]], uris: Sequence[str], fields: Mapping[str, str]) -> Table:
    """Every column of ``fields`` (a blank one is never "missing"), then the others any row has."""
    header = list(fields)
    seen = {h.lower() for h in header}
    for row in built:
        for column in row:
            if column.lower() not in seen:
                header.append(column)
                seen.add(column.lower())
    rows = [(n, [row.get(h, "") for h in header]) for n, row in enumerate(built, start=1)]
    return Table(tuple(header), rows, list(uris), fields)


def through_csv(fmt: str, entity: str, file: str, built: Table, location: str) -> MappedBatch:
    """Map rows with the Clever CSV mapper as the named file, then re-address its errors and warnings
    to the API object and field each came from."""
    mapped = csv.map_batch(RawBatch(fmt, entity, file, built.rows, "bulk", built.header))
    assert mapped is not None, (fmt, entity, file)

    def where(line: int | None) -> str:
        return built.uris[line - 1] if line and 0 < line <= len(built.uris) else location

    def field(column: str | None) -> str | None:
        if not column:
            return None
        column = ATTRIBUTE_COLUMNS.get(column, column)
        return next((p for c, p in built.fields.items() if c.lower() == column.lower()), column)

    errors = [DataError(str(e).removeprefix(f"{e.location}: "), where(e.line), None, field(e.field))
              for e in mapped.errors]
    warnings = [attrs.evolve(w, file=where(w.line), line=None, column=field(w.column))
                if isinstance(w, Issue) and w.file == file else w for w in mapped.warnings]
    return MappedBatch(entity, location, list(mapped.records), warnings=warnings, errors=errors)


# -- each kind of row ------------------------------------------------------------------------------
def map_schools(rows: Sequence[Row], location: str) -> MappedBatch:
    built = table([cells(r["object"], SCHOOL) for r in rows], [r["uri"] for r in rows], SCHOOL)
    mapped = through_csv(csv.CLEVER, "orgs", "schools.csv", built, location)
    parents = {sis(r["object"]): district_id(text(r["object"].get("district"))) for r in rows
               if text(r["object"].get("district"))}
    return with_records(mapped, [attrs.evolve(o, parent_sourced_id=parents.get(o.sourced_id)) for o in mapped.records])


def map_districts(rows: Sequence[Row], location: str) -> MappedBatch:
    records = []
    for r in rows:
        obj = r["object"]
        extra = {k: text(obj.get(k)) for k in ("nces_id", "mdr_number") if text(obj.get(k))}
        records.append(Org(district_id(text(obj.get("id"))), name=text(obj.get("name")).strip() or "District",
                           type="district", extra=extra))
    return MappedBatch("orgs", location, records)


def map_terms(rows: Sequence[Row], location: str) -> MappedBatch:
    """Terms as the Clever CSV reader makes them from sections: a date that is not one is an error at
    its field; a term without both dates makes no term (its sections have none), with a warning."""
    records: list[Record] = []
    errors: list[DataError] = []
    warnings: list[str | Issue] = []
    for r in rows:
        obj, uri = r["object"], r["uri"]
        dates: list[str] = []
        for field in ("start_date", "end_date"):
            value = date(obj.get(field))
            try:
                dates.append(f.us_date(value) if value else "")
            except ValueError as exc:
                errors.append(DataError(str(exc), uri, None, field))
                break
        else:
            start, end = dates
            name = text(obj.get("name")).strip()
            if start and end:
                records.append(csv.derived_term(csv.term_key(name, start, end), name, start, end))
            else:
                missing = "end_date" if start else "start_date"
                warnings.append(Issue("a term needs both dates; no term is made (its sections have none)",
                                      entity="academic_sessions", file=uri, column=missing))
    return MappedBatch("academic_sessions", location, records, warnings=warnings, errors=errors)


def map_courses(rows: Sequence[Row], location: str) -> MappedBatch:
    """A course per school and number, made from its sections there (their grades and subjects, the
    first one's title), as the Clever CSV reader makes them from sections.csv."""
    records: list[Record] = []
    for r in rows:
        course, sections = r.get("object") or {}, r["sections"]
        school = r["refs"].get(text(r["school"]))
        first = sections[0]
        records.append(csv.derived_course(
            course_id(first, school, course), sis(school) or unresolved(r["school"]),
            text(course.get("number")).strip(), text(course.get("name")).strip(), "",
            [text(s.get("grade")) for s in sections], [text(s.get("subject")) for s in sections],
            text(first.get("name")) or sis(first)))
    return MappedBatch("courses", location, records)


def map_sections(rows: Sequence[Row], location: str) -> MappedBatch:
    made = []
    warnings: list[str | Issue] = []
    for r in rows:
        obj, refs = r["object"], r.get("refs") or {}
        course = refs.get(text(obj.get("course"))) or {}
        term = refs.get(text(obj.get("term_id")))
        if obj.get("term_id") and term is None:
            warnings.append(Issue(f"refers to term {obj['term_id']}, which the API did not list; the class has no "
                                  "term", code="dangling", entity="classes", file=r["uri"], column="term_id",
                                  sourced_id=sis(obj)))
        term = term or {}
        found = cells(obj, SECTION)
        found.update({"School_id": school_ids(r, [obj.get("school")])[0] if obj.get("school") else "",
                      "Course_number": text(course.get("number")), "Course_name": text(course.get("name")),
                      "Term_name": text(term.get("name")), "Term_start": date(term.get("start_date")),
                      "Term_end": date(term.get("end_date"))})
        made.append(found)
    built = table(made, [r["uri"] for r in rows], SECTION)
    mapped = through_csv(csv.CLEVER, "classes", "sections.csv", built, location)
    return attrs.evolve(mapped, warnings=[*warnings, *mapped.warnings])


def map_people(rows: Sequence[Row], role: str, location: str) -> MappedBatch:
    """Students, teachers or staff as the rows of their Clever file, then the schools and guardians the
    API relates them to: every school of the role (primary first) and, for a student, the contacts
    that name them."""
    columns, file = PEOPLE[role]
    made, related = [], {}
    keys: dict[str, dict[str, list[str]]] = {}  # a contact's ids, worked out once for all its students here
    for r in rows:
        obj, refs = r["object"], r.get("refs") or {}
        schools = user_schools(r, obj, role)
        found = cells(obj, columns, role, skip=SENSITIVE if role == "student" else frozenset())
        found["School_id"] = schools[0] if schools else ""
        if role == "student" and not found["Student_email"]:
            found["Student_email"] = text(dig(obj, "roles.student.email"))  # sometimes sent on the role
        made.append(found)
        mine = text(obj.get("id"))
        for c in r.get("contacts") or ():
            if c not in keys:
                keys[c] = contact_ids(refs.get(c) or {}, refs)
        agents = [cid for c in r.get("contacts") or () for cid, students in keys[c].items() if mine in students]
        related[csv.person_id(role, person_sis(obj, role))] = (tuple(schools), tuple(dict.fromkeys(agents)))
    mapped = through_csv(csv.CLEVER, "users", file, table(made, [r["uri"] for r in rows], columns), location)
    records = []
    for user in mapped.records:
        schools, agents = related.get(user.sourced_id, ((), ()))
        records.append(attrs.evolve(user, org_sourced_ids=schools or user.org_sourced_ids,
                                    primary_org_sourced_id=schools[0] if schools else user.primary_org_sourced_id,
                                    agent_sourced_ids=agents if role == "student" else user.agent_sourced_ids))
    return with_records(mapped, records)


def map_contacts(rows: Sequence[Row], location: str) -> MappedBatch:
    """One guardian per contact (per contact and student without an sis_id), linked to its students and
    belonging to their schools; the first relationship gives the kind and relationship, as the first
    of a contact's rows does in the CSV."""
    records: list[Record] = []
    errors: list[DataError] = []
    for r in rows:
        obj, refs = r["object"], r.get("refs") or {}
        rels = {text(rel.get("student")): rel for rel in relationships(obj)}
        name = full_name(obj)
        if not name:
            errors.append(DataError("required value is empty", r["uri"], None, "name"))
            continue
        for key, students in contact_ids(obj, refs).items():
            first = rels[students[0]]
            schools = [s for sid in students for s in user_schools(r, refs.get(sid) or {}, "student")]
            records.append(csv.contact_user(
                key, name, text(first.get("type")).strip(), text(first.get("relationship")).strip(),
                text(obj.get("email")).strip(), text(dig(obj, "roles.contact.phone")).strip(),
                text(dig(obj, "roles.contact.phone_type")).strip(), text(dig(obj, "roles.contact.sis_id")).strip(),
                list(dict.fromkeys(person_id(refs.get(s), "student", s) for s in students)),
                list(dict.fromkeys(schools))))
    return MappedBatch("users", location, records, errors=errors)


def map_district_admins(rows: Sequence[Row], location: str) -> MappedBatch:
    """District admins have no Clever CSV file: keyed by Clever id, belonging to the district."""
    records = []
    for r in rows:
        obj = r["object"]
        name = obj.get("name") or {}
        district = district_id(text(obj.get("district")))
        title = text(dig(obj, "roles.district_admin.title"))
        records.append(User(admin_id(obj), role="administrator",
                            given_name=text(name.get("first")), family_name=text(name.get("last")),
                            middle_name=text(name.get("middle")) or None, email=text(obj.get("email")) or None,
                            org_sourced_ids=(district,), primary_org_sourced_id=district,
                            extra={"Title": title} if title else {}))
    return MappedBatch("users", location, records)


def map_demographics(rows: Sequence[Row], location: str) -> MappedBatch:
    made = [{column: text(dig(r["object"], path)) for column, path in DEMOGRAPHICS.items()} for r in rows]
    return through_csv(csv.CLEVER, "demographics", "students.csv",
                       table(made, [r["uri"] for r in rows], DEMOGRAPHICS), location)


def map_enrollments(rows: Sequence[Row], location: str) -> list[MappedBatch]:
    """A section's students (as enrollments.csv rows) and teachers (as the teacher columns of its
    sections.csv row: the primary teacher first, then the co-teachers)."""
    students, student_uris, teachers, teacher_uris = [], [], [], []
    for r in rows:
        obj, refs = r["object"], r.get("refs") or {}
        section = sis(obj)
        school = school_ids(r, [obj.get("school")])[0] if obj.get("school") else ""
        pupils, ids = members(obj)
        for sid in pupils:
            students.append({"School_id": school, "Section_id": section,
                             "Student_id": person_id(refs.get(sid), "student", sid).split(":", 1)[1]})
            student_uris.append(r["uri"])
        raw = [person_id(refs.get(t), "teacher", t).split(":", 1)[1] for t in ids]
        names: tuple[str, ...] = ("Teacher_id", *csv.CO_TEACHERS)  # the primary teacher, then co-teachers
        while raw:  # more than fit one row: further rows without a Teacher_id (so without a primary)
            teachers.append({"Section_id": section, "School_id": school, **dict(zip(names, raw, strict=False))})
            teacher_uris.append(r["uri"])
            raw, names = raw[len(names):], csv.CO_TEACHERS
    out = []
    if students:
        out.append(through_csv(csv.CLEVER, "enrollments", "enrollments.csv",
                               table(students, student_uris, ENROLLMENT), location))
    if teachers:
        out.append(through_csv(csv.SECTION_TEACHERS, "enrollments", "sections.csv",
                               table(teachers, teacher_uris, TEACHERS), location))
    return out


def with_records(mapped: MappedBatch, records: Sequence[Record]) -> MappedBatch:
    return attrs.evolve(mapped, records=list(records))


# -- the format ------------------------------------------------------------------------------------------
#: row kind -> how its rows map (each gives one or more mapped batches)
MAPPERS: dict[str, Callable[[Sequence[Row], str], Iterable[MappedBatch]]] = {
    "district": lambda rows, where: [map_districts(rows, where)],
    "school": lambda rows, where: [map_schools(rows, where)],
    "term": lambda rows, where: [map_terms(rows, where)],
    "course": lambda rows, where: [map_courses(rows, where)],
    "section": lambda rows, where: [map_sections(rows, where)],
    **{role: (lambda rows, where, role=role: [map_people(rows, role, where)]) for role in PEOPLE},
    "contact": lambda rows, where: [map_contacts(rows, where)],
    "district_admin": lambda rows, where: [map_district_admins(rows, where)],
    "demographics": lambda rows, where: [map_demographics(rows, where)],
    "enrollments": map_enrollments,
}


def _by_kind(rows: Sequence[Row], location: str) -> Iterator[MappedBatch]:
    kinds: dict[str, list[Row]] = {}
    for row in rows:
        kinds.setdefault(row["kind"], []).append(row)
    for kind, group in kinds.items():
        if kind not in MAPPERS:
            raise DataError(f"unknown row kind {kind!r} (a transport bug)", location)
        yield from MAPPERS[kind](group, location)


def map_batch(batch: RawBatch) -> MappedBatch | None:
    """Map one batch of Clever API rows; a delta's ``deleted`` rows become ``tobedeleted`` records."""
    if batch.format != CLEVER_API:
        return None
    records: list[Record] = []
    warnings: list[str | Issue] = list(batch.warnings)
    errors: list[DataError] = list(batch.errors)
    for deleted in (False, True):
        rows = [r for r in batch.rows if bool(r.get("deleted")) == deleted]
        if deleted and rows and batch.mode != "delta":
            raise DataError("deleted rows in a full (bulk) batch (a transport bug)", batch.location)
        only = {i for r in rows for i in r.get("only") or ()}
        for mapped in _by_kind(rows, batch.location):
            if mapped.entity != batch.entity:
                raise DataError(f"{mapped.entity} rows in a batch of {batch.entity} (a transport bug)", batch.location)
            kept = mapped.records
            if deleted:  # what an object's former state mapped to and no current record has: ``only`` those
                kept = [attrs.evolve(r, status="tobedeleted") for r in kept if r.sourced_id in only]
            records.extend(kept)
            warnings.extend(mapped.warnings)
            errors.extend(mapped.errors)
    return MappedBatch(batch.entity, batch.location, records, batch.mode, warnings, (), errors)


@hookimpl
def rostersync_register_formats(register):  # type: ignore[no-untyped-def]
    register(Format(CLEVER_API, "Clever Data API v3.0/v3.1 objects (read with the Clever CSV mapping)", map_batch))
