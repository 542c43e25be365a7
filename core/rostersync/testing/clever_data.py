"""A district as Clever's Data API holds it, built from a Clever CSV bundle; and the events between two.

Written from Clever's documentation of its API objects (reference/clever-api.md: field names, which
CSV column each holds), not from rostersync's mapper, so a sync through the loopback server checks
the mapper rather than agreeing with it by construction. What Clever does to a district's CSV:

* every object gets a Clever id: a 24-hex ObjectID, ascending in creation order (lists come sorted by
  it). :class:`Ids` hands them out and remembers them, so a second snapshot of the same district
  keeps the ids of what it still has and gives new objects later ones;
* a student's rows (one per contact) become one user with the ``student`` role; each contact becomes
  a user with the ``contact`` role and a ``student_relationships`` entry per student (one contact
  per Contact_sis_id, else one per student and name); a teacher and a staff member with the same
  email are one user with both roles;
* courses (one per Course_number, else Course_name, district-wide) and terms (one per name and
  dates) are made from sections.csv; a section lists its ``teachers`` (the primary first) and its
  ``students`` (from enrollments.csv); a student's ``schools`` are their School_id and the schools of
  the sections they are in, a teacher's the schools they teach at;
* columns Clever does not define are kept in the object's ``ext``.

``normalise=True`` also does what Clever does to values it validates: grade names from its
enumeration (``K`` -> ``Kindergarten``), subjects lower-cased, and section names generated as
"course - teacher - period".
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from rostersync.formats.fields import us_date
from rostersync.grades import normalise_grade

COLLECTIONS = ("districts", "schools", "terms", "courses", "sections", "users")
STAMP = "2026-08-01T00:00:00.000Z"

SCHOOL_COLUMNS = {"school_id", "school_name", "school_number", "state_id", "nces_id", "mdr_number", "low_grade",
                  "high_grade", "principal", "principal_email", "school_address", "school_city", "school_state",
                  "school_zip", "school_phone"}
STUDENT_COLUMNS = {"school_id", "student_id", "student_number", "state_id", "last_name", "middle_name", "first_name",
                   "grade", "gender", "dob", "race", "hispanic_latino", "ell_status", "frl_status", "iep_status",
                   "home_language", "student_email", "student_street", "student_city", "student_state",
                   "student_zip", "username", "password", "contact_relationship", "contact_type", "contact_name",
                   "contact_phone", "contact_phone_type", "contact_email", "contact_sis_id"}
TEACHER_COLUMNS = {"school_id", "teacher_id", "teacher_number", "state_teacher_id", "teacher_email", "first_name",
                   "middle_name", "last_name", "title", "username", "password"}
STAFF_COLUMNS = {"school_id", "staff_id", "staff_email", "first_name", "middle_name", "last_name", "department",
                 "title", "username", "password", "role"}
CO_TEACHERS = tuple(f"teacher_{n}_id" for n in range(2, 11))
SECTION_COLUMNS = {"school_id", "section_id", "teacher_id", *CO_TEACHERS, "name", "section_number", "grade",
                   "course_name", "course_number", "course_description", "period", "subject", "term_name",
                   "term_start", "term_end"}
#: Clever's grade enumeration, by CEDS code
GRADE_NAMES = {"IT": "InfantToddler", "PR": "Preschool", "PK": "PreKindergarten", "TK": "TransitionalKindergarten",
               "KG": "Kindergarten", "PS": "PostGraduate", "UG": "Ungraded", "Other": "Other",
               **{f"{n:02d}": str(n) for n in range(1, 14)}}
V31_ONLY = ("frl_status", "iep_status", "home_language", "home_language_code", "section_504_status",
            "gifted_status", "disability", "preferred_name", "lms_status")


class Ids:
    """Clever ids for one district across snapshots: the same thing keeps its id, a new one gets the
    next (ObjectIDs sort by creation time, so lists sorted by id come in creation order)."""

    def __init__(self, start: int = 0x64F00000) -> None:
        self.known: dict[tuple[str, ...], str] = {}
        self._next = itertools.count(1)
        self.start = start

    def __call__(self, *key: str) -> str:
        if key not in self.known:
            self.known[key] = f"{self.start:08x}{next(self._next):016x}"
        return self.known[key]


def _rows(path: Path) -> list[dict[str, str]]:
    """A CSV file's rows by lower-cased column name (Clever matches headers in any case); the names as
    the file writes them are kept under ``None`` (for the columns that go to ``ext``)."""
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        names = [h.strip() for h in next(reader, [])]
        header = [h.lower() for h in names]
        rows: list[dict[str, Any]] = []
        for fields in reader:
            row: dict[Any, Any] = {h: v.strip() for h, v in zip(header, fields, strict=False)}
            row[None] = dict(zip(header, names, strict=True))
            rows.append(row)
        return rows


def _ext(row: dict[Any, Any], known: set[str]) -> dict[str, str]:
    """The columns Clever does not define, under their names as the file writes them."""
    names = row[None]
    return {names[k]: v for k, v in row.items() if k is not None and k not in known and v}


def _clean(obj: Any) -> Any:
    """An object without its blank optional fields (Clever omits what the district did not send)."""
    if isinstance(obj, dict):
        cleaned = {k: _clean(v) for k, v in obj.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", {}) or k in ("students", "teachers")}
    return obj


def _dob(value: str) -> str:
    """Clever's dob: M/D/YYYY."""
    if not value:
        return ""
    day = dt.date.fromisoformat(us_date(value))
    return f"{day.month}/{day.day}/{day.year}"


