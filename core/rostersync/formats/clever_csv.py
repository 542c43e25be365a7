"""Clever SFTP CSV -> canonical records (the ``clever-csv`` formats).

Clever's files (schools, students, teachers, staff, sections, enrollments) are read by header name in
any case (Genesis sends ``Dob``, Clever documents ``DOB``) and in any column order; columns Clever
does not define are kept in ``extra``. Dates may be MM/DD/YYYY, M/D/YY or ISO. Grade names (Kindergarten,
PreKindergarten, 1..12, PostGraduate, Ungraded...) and aliases (K, KG, 0, 01, -1, PK) become CEDS
codes with the raw value kept.

People get type-prefixed sourcedIds (``student:123``, ``teacher:123``, ``staff:9``, ``contact:77``)
because SIS exports number students, teachers and contacts from separate sequences: the same
number in two files is two people. Sections and schools keep their ids. Derived records get
readable ids: courses ``course:<school>:<Course_number>``, terms ``term:<start>:<end>:<name>``,
enrollments ``<section>:<user>``.

Clever has no terms or teacher enrollments of its own, and courses only when a vendor asks the
district for a ``courses.csv``: the bundle reader (:mod:`rostersync.formats.clever_bundle`) derives
them from sections.csv and groups each student's contacts into guardians. Terms, derived courses
and guardians are built here as records (:func:`derived_term`, :func:`derived_course`,
:func:`contact_user`) from the reader's joined columns and sent in ``clever-csv+records`` batches,
never re-written as CSV text to be parsed again; teacher enrollments come as a
``clever-csv+section-teachers`` stream of sections.csv. Demographic columns (DOB, Gender, Race, Hispanic_Latino,
Ell/Frl/IEP status, Home_language) never reach ``users.extra``: they go to the demographics table,
which is opt-in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from rostersync import hookimpl
from rostersync.batches import MappedBatch, RawBatch
from rostersync.formats import Format
from rostersync.formats import fields as f
from rostersync.formats.columns import Column, FileSpec, RowProblem, map_rows
from rostersync.formats.oneroster_csv import grades_finish
from rostersync.grades import normalise_grades
from rostersync.model import (
    AcademicSession,
    Class,
    Course,
    Demographics,
    Enrollment,
    Org,
    Record,
    User,
    UserId,
)

CLEVER = "clever-csv"
#: batches whose rows are ``(line, record)`` pairs the bundle reader built itself (terms, derived courses,
#: guardians): passed through as they are
RECORDS = CLEVER + "+records"
SECTION_TEACHERS = CLEVER + "+section-teachers"

CO_TEACHERS = tuple(f"Teacher_{n}_id" for n in range(2, 11))
DEMOGRAPHIC = frozenset({"DOB", "Gender", "Race", "Hispanic_Latino", "Ell_status", "Frl_status", "IEP_status",
                         "Home_language"})
CONTACT_COLUMNS = ("Contact_name", "Contact_type", "Contact_relationship", "Contact_email", "Contact_phone",
                   "Contact_phone_type", "Contact_sis_id")


def person_id(kind: str, raw: str) -> str:
    return f"{kind}:{raw.strip()}"


def course_key(school: str, number: str, name: str, section: str) -> str:
    """A course per (school, Course_number), else per (school, Course_name), else one per section."""
    school, number, name = school.strip(), number.strip(), name.strip()
    if number:
        return f"course:{school}:{number}"
    if name:
        return f"course:{school}:{name}"
    return f"course:section:{section.strip()}"


def term_dates(start: str, end: str) -> tuple[str, str] | None:
    """A section's Term_start and Term_end as ISO dates; None when either is blank or not a date (a
    section without a term, or a row refused by the sections mapping, which names the bad cell)."""
    try:
        return (f.us_date(start), f.us_date(end)) if start.strip() and end.strip() else None
    except ValueError:
        return None


def term_key(name: str, start: str, end: str) -> str:
    """A term per (ISO start, ISO end, name)."""
    return f"term:{start}:{end}:{name.strip()}"


def json_ids(value: str) -> tuple[str, ...]:
    """A reader-appended column holding a JSON list of ids (``_schools``, ``_contacts``)."""
    return tuple(json.loads(value))


def contact_key(sis_id: str, student: str, name: str) -> str:
    """A contact with a Contact_sis_id is one person across siblings; without one, one per student+name."""
    if sis_id.strip():
        return person_id("contact", sis_id)
    digest = hashlib.blake2b(" ".join(name.lower().split()).encode(), digest_size=5).hexdigest()
    return f"contact:{student.strip()}:{digest}"


def _user_ids(values: dict[str, Any]) -> None:
    ids = [UserId(t, values.pop(a)) for t, a in (("sis_id", "_sis"), ("state_id", "_state")) if a in values]
    if ids:
        values["user_ids"] = tuple(ids)


def _spec(record_type: type[Record], *columns: Column, not_extra: Iterable[str] = (),
          extra_only: Iterable[str] | None = None) -> FileSpec:
    return FileSpec(record_type, columns, frozenset({"Password", *not_extra}), fold_case=True,
                    extra_only=None if extra_only is None else frozenset(extra_only))


# -- schools --------------------------------------------------------------------------------------
SCHOOLS = _spec(
    Org,
    Column("School_id", "sourced_id", f.ident, required=True),
    Column("School_name", "name", required=True),
    Column("School_number", "identifier"),
)


def schools_finish(values: dict[str, Any]) -> list[str]:
    values["type"] = "school"
    return []


# -- people ---------------------------------------------------------------------------------------
def _person(id_column: str, *columns: Column, not_extra: Iterable[str] = ()) -> FileSpec:
    """A people file: its id column, School_id, names and username, plus its own columns."""
    return _spec(
        User,
        Column(id_column, "_id", f.ident, required=True),
        Column("School_id", "_school", f.ident, required=True),
        *columns,
        Column("First_name", "given_name", required=True),
        Column("Middle_name", "middle_name"),
        Column("Last_name", "family_name", required=True),
        Column("Username", "username"),
        not_extra=not_extra,
    )


TEACHERS = _person(
    "Teacher_id",
    Column("Teacher_number", "identifier"),
    Column("State_teacher_id", "_state"),
    Column("Teacher_email", "email"),
    Column("_schools", "_schools", json_ids),
)
STAFF = _person("Staff_id", Column("Staff_email", "email"), Column("Role", "_role"))
STUDENTS = _person(
    "Student_id",
    Column("Student_number", "identifier"),
    Column("State_id", "_state"),
    Column("Student_email", "email"),
    Column("Grade", "grades", f.id_list),
    Column("_contacts", "agent_sourced_ids", json_ids),
    Column("_schools", "_schools", json_ids),
    not_extra=(*DEMOGRAPHIC, *CONTACT_COLUMNS),
)


def _people_finish(kind: str, role: str):  # type: ignore[no-untyped-def]
    def finish(values: dict[str, Any]) -> list[str]:
        raw = values.pop("_id")
        values["sourced_id"] = person_id(kind, raw)
        values["_sis"] = raw
        _user_ids(values)
        schools = (values.pop("_school"), *values.pop("_schools", ()))
        values["org_sourced_ids"] = tuple(dict.fromkeys(schools))
        values["primary_org_sourced_id"] = schools[0]
        staff_role = values.pop("_role", None)
        values["role"] = "aide" if staff_role and "aide" in staff_role.lower() else role
        if staff_role:
            values["extra"] = {**values.get("extra", {}), "Role": staff_role}
        return grades_finish(values)

    return finish


# -- contacts: one guardian per contact, merged across rows and siblings by the reader -------------
PARENT = frozenset({"parent", "mother", "father", "stepparent", "step-parent", "stepmother", "stepfather"})
RELATIVE = frozenset({"grandparent", "grandmother", "grandfather", "aunt/uncle", "aunt", "uncle", "sibling",
                      "brother", "sister", "relative", "cousin"})


def contact_user(key: str, name: str, kind: str, relationship: str, email: str, phone: str, phone_type: str,
                 sis: str, students: Sequence[str], schools: Sequence[str]) -> User:
    """A guardian from a contact's columns (stripped; ``name`` not blank): Contact_name split into
    given and family names, the relationship deciding parent, relative or guardian."""
    name = " ".join(name.split())
    given, _, family = name.rpartition(" ")
    rel = relationship.lower()
    extra = {k: v for k, v in (("Contact_type", kind), ("Contact_phone_type", phone_type),
                               ("Contact_relationship", relationship)) if v}
    return User(key, role="parent" if rel in PARENT else "relative" if rel in RELATIVE else "guardian",
                given_name=given or name, family_name=family if given else name, email=email or None,
                phone=phone or None, user_ids=(UserId("sis_id", sis),) if sis else (),
                agent_sourced_ids=tuple(students), org_sourced_ids=tuple(schools), extra=extra)


# -- demographics (opt-in) --------------------------------------------------------------------------
DEMOGRAPHICS = _spec(
    Demographics,
    Column("Student_id", "_id", f.ident, required=True),
    Column("DOB", "birth_date", f.us_date),
    Column("Gender", "_gender"),
    Column("Race", "_race"),
    Column("Hispanic_Latino", "hispanic_or_latino_ethnicity", f.yes_no),
    extra_only=("Ell_status", "Frl_status", "IEP_status", "Home_language"),
)

_SEX = {"m": "male", "male": "male", "f": "female", "female": "female", "x": "other", "other": "other",
        "nonbinary": "other", "non-binary": "other", "u": "unspecified", "unknown": "unspecified",
        "unspecified": "unspecified", "n": "unspecified"}
_RACE = {
    "w": "white", "white": "white", "caucasian": "white",
    "b": "black_or_african_american", "black": "black_or_african_american",
    "black or african american": "black_or_african_american", "african american": "black_or_african_american",
    "a": "asian", "asian": "asian",
    "i": "american_indian_or_alaska_native", "american indian": "american_indian_or_alaska_native",
    "american indian or alaska native": "american_indian_or_alaska_native",
    "p": "native_hawaiian_or_other_pacific_islander",
    "hawaiian or other pacific islander": "native_hawaiian_or_other_pacific_islander",
    "native hawaiian or other pacific islander": "native_hawaiian_or_other_pacific_islander",
    "m": "demographic_race_two_or_more_races", "two or more races": "demographic_race_two_or_more_races",
    "multiracial": "demographic_race_two_or_more_races",
}


def demographics_finish(values: dict[str, Any]) -> list[str]:
    values["sourced_id"] = person_id("student", values.pop("_id"))
    gender = values.pop("_gender", None)
    if gender:
        sex = _SEX.get(gender.strip().lower())
        if sex is None:
            raise RowProblem("Gender", f"{gender!r} is not a gender Clever defines (M, F or X)")
        values["sex"] = sex
    race = values.pop("_race", None)
    if race:
        values["extra"] = {**values.get("extra", {}), "Race": race}
        if attr := _RACE.get(race.strip().lower()):
            values[attr] = True
    return []


# -- sections, their courses and terms -------------------------------------------------------------
SECTIONS = _spec(
    Class,
    Column("Section_id", "sourced_id", f.ident, required=True),
    Column("School_id", "school_sourced_id", f.ident, required=True),
    Column("Teacher_id", "_teacher"),
    Column("Name", "_name"),
    Column("Section_number", "class_code"),
    Column("Grade", "grades", f.id_list),
    Column("Subject", "subjects", f.id_list),
    Column("Period", "periods", f.id_list),
    Column("Course_number", "_course_number"),
    Column("Course_name", "_course_name"),
    Column("Term_name", "_term_name"),
    Column("Term_start", "_term_start", f.us_date),
    Column("Term_end", "_term_end", f.us_date),
    not_extra=(*CO_TEACHERS, "Course_description"),
)


def section_title(name: str, course: str, number: str, section: str) -> str:
    if name.strip():
        return name.strip()
    if course.strip():
        return f"{course.strip()} {number.strip()}".strip()
    return section


def sections_finish(values: dict[str, Any]) -> list[str]:
    values.pop("_teacher", None)
    section, school = values["sourced_id"], values["school_sourced_id"]
    number, course = values.pop("_course_number", ""), values.pop("_course_name", "")
    values["course_sourced_id"] = course_key(school, number, course, section)
    values["title"] = section_title(values.pop("_name", ""), course, values.get("class_code") or "", section)
    name, start, end = values.pop("_term_name", ""), values.pop("_term_start", ""), values.pop("_term_end", "")
    term = term_key(name, start, end) if start and end else None
    values["term_sourced_ids"] = (term,) if term else ()
    subjects = values.get("subjects") or ()
    values["class_type"] = "homeroom" if any(s.lower().startswith("homeroom") for s in subjects) else "scheduled"
    warnings = grades_finish(values)
    if term is None and (name or start or end):
        warnings.append("Term_start/Term_end: a term needs both dates; this section has no term")
    return warnings


def _cells(cells: Iterable[str | None]) -> tuple[str, ...]:
    """The distinct items of list cells (``Grade`` may say ``6,7``) of several sections, in order."""
    return tuple(dict.fromkeys(item for cell in cells if cell for item in f.id_list(cell)))


def derived_course(key: str, school: str, number: str, name: str, description: str, grades: Iterable[str | None],
                   subjects: Iterable[str | None], title: str) -> Course:
    """A course made from its sections (Clever sends none): numbered and named as they say, with the
    grades and subjects of all of them. Untitled, it takes its number or its first section's title."""
    codes, raw, _unknown = normalise_grades(_cells(grades))  # each section already warned about its grades
    return Course(key, org_sourced_id=school, course_code=number or None, title=name or number or title or key,
                  grades=codes, grades_raw=raw, subjects=_cells(subjects),
                  extra={"Course_description": description} if description else {})


