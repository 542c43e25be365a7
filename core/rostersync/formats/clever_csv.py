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

Clever has no courses, terms or teacher enrollments of its own: the bundle reader
(:mod:`rostersync.formats.clever_bundle`) derives them from sections.csv and groups each student's
contacts, and sends them here as streams of their own (``clever-csv+courses``, ``+terms``,
``+contacts``, ``+section-teachers``). Demographic columns (DOB, Gender, Race, Hispanic_Latino,
Ell/Frl/IEP status, Home_language) never reach ``users.extra``: they go to the demographics table,
which is opt-in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from rostersync import hookimpl
from rostersync.batches import MappedBatch, RawBatch
from rostersync.formats import Format
from rostersync.formats import fields as f
from rostersync.formats.columns import Column, FileSpec, RowProblem, map_rows
from rostersync.formats.oneroster_csv import grades_finish
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
COURSES = CLEVER + "+courses"
TERMS = CLEVER + "+terms"
CONTACTS = CLEVER + "+contacts"
SECTION_TEACHERS = CLEVER + "+section-teachers"

CO_TEACHERS = tuple(f"Teacher_{n}_id" for n in range(2, 11))
DEMOGRAPHIC = frozenset({"DOB", "Gender", "Race", "Hispanic_Latino", "Ell_status", "Frl_status", "IEP_status",
                         "Home_language"})
CONTACT_COLUMNS = ("Contact_name", "Contact_type", "Contact_relationship", "Contact_email", "Contact_phone",
                   "Contact_phone_type", "Contact_sis_id")
TERM_COLUMNS = ("Term_name", "Term_start", "Term_end")
COURSE_COLUMNS = ("Course_number", "Course_name", "Course_description")


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


def term_key(name: str, start: str, end: str) -> str | None:
    """A term per (start, end, name); None when the section gives no dates (no term can be made)."""
    start, end = start.strip(), end.strip()
    if not start or not end:
        return None
    return f"term:{_iso_or_raw(start)}:{_iso_or_raw(end)}:{name.strip()}"


def _iso_or_raw(value: str) -> str:
    try:
        return f.us_date(value)
    except ValueError:
        return value


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
    Column("_schools", "_schools", f.id_list),
)
STAFF = _person("Staff_id", Column("Staff_email", "email"), Column("Role", "_role"))
STUDENTS = _person(
    "Student_id",
    Column("Student_number", "identifier"),
    Column("State_id", "_state"),
    Column("Student_email", "email"),
    Column("Grade", "grades", f.id_list),
    Column("_contacts", "agent_sourced_ids", f.id_list),
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


# -- contacts (one record per contact, merged across rows and siblings by the reader) -------------
CONTACTS_SPEC = _spec(
    User,
    Column("_contact", "sourced_id", f.ident, required=True),
    Column("Contact_name", "_name", required=True),
    Column("Contact_relationship", "_relationship"),
    Column("Contact_email", "email"),
    Column("Contact_phone", "phone"),
    Column("Contact_sis_id", "_sis"),
    Column("_students", "agent_sourced_ids", f.id_list, required=True),
    Column("_schools", "org_sourced_ids", f.id_list, required=True),
    extra_only=("Contact_type", "Contact_phone_type"),
)

PARENT = frozenset({"parent", "mother", "father", "stepparent", "step-parent", "stepmother", "stepfather"})
RELATIVE = frozenset({"grandparent", "grandmother", "grandfather", "aunt/uncle", "aunt", "uncle", "sibling",
                      "brother", "sister", "relative", "cousin"})


def contacts_finish(values: dict[str, Any]) -> list[str]:
    """Split Contact_name into given/family names; the relationship decides parent, relative or guardian."""
    name = " ".join(values.pop("_name").split())
    given, _, family = name.rpartition(" ")
    values["given_name"], values["family_name"] = (given, family) if given else (name, name)
    raw = values.pop("_relationship", "") or ""
    relationship = raw.strip().lower()
    values["role"] = "parent" if relationship in PARENT else "relative" if relationship in RELATIVE else "guardian"
    if raw:
        values["extra"] = {**values.get("extra", {}), "Contact_relationship": raw}
    _user_ids(values)
    return []


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
    Column("Term_start", "_term_start"),
    Column("Term_end", "_term_end"),
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
    term = term_key(name, start, end)
    values["term_sourced_ids"] = (term,) if term else ()
    subjects = values.get("subjects") or ()
    values["class_type"] = "homeroom" if any(s.lower().startswith("homeroom") for s in subjects) else "scheduled"
    warnings = grades_finish(values)
    if term is None and (name or start or end):
        warnings.append("Term_start/Term_end: a term needs both dates; this section has no term")
    return warnings


COURSES_SPEC = _spec(
    Course,
    Column("_course", "sourced_id", f.ident, required=True),
    Column("School_id", "org_sourced_id", f.ident, required=True),
    Column("Course_number", "course_code"),
    Column("Course_name", "title"),
    Column("Grade", "grades", f.id_list),
    Column("Subject", "subjects", f.id_list),
    Column("_title", "_title"),
    extra_only=("Course_description",),
)


def courses_finish(values: dict[str, Any]) -> list[str]:
    fallback = values.pop("_title", None)
    values.setdefault("title", values.get("course_code") or fallback or values["sourced_id"])
    return grades_finish(values)


TERMS_SPEC = _spec(
    AcademicSession,
    Column("_term", "sourced_id", f.ident, required=True),
    Column("Term_name", "title"),
    Column("Term_start", "start_date", f.us_date, required=True),
    Column("Term_end", "end_date", f.us_date, required=True),
    extra_only=(),
)


def terms_finish(values: dict[str, Any]) -> list[str]:
    values["type"] = "term"
    values.setdefault("title", f"{values['start_date']} to {values['end_date']}")
    values["school_year"] = values["end_date"][:4]
    return []


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
    (CONTACTS, "users", "students.csv"): (CONTACTS_SPEC, contacts_finish),
    (COURSES, "courses", "sections.csv"): (COURSES_SPEC, courses_finish),
    (TERMS, "academic_sessions", "sections.csv"): (TERMS_SPEC, terms_finish),
}


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
    register(Format(COURSES, "Clever CSV: courses derived from sections.csv", map_batch))
    register(Format(TERMS, "Clever CSV: terms derived from sections.csv", map_batch))
    register(Format(CONTACTS, "Clever CSV: guardians from students.csv's contact columns", map_batch))
    register(Format(SECTION_TEACHERS, "Clever CSV: co-teacher enrollments from sections.csv", map_batch))
