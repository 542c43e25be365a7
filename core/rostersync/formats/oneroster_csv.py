"""OneRoster 1.1 CSV -> canonical records (the ``rostersync_map`` hook for ``oneroster-1.1-csv``).

Columns are found by header name, not position. Each file has a table of (column, attribute, parser,
required); columns the table does not name are kept in ``extra``, except ``password``, which
rostersync never stores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from rostersync import hookimpl
from rostersync.batches import MappedBatch, RawBatch
from rostersync.csvbundle import ONEROSTER_11
from rostersync.errors import DataError
from rostersync.formats import fields as f
from rostersync.grades import normalise_grades
from rostersync.model import (
    CLASS_TYPES,
    ENROLLMENT_ROLES,
    ORG_TYPES,
    SESSION_TYPES,
    STATUSES,
    USER_ROLES,
    AcademicSession,
    Class,
    Course,
    Demographics,
    Enrollment,
    Org,
    Record,
    User,
)

NEVER_STORED = frozenset({"password"})


@attrs.frozen
class Column:
    name: str
    attr: str
    parse: f.Parser = f.text
    required: bool = False


def _common() -> list[Column]:
    return [
        Column("sourcedId", "sourced_id", f.ident, required=True),
        Column("status", "status", f.one_of(*STATUSES)),
        Column("dateLastModified", "date_last_modified", f.datetime),
    ]


_SEX = f.one_of("male", "female", "other", "unspecified")

FILES: dict[str, tuple[type[Record], list[Column]]] = {
    "orgs": (Org, [
        *_common(),
        Column("name", "name", required=True),
        Column("type", "type", f.one_of(*ORG_TYPES), required=True),
        Column("identifier", "identifier"),
        Column("parentSourcedId", "parent_sourced_id", f.ident),
    ]),
    "academic_sessions": (AcademicSession, [
        *_common(),
        Column("title", "title", required=True),
        Column("type", "type", f.one_of(*SESSION_TYPES), required=True),
        Column("startDate", "start_date", f.date, required=True),
        Column("endDate", "end_date", f.date, required=True),
        Column("parentSourcedId", "parent_sourced_id", f.ident),
        Column("schoolYear", "school_year", required=True),
    ]),
    "courses": (Course, [
        *_common(),
        Column("schoolYearSourcedId", "school_year_sourced_id", f.ident),
        Column("title", "title", required=True),
        Column("courseCode", "course_code"),
        Column("grades", "grades", f.id_list),
        Column("orgSourcedId", "org_sourced_id", f.ident, required=True),
        Column("subjects", "subjects", f.id_list),
        Column("subjectCodes", "subject_codes", f.id_list),
    ]),
    "classes": (Class, [
        *_common(),
        Column("title", "title", required=True),
        Column("grades", "grades", f.id_list),
        Column("courseSourcedId", "course_sourced_id", f.ident, required=True),
        Column("classCode", "class_code"),
        Column("classType", "class_type", f.one_of(*CLASS_TYPES), required=True),
        Column("location", "location"),
        Column("schoolSourcedId", "school_sourced_id", f.ident, required=True),
        Column("termSourcedIds", "term_sourced_ids", f.id_list, required=True),
        Column("subjects", "subjects", f.id_list),
        Column("subjectCodes", "subject_codes", f.id_list),
        Column("periods", "periods", f.id_list),
    ]),
    "users": (User, [
        *_common(),
        Column("enabledUser", "enabled_user", f.boolean, required=True),
        Column("orgSourcedIds", "org_sourced_ids", f.id_list, required=True),
        Column("role", "role", f.one_of(*USER_ROLES), required=True),
        Column("username", "username", required=True),
        Column("userIds", "user_ids", f.user_ids),
        Column("givenName", "given_name", required=True),
        Column("familyName", "family_name", required=True),
        Column("middleName", "middle_name"),
        Column("identifier", "identifier"),
        Column("email", "email"),
        Column("sms", "sms"),
        Column("phone", "phone"),
        Column("agentSourcedIds", "agent_sourced_ids", f.id_list),
        Column("grades", "grades", f.id_list),
    ]),
    "enrollments": (Enrollment, [
        *_common(),
        Column("classSourcedId", "class_sourced_id", f.ident, required=True),
        Column("schoolSourcedId", "school_sourced_id", f.ident, required=True),
        Column("userSourcedId", "user_sourced_id", f.ident, required=True),
        Column("role", "role", f.one_of(*ENROLLMENT_ROLES), required=True),
        Column("primary", "primary", f.boolean),
        Column("beginDate", "begin_date", f.date),
        Column("endDate", "end_date", f.date),
    ]),
    "demographics": (Demographics, [
        *_common(),
        Column("birthDate", "birth_date", f.date),
        Column("sex", "sex", _SEX),
        Column("americanIndianOrAlaskaNative", "american_indian_or_alaska_native", f.boolean),
        Column("asian", "asian", f.boolean),
        Column("blackOrAfricanAmerican", "black_or_african_american", f.boolean),
        Column("nativeHawaiianOrOtherPacificIslander", "native_hawaiian_or_other_pacific_islander", f.boolean),
        Column("white", "white", f.boolean),
        Column("demographicRaceTwoOrMoreRaces", "demographic_race_two_or_more_races", f.boolean),
        Column("hispanicOrLatinoEthnicity", "hispanic_or_latino_ethnicity", f.boolean),
        Column("countryOfBirthCode", "country_of_birth_code"),
        Column("stateOfBirthAbbreviation", "state_of_birth_abbreviation"),
        Column("cityOfBirth", "city_of_birth"),
        Column("publicSchoolResidenceStatus", "public_school_residence_status"),
    ]),
}


def map_rows(batch: RawBatch, record_type: type[Record], columns: Sequence[Column],
             finish: Callable[[dict[str, Any]], list[str]] | None = None) -> MappedBatch:
    """Map CSV rows by header name. ``finish`` may adjust each row's attributes and return warnings."""
    index = {name: i for i, name in enumerate(batch.header)}
    if len(index) != len(batch.header):
        dupes = sorted({h for h in batch.header if batch.header.count(h) > 1})
        raise DataError(f"header repeats column(s) {', '.join(dupes)}", batch.location, 1)
    missing = [c.name for c in columns if c.required and c.name not in index]
    if missing:
        raise DataError(
            f"header lacks required column(s) {', '.join(missing)} (header names are case-sensitive)",
            batch.location, 1, missing[0],
        )
    plan = [(c.attr, index[c.name], c.parse, c.required, c.name) for c in columns if c.name in index]
    known = {c.name for c in columns} | NEVER_STORED
    extra_plan = [(i, name) for name, i in index.items() if name not in known]
    records: list[Record] = []
    warnings: list[str] = []
    lines: list[int] = []
    for line, row in batch.rows:
        values: dict[str, Any] = {}
        for attr, i, parse, required, name in plan:
            raw = row[i]
            if raw == "" or (required and raw.isspace()):
                if required:
                    raise DataError("required value is empty", batch.location, line, name)
                continue
            try:
                values[attr] = parse(raw)
            except ValueError as exc:
                raise DataError(str(exc), batch.location, line, name) from None
        if extra_plan:
            values["extra"] = {name: row[i] for i, name in extra_plan if row[i] != ""}
        if finish is not None:
            warnings.extend(f"{batch.location}:{line}: {w}" for w in finish(values))
        records.append(record_type(**values))
        lines.append(line)
    return MappedBatch(batch.entity, batch.location, records, batch.mode, warnings, lines)


def grades_finish(values: dict[str, Any]) -> list[str]:
    """Normalise ``grades`` to CEDS codes, keeping what the source sent in ``grades_raw``."""
    raw = values.get("grades")
    if not raw:
        return []
    values["grades"], values["grades_raw"], unknown = normalise_grades(raw)
    return [f"grades: {u!r} is not a known grade level; stored as Other" for u in unknown]


@hookimpl
def rostersync_map(batch: RawBatch) -> MappedBatch | None:
    if batch.format != ONEROSTER_11 or batch.entity not in FILES:
        return None
    record_type, columns = FILES[batch.entity]
    finish = grades_finish if "grades_raw" in attrs.fields_dict(record_type) else None
    return map_rows(batch, record_type, columns, finish)