def derived_term(key: str, name: str, start: str, end: str) -> AcademicSession:
    """A term made from its sections' Term_name, Term_start and Term_end (ISO dates)."""
    return AcademicSession(key, title=name or f"{start} to {end}", type="term", start_date=start, end_date=end,
                           school_year=end[:4])


# -- courses.csv: sent by districts whose vendors ask for one; sections refer to it by Course_number -----
COURSES_FILE = _spec(
    Course,
    Column("School_id", "org_sourced_id", f.ident, required=True),
    Column("Course_number", "course_code"),
    Column("Course_name", "title"),
    Column("Grade", "grades", f.id_list),
    Column("Subject", "subjects", f.id_list),
)


def courses_file_finish(values: dict[str, Any]) -> list[str]:
    """The course's id is the one its sections derive (``course:<School_id>:<Course_number>``)."""
    number, name = values.get("course_code") or "", values.get("title") or ""
    if not number.strip() and not name.strip():
        raise RowProblem("Course_number", "a course needs a Course_number (or at least a Course_name)")
    values["sourced_id"] = course_key(values["org_sourced_id"], number, name, "")
    values.setdefault("title", number.strip())
    return grades_finish(values)


# -- enrollments: students from enrollments.csv, teachers from sections.csv -----------------------
ENROLLMENTS = _spec(
    Enrollment,
    Column("School_id", "school_sourced_id", f.ident, required=True),
    Column("Section_id", "class_sourced_id", f.ident, required=True),
    Column("Student_id", "_student", f.ident, required=True),
)


