"""OneRoster 1.1 CSV -> canonical records (the ``oneroster-1.1-csv`` format).

All 14 files of the 1.1 CSV binding: the manifest is read by the bundle reader; the roster files map
to the canonical model; gradebook and resource files (categories, lineItems, results, resources,
classResources, courseResources) are validated and stored in their own tables. Each file is a
:class:`~rostersync.formats.columns.FileSpec`: spec column order, required columns and values,
enumerations (any case, stored in the spec's spelling), lists, ``{type:value}`` userIds, dates and
booleans. ``password`` is never stored.
"""

from __future__ import annotations

from typing import Any

import attrs

from rostersync import hookimpl
from rostersync.batches import MappedBatch, RawBatch
from rostersync.formats import Format
from rostersync.formats import fields as f
from rostersync.formats.columnar import map_columns
from rostersync.formats.columns import Column, FileSpec, RowProblem, map_rows
from rostersync.grades import normalise_grades
from rostersync.model import (
    CLASS_TYPES,
    ENROLLMENT_ROLES,
    IMPORTANCES,
    ORG_TYPES,
    SCORE_STATUSES,
    SESSION_TYPES,
    STATUSES,
    USER_ROLES,
    AcademicSession,
    Category,
    Class,
    ClassResource,
    Course,
    CourseResource,
    Demographics,
    Enrollment,
    LineItem,
    Org,
    Resource,
    Result,
    User,
)

ONEROSTER_11 = "oneroster-1.1-csv"


def common_columns() -> tuple[Column, ...]:
    """sourcedId, status, dateLastModified: the first three columns of every data file."""
    return (
        Column("sourcedId", "sourced_id", f.ident, required=True),
        Column("status", "status", f.one_of(*STATUSES)),
        Column("dateLastModified", "date_last_modified", f.datetime),
    )


_SEX = f.one_of("male", "female", "other", "unspecified")


def _spec(record_type: type, *columns: Column) -> FileSpec:
    return FileSpec(record_type, (*common_columns(), *columns))