@attrs.define
class CleverDistrict:
    """The objects of each collection by Clever id (``districts``, ``schools``, ``terms``, ``courses``,
    ``sections``, ``users``)."""

    objects: dict[str, dict[str, dict[str, Any]]]
    ids: Ids

    @property
    def district(self) -> dict[str, Any]:
        return next(iter(self.objects["districts"].values()))

    def sorted(self, collection: str) -> list[dict[str, Any]]:
        return [self.objects[collection][k] for k in sorted(self.objects[collection])]

    def users(self, role: str | None = None) -> list[dict[str, Any]]:
        return [u for u in self.sorted("users") if role is None or (u.get("roles") or {}).get(role) is not None]

    @classmethod
    def from_bundle(cls, folder: Path, ids: Ids | None = None, *, normalise: bool = False,
                    name: str = "Clever Sample District") -> CleverDistrict:
        return _Builder(folder, ids or Ids(), normalise, name).build()


class _Builder:
    def __init__(self, folder: Path, ids: Ids, normalise: bool, name: str) -> None:
        self.folder, self.ids, self.normalise, self.name = folder, ids, normalise, name
        self.district = ids("district", name)
        self.objects: dict[str, dict[str, dict[str, Any]]] = {c: {} for c in COLLECTIONS}

    def put(self, collection: str, obj: dict[str, Any]) -> dict[str, Any]:
        obj.setdefault("district", self.district)
        obj.setdefault("created", STAMP)
        obj.setdefault("last_modified", STAMP)
        self.objects[collection][obj["id"]] = obj
        return obj

    def grade(self, value: str) -> str:
        if not self.normalise or not value:
            return value
        code = normalise_grade(value)
        return GRADE_NAMES.get(code, value) if code else value

    def build(self) -> CleverDistrict:
        self.put("districts", {"id": self.district, "name": self.name, "sis_type": "sftp", "state": "success"})
        schools = {r["school_id"]: self.school(r) for r in _rows(self.folder / "schools.csv")}
        sections = _rows(self.folder / "sections.csv")
        enrollments = _rows(self.folder / "enrollments.csv")
        taught: dict[str, list[str]] = {}
        for row in sections:
            for t in [row.get("teacher_id", ""), *(row.get(c, "") for c in CO_TEACHERS)]:
                if t:
                    taught.setdefault(t, []).append(row["school_id"])
        enrolled: dict[str, list[str]] = {}
        section_school = {r["section_id"]: r["school_id"] for r in sections}
        for row in enrollments:
            enrolled.setdefault(row["student_id"], []).append(section_school.get(row["section_id"], row["school_id"]))
        employees = self.employees(taught, schools)
        students = self.students(enrolled, schools)
        self.sections(sections, enrollments, schools, employees, students)
        return CleverDistrict({c: dict(sorted(o.items())) for c, o in self.objects.items()}, self.ids)

    def school(self, row: dict[str, str]) -> str:
        obj = {"id": self.ids("school", row["school_id"]), "sis_id": row["school_id"],
               "name": row.get("school_name", ""), "school_number": row.get("school_number", ""),
               "state_id": row.get("state_id", ""), "nces_id": row.get("nces_id", ""),
               "mdr_number": row.get("mdr_number", ""), "low_grade": self.grade(row.get("low_grade", "")),
               "high_grade": self.grade(row.get("high_grade", "")), "phone": row.get("school_phone", ""),
               "principal": {"name": row.get("principal", ""), "email": row.get("principal_email", "")},
               "location": {"address": row.get("school_address", ""), "city": row.get("school_city", ""),
                            "state": row.get("school_state", ""), "zip": row.get("school_zip", "")},
               "ext": _ext(row, SCHOOL_COLUMNS)}
        return self.put("schools", _clean(obj))["id"]

    def employees(self, taught: dict[str, list[str]], schools: dict[str, str]) -> dict[str, str]:
        """Teachers and staff; one user per email (Clever merges employees). Returns teacher sis -> id."""
        by_email: dict[str, dict[str, Any]] = {}
        teacher_ids: dict[str, str] = {}

        def user(key: tuple[str, str], row: dict[str, str], email: str) -> dict[str, Any]:
            found = by_email.get(email.lower()) if email else None
            if found is None:
                found = self.put("users", {"id": self.ids("user", *key), "email": email,
                                           "name": _clean({"first": row.get("first_name", ""),
                                                           "middle": row.get("middle_name", ""),
                                                           "last": row.get("last_name", "")}), "roles": {}})
                if email:
                    by_email[email.lower()] = found
            return found

        for row in _rows(self.folder / "teachers.csv"):
            sid, email = row["teacher_id"], row.get("teacher_email", "")
            obj = user(("teacher", sid), row, email)
            mine = [row["school_id"], *taught.get(sid, [])]
            obj["roles"]["teacher"] = _clean({
                "sis_id": sid, "teacher_number": row.get("teacher_number", ""),
                "state_id": row.get("state_teacher_id", ""), "title": row.get("title", ""),
                "school": schools.get(row["school_id"], ""), "district": self.district,
                "schools": list(dict.fromkeys(schools[s] for s in mine if s in schools)),
                "credentials": {"district_username": row.get("username", "")}, "ext": _ext(row, TEACHER_COLUMNS)})
            teacher_ids[sid] = obj["id"]
        for row in _rows(self.folder / "staff.csv"):
            sid, email = row["staff_id"], row.get("staff_email", "")
            obj = user(("staff", sid), row, email)
            obj["roles"]["staff"] = _clean({
                "staff_id": sid, "title": row.get("title", ""), "department": row.get("department", ""),
                "schools": [schools[row["school_id"]]] if row["school_id"] in schools else [],
                "roles": [row["role"]] if row.get("role") else [],
                "credentials": {"district_username": row.get("username", "")}, "ext": _ext(row, STAFF_COLUMNS)})
        for obj in self.objects["users"].values():
            obj.update(_clean(obj))
        return teacher_ids

    def students(self, enrolled: dict[str, list[str]], schools: dict[str, str]) -> dict[str, str]:
        """Students (one user each, from their first row) and their contacts. Returns student sis -> id."""
        ids: dict[str, str] = {}
        contacts: dict[tuple[str, ...], dict[str, Any]] = {}
        for row in _rows(self.folder / "students.csv"):
            sid = row["student_id"]
            if sid not in ids:
                mine = [row["school_id"], *enrolled.get(sid, [])]
                obj = self.put("users", _clean({
                    "id": self.ids("user", "student", sid), "email": row.get("student_email", ""),
                    "name": {"first": row.get("first_name", ""), "middle": row.get("middle_name", ""),
                             "last": row.get("last_name", "")},
                    "roles": {"student": {
                        "sis_id": sid, "student_number": row.get("student_number", ""),
                        "state_id": row.get("state_id", ""), "school": schools.get(row["school_id"], ""),
                        "schools": list(dict.fromkeys(schools[s] for s in mine if s in schools)),
                        "grade": self.grade(row.get("grade", "")), "dob": _dob(row.get("dob", "")),
                        "gender": row.get("gender", ""), "race": row.get("race", ""),
                        "hispanic_ethnicity": row.get("hispanic_latino", ""), "ell_status": row.get("ell_status", ""),
                        "frl_status": row.get("frl_status", ""), "iep_status": row.get("iep_status", ""),
                        "home_language": row.get("home_language", ""),
                        "location": {"address": row.get("student_street", ""), "city": row.get("student_city", ""),
                                     "state": row.get("student_state", ""), "zip": row.get("student_zip", "")},
                        "credentials": {"district_username": row.get("username", "")},
                        "ext": _ext(row, STUDENT_COLUMNS)}}}))
                ids[sid] = obj["id"]
            self.contact(row, ids[sid], contacts)
        return ids

    def contact(self, row: dict[str, str], student: str, contacts: dict[tuple[str, ...], dict[str, Any]]) -> None:
        name, sis = " ".join(row.get("contact_name", "").split()), row.get("contact_sis_id", "")
        relationship = row.get("contact_relationship", "")
        if not name or relationship.lower() == "self":
            return
        key = ("contact", sis) if sis else ("contact", student, name.lower())
        obj = contacts.get(key)
        if obj is None:
            obj = self.put("users", _clean({
                "id": self.ids("user", *key), "email": row.get("contact_email", ""), "name": {"last": name},
                "roles": {"contact": {"sis_id": sis, "phone": row.get("contact_phone", ""),
                                      "phone_type": row.get("contact_phone_type", ""), "student_relationships": []}}}))
            contacts[key] = obj
        rels = obj["roles"]["contact"]["student_relationships"]
        if all(r["student"] != student for r in rels):
            rels.append(_clean({"student": student, "relationship": relationship,
                                "type": row.get("contact_type", "")}))

    def sections(self, rows: list[dict[str, str]], enrollments: list[dict[str, str]], schools: dict[str, str],
                 teachers: dict[str, str], students: dict[str, str]) -> None:
        members: dict[str, list[str]] = {}
        for row in enrollments:
            if row["student_id"] in students:
                members.setdefault(row["section_id"], []).append(students[row["student_id"]])
        for row in rows:
            course = self.course(row)
            term = self.term(row)
            ids = list(dict.fromkeys(teachers[t] for t in [row.get("teacher_id", ""), *(row.get(c, "")
                                                                                      for c in CO_TEACHERS)]
                                     if t in teachers))
            name = row.get("name", "")
            if self.normalise and (row.get("course_name") or row.get("course_number")):
                last = (self.objects["users"][ids[0]].get("name") or {}).get("last", "") if ids else ""
                name = " - ".join([row.get("course_name") or row.get("course_number", ""), last,
                                   row.get("period", "")])
            subject = row.get("subject", "")
            self.put("sections", _clean({
                "id": self.ids("section", row["section_id"]), "sis_id": row["section_id"],
                "school": schools.get(row["school_id"], ""), "name": name,
                "section_number": row.get("section_number", ""), "grade": self.grade(row.get("grade", "")),
                "subject": subject.lower() if self.normalise else subject, "period": row.get("period", ""),
                "course": course, "term_id": term, "teacher": ids[0] if ids else "", "teachers": ids,
                "students": list(dict.fromkeys(members.get(row["section_id"], []))),
                "ext": _ext(row, SECTION_COLUMNS)}))

    def course(self, row: dict[str, str]) -> str:
        number, name = row.get("course_number", ""), row.get("course_name", "")
        if not number and not name:
            return ""
        key = ("course", "number", number) if number else ("course", "name", name)
        cid = self.ids(*key)
        if cid not in self.objects["courses"]:
            self.put("courses", _clean({"id": cid, "number": number, "name": name}))
        return cid

    def term(self, row: dict[str, str]) -> str:
        name, start, end = row.get("term_name", ""), row.get("term_start", ""), row.get("term_end", "")
        if not (name or start or end):
            return ""
        start, end = (us_date(d) if d else "" for d in (start, end))
        tid = self.ids("term", name, start, end)
        if tid not in self.objects["terms"]:
            self.put("terms", _clean({"id": tid, "name": name, "start_date": start, "end_date": end}))
        return tid