def enrollments_finish(values: dict[str, Any]) -> list[str]:
    user = person_id("student", values.pop("_student"))
    values["user_sourced_id"] = user
    values["sourced_id"] = f"{values['class_sourced_id']}:{user}"
    values["role"] = "student"
    return []


SECTION_TEACHERS_SPEC = _spec(
    Enrollment,
    Column("Section_id", "class_sourced_id", f.ident, required=True),
    Column("School_id", "school_sourced_id", f.ident, required=True),
    Column("Teacher_id", "_t1", f.ident),
    *(Column(name, f"_t{n}", f.ident) for n, name in enumerate(CO_TEACHERS, start=2)),
    extra_only=(),
)


def section_teachers(values: dict[str, Any]) -> list[Record]:
    """One enrollment per teacher of the section: Teacher_id is primary, Teacher_2_id.. are co-teachers."""
    section, school = values["class_sourced_id"], values["school_sourced_id"]
    seen: dict[str, bool] = {}
    for n in range(1, 11):
        teacher = values.get(f"_t{n}")
        if teacher and teacher not in seen:
            seen[teacher] = n == 1
    out: list[Record] = []
    for teacher, primary in seen.items():
        user = person_id("teacher", teacher)
        out.append(Enrollment(f"{section}:{user}", class_sourced_id=section, school_sourced_id=school,
                              user_sourced_id=user, role="teacher", primary=primary))
    return out