#: canonical entity -> how its 1.1 file maps. Keys are the entities ``csvbundle`` names for each file.
FILES: dict[str, FileSpec] = {
    "orgs": _spec(
        Org,
        Column("name", "name", required=True),
        Column("type", "type", f.one_of(*ORG_TYPES), required=True),
        Column("identifier", "identifier"),
        Column("parentSourcedId", "parent_sourced_id", f.ident),
    ),
    "academic_sessions": _spec(
        AcademicSession,
        Column("title", "title", required=True),
        Column("type", "type", f.one_of(*SESSION_TYPES), required=True),
        Column("startDate", "start_date", f.date, required=True),
        Column("endDate", "end_date", f.date, required=True),
        Column("parentSourcedId", "parent_sourced_id", f.ident),
        Column("schoolYear", "school_year", required=True),
    ),
    "courses": _spec(
        Course,
        Column("schoolYearSourcedId", "school_year_sourced_id", f.ident),
        Column("title", "title", required=True),
        Column("courseCode", "course_code"),
        Column("grades", "grades", f.id_list),
        Column("orgSourcedId", "org_sourced_id", f.ident, required=True),
        Column("subjects", "subjects", f.id_list),
        Column("subjectCodes", "subject_codes", f.id_list),
    ),
    "classes": _spec(
        Class,
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
    ),
    "users": _spec(
        User,
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
    ),
    "enrollments": _spec(
        Enrollment,
        Column("classSourcedId", "class_sourced_id", f.ident, required=True),
        Column("schoolSourcedId", "school_sourced_id", f.ident, required=True),
        Column("userSourcedId", "user_sourced_id", f.ident, required=True),
        Column("role", "role", f.one_of(*ENROLLMENT_ROLES), required=True),
        Column("primary", "primary", f.boolean),
        Column("beginDate", "begin_date", f.date),
        Column("endDate", "end_date", f.date),
    ),
    "demographics": _spec(
        Demographics,
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
    ),
    "categories": _spec(
        Category,
        Column("title", "title", required=True),
    ),
    "resources": _spec(
        Resource,
        Column("vendorResourceId", "vendor_resource_id", required=True),
        Column("title", "title"),
        Column("roles", "roles", f.list_of(f.one_of(*USER_ROLES))),
        Column("importance", "importance", f.one_of(*IMPORTANCES)),
        Column("vendorId", "vendor_id"),
        Column("applicationId", "application_id"),
    ),
    "line_items": _spec(
        LineItem,
        Column("title", "title", required=True),
        Column("description", "description"),
        Column("assignDate", "assign_date", f.datetime, required=True),
        Column("dueDate", "due_date", f.datetime, required=True),
        Column("classSourcedId", "class_sourced_id", f.ident, required=True),
        Column("categorySourcedId", "category_sourced_id", f.ident, required=True),
        Column("gradingPeriodSourcedId", "grading_period_sourced_id", f.ident, required=True),
        Column("resultValueMin", "result_value_min", f.decimal, required=True),
        Column("resultValueMax", "result_value_max", f.decimal, required=True),
    ),
    "results": _spec(
        Result,
        Column("lineItemSourcedId", "line_item_sourced_id", f.ident, required=True),
        Column("studentSourcedId", "student_sourced_id", f.ident, required=True),
        Column("scoreStatus", "score_status", f.one_of(*SCORE_STATUSES), required=True),
        Column("score", "score", f.decimal, required=True),
        Column("scoreDate", "score_date", f.date, required=True),
        Column("comment", "comment"),
    ),
    "class_resources": _spec(
        ClassResource,
        Column("title", "title"),
        Column("classSourcedId", "class_sourced_id", f.ident, required=True),
        Column("resourceSourcedId", "resource_sourced_id", f.ident, required=True),
    ),
    "course_resources": _spec(
        CourseResource,
        Column("title", "title"),
        Column("courseSourcedId", "course_sourced_id", f.ident, required=True),
        Column("resourceSourcedId", "resource_sourced_id", f.ident, required=True),
    ),
}


def grades_finish(values: dict[str, Any]) -> list[str]:
    """Normalise ``grades`` to CEDS codes, keeping what the source sent in ``grades_raw``."""
    raw = values.get("grades")
    if not raw:
        return []
    values["grades"], values["grades_raw"], unknown = normalise_grades(raw)
    return [f"grades: {u!r} is not a known grade level; stored as Other" for u in unknown]


def line_item_finish(values: dict[str, Any]) -> list[str]:
    """A gradebook column whose lowest possible score is above its highest cannot be graded."""
    low, high = values.get("result_value_min"), values.get("result_value_max")
    if low is not None and high is not None and float(low) > float(high):
        raise RowProblem("resultValueMin", f"resultValueMin {low} is greater than resultValueMax {high}")
    return []


def map_file(batch: RawBatch, spec: FileSpec) -> MappedBatch:
    """Map one batch with ``spec``, normalising grades where the record type has them: column-wise
    (:mod:`~rostersync.formats.columnar`) where it can, else with the reference row mapper."""
    grades = "grades_raw" in attrs.fields_dict(spec.record_type)
    if spec.record_type is LineItem:
        return map_rows(batch, spec, line_item_finish)
    fast = map_columns(batch, spec, grades=grades)
    if fast is not None:
        return fast
    return map_rows(batch, spec, grades_finish if grades else None)


def map_batch(batch: RawBatch) -> MappedBatch | None:
    if batch.format != ONEROSTER_11 or batch.entity not in FILES:
        return None
    return map_file(batch, FILES[batch.entity])


@hookimpl
def rostersync_register_formats(register):  # type: ignore[no-untyped-def]
    register(Format(ONEROSTER_11, "OneRoster 1.1 CSV (the 14 files of a bundle)", map_batch))