# -- events: what changed between two snapshots ---------------------------------------------------------
def previous_attributes(old: Any, new: Any) -> Any:
    """The old values of what changed, nested as Clever nests them (only the changed keys of an object)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = {}
        for key in old.keys() | new.keys():
            if key == "last_modified" or old.get(key) == new.get(key):
                continue
            out[key] = previous_attributes(old.get(key), new.get(key)) if isinstance(old.get(key), dict) \
                and isinstance(new.get(key), dict) else old.get(key)
        return out
    return old


#: the order a change appears in the feed: what others refer to is created first and deleted last
CREATE_ORDER = ("districts", "schools", "terms", "courses", "users", "sections")


def events_between(before: CleverDistrict, after: CleverDistrict, ids: Ids,
                   when: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
    """The events a feed would hold after ``before`` became ``after``, oldest first: created and
    updated (with ``previous_attributes``) in dependency order, then deletions in reverse."""
    stamp = (when or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    counter = itertools.count()

    def event(kind: str, obj: dict[str, Any], previous: Any = None) -> dict[str, Any]:
        data: dict[str, Any] = {"object": obj}
        if previous:
            data["previous_attributes"] = previous
        return {"id": ids("event", stamp, str(next(counter))), "type": kind, "created": stamp, "data": data}

    for collection in CREATE_ORDER:
        old, new = before.objects[collection], after.objects[collection]
        for oid in sorted(new):
            if oid not in old:
                yield event(f"{collection}.created", new[oid])
            elif _changed(old[oid], new[oid]):
                updated = {**new[oid], "last_modified": stamp}
                after.objects[collection][oid] = updated
                yield event(f"{collection}.updated", updated, previous_attributes(old[oid], new[oid]))
    for collection in reversed(CREATE_ORDER):
        old, new = before.objects[collection], after.objects[collection]
        for oid in sorted(old):
            if oid not in new:
                yield event(f"{collection}.deleted", old[oid])


def _changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return {k: v for k, v in old.items() if k != "last_modified"} != \
        {k: v for k, v in new.items() if k != "last_modified"}


def for_version(obj: Any, version: str) -> Any:
    """An object as a version of the API shows it: v3.0 lacks the fields v3.1 added."""
    if version == "3.1" or not isinstance(obj, dict):
        return obj
    return {k: for_version(v, version) for k, v in obj.items() if k not in V31_ONLY}