#: (wire format, entity, file name lower-cased) -> (spec, finish)
MAPPINGS: dict[tuple[str, str, str], tuple[FileSpec, Any]] = {
    (CLEVER, "orgs", "schools.csv"): (SCHOOLS, schools_finish),
    (CLEVER, "users", "teachers.csv"): (TEACHERS, _people_finish("teacher", "teacher")),
    (CLEVER, "users", "staff.csv"): (STAFF, _people_finish("staff", "administrator")),
    (CLEVER, "users", "students.csv"): (STUDENTS, _people_finish("student", "student")),
    (CLEVER, "demographics", "students.csv"): (DEMOGRAPHICS, demographics_finish),
    (CLEVER, "classes", "sections.csv"): (SECTIONS, sections_finish),
    (CLEVER, "enrollments", "enrollments.csv"): (ENROLLMENTS, enrollments_finish),
    (CLEVER, "courses", "courses.csv"): (COURSES_FILE, courses_file_finish),
}


def pass_records(batch: RawBatch) -> MappedBatch:
    """A batch of ``(line, record)`` pairs the bundle reader built: already canonical, already checked."""
    lines = [line for line, _record in batch.rows]
    return MappedBatch(batch.entity, batch.location, [record for _line, record in batch.rows], batch.mode,
                       batch.warnings, lines, batch.errors)


def map_batch(batch: RawBatch) -> MappedBatch | None:
    if not batch.format.startswith(CLEVER):
        return None
    file = batch.location.rsplit("/", 1)[-1].lower()
    if batch.format == SECTION_TEACHERS:
        return map_rows(batch, SECTION_TEACHERS_SPEC, build=section_teachers)
    found = MAPPINGS.get((batch.format, batch.entity, file))
    if found is None:
        return None
    spec, finish = found
    return map_rows(batch, spec, finish)


@hookimpl
def rostersync_register_formats(register):  # type: ignore[no-untyped-def]
    register(Format(CLEVER, "Clever CSV (schools, students, teachers, staff, sections, enrollments)", map_batch))
    register(Format(RECORDS, "Clever CSV: terms, courses and guardians the bundle reader derived, as records",
                    pass_records))
    register(Format(SECTION_TEACHERS, "Clever CSV: co-teacher enrollments from sections.csv", map_batch))
