"""The canonical roster model: what every source format maps to and every destination stores.

Field names follow OneRoster in snake_case. Every record is keyed by its source's ``sourced_id``,
carries ``status`` and ``date_last_modified`` and keeps the columns its format does not map in
``extra`` (e.g. ``metadata.*`` columns) rather than dropping them. Lists are tuples so records stay
hashable and immutable. Dates stay ISO strings (``YYYY-MM-DD``): they are validated on the way in,
and strings keep the hot path cheap and the stored form exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

USER_ROLES = (
    "administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher",
    # OneRoster 1.2 splits administrator and adds these:
    "counselor", "districtAdministrator", "principal", "siteAdministrator", "systemAdministrator",
)
ORG_TYPES = ("department", "school", "district", "local", "state", "national")
SESSION_TYPES = ("gradingPeriod", "semester", "schoolYear", "term")
CLASS_TYPES = ("homeroom", "scheduled")
ENROLLMENT_ROLES = ("administrator", "proctor", "student", "teacher")
STATUSES = ("active", "tobedeleted", "inactive")
ROLE_TYPES = ("primary", "secondary")
SCORE_STATUSES = ("exempt", "fully graded", "not submitted", "partially graded", "submitted")
IMPORTANCES = ("primary", "secondary")


def _extra() -> Any:
    return attrs.field(factory=dict, kw_only=True, eq=True, hash=False)


@attrs.frozen
class UserId:
    """One entry of OneRoster ``userIds``: ``{type:identifier}``, e.g. ``{LDAP:jdoe}``."""

    type: str
    identifier: str

    def __str__(self) -> str:
        return f"{{{self.type}:{self.identifier}}}"


@attrs.frozen
class Record:
    """Fields every canonical record has."""

    entity: ClassVar[str]
    sourced_id: str
    status: str | None = attrs.field(default=None, kw_only=True)
    date_last_modified: str | None = attrs.field(default=None, kw_only=True)
    extra: Mapping[str, str] = _extra()


@attrs.frozen
class Org(Record):
    entity: ClassVar[str] = "orgs"
    name: str = attrs.field(kw_only=True)
    type: str = attrs.field(kw_only=True)
    identifier: str | None = attrs.field(default=None, kw_only=True)
    parent_sourced_id: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class AcademicSession(Record):
    entity: ClassVar[str] = "academic_sessions"
    title: str = attrs.field(kw_only=True)
    type: str = attrs.field(kw_only=True)
    start_date: str = attrs.field(kw_only=True)
    end_date: str = attrs.field(kw_only=True)
    parent_sourced_id: str | None = attrs.field(default=None, kw_only=True)
    school_year: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class Course(Record):
    entity: ClassVar[str] = "courses"
    title: str = attrs.field(kw_only=True)
    org_sourced_id: str = attrs.field(kw_only=True)
    school_year_sourced_id: str | None = attrs.field(default=None, kw_only=True)
    course_code: str | None = attrs.field(default=None, kw_only=True)
    grades: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    grades_raw: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    subjects: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    subject_codes: tuple[str, ...] = attrs.field(default=(), kw_only=True)


@attrs.frozen
class Class(Record):
    """A class (section). ``periods`` are the SIS period codes a bell schedule maps to."""

    entity: ClassVar[str] = "classes"
    title: str = attrs.field(kw_only=True)
    course_sourced_id: str = attrs.field(kw_only=True)
    school_sourced_id: str = attrs.field(kw_only=True)
    term_sourced_ids: tuple[str, ...] = attrs.field(kw_only=True)
    class_type: str = attrs.field(default="scheduled", kw_only=True)
    class_code: str | None = attrs.field(default=None, kw_only=True)
    location: str | None = attrs.field(default=None, kw_only=True)
    grades: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    grades_raw: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    subjects: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    subject_codes: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    periods: tuple[str, ...] = attrs.field(default=(), kw_only=True)


@attrs.frozen
class User(Record):
    """A person: student, teacher, administrator, aide, guardian/parent, relative...

    ``grades`` are CEDS codes (KG, 01..13, ...); ``grades_raw`` keeps what the source sent when it
    differed (courses and classes do the same).
    ``agent_sourced_ids`` link a student to guardians/parents and a guardian to their students.
    The source's ``password`` column is deliberately not part of the model: rostersync never stores it.
    """

    entity: ClassVar[str] = "users"
    role: str = attrs.field(kw_only=True)
    given_name: str = attrs.field(kw_only=True)
    family_name: str = attrs.field(kw_only=True)
    enabled_user: bool = attrs.field(default=True, kw_only=True)
    username: str | None = attrs.field(default=None, kw_only=True)
    org_sourced_ids: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    user_ids: tuple[UserId, ...] = attrs.field(default=(), kw_only=True)
    middle_name: str | None = attrs.field(default=None, kw_only=True)
    preferred_given_name: str | None = attrs.field(default=None, kw_only=True)
    preferred_middle_name: str | None = attrs.field(default=None, kw_only=True)
    preferred_family_name: str | None = attrs.field(default=None, kw_only=True)
    pronouns: str | None = attrs.field(default=None, kw_only=True)
    identifier: str | None = attrs.field(default=None, kw_only=True)
    user_master_identifier: str | None = attrs.field(default=None, kw_only=True)
    email: str | None = attrs.field(default=None, kw_only=True)
    sms: str | None = attrs.field(default=None, kw_only=True)
    phone: str | None = attrs.field(default=None, kw_only=True)
    agent_sourced_ids: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    grades: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    grades_raw: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    primary_org_sourced_id: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class Enrollment(Record):
    entity: ClassVar[str] = "enrollments"
    class_sourced_id: str = attrs.field(kw_only=True)
    school_sourced_id: str = attrs.field(kw_only=True)
    user_sourced_id: str = attrs.field(kw_only=True)
    role: str = attrs.field(kw_only=True)
    primary: bool | None = attrs.field(default=None, kw_only=True)
    begin_date: str | None = attrs.field(default=None, kw_only=True)
    end_date: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class Demographics(Record):
    """Opt-in: a connector must enable demographics explicitly. ``sourced_id`` is the user's."""

    entity: ClassVar[str] = "demographics"
    birth_date: str | None = attrs.field(default=None, kw_only=True)
    sex: str | None = attrs.field(default=None, kw_only=True)
    american_indian_or_alaska_native: bool | None = attrs.field(default=None, kw_only=True)
    asian: bool | None = attrs.field(default=None, kw_only=True)
    black_or_african_american: bool | None = attrs.field(default=None, kw_only=True)
    native_hawaiian_or_other_pacific_islander: bool | None = attrs.field(default=None, kw_only=True)
    white: bool | None = attrs.field(default=None, kw_only=True)
    demographic_race_two_or_more_races: bool | None = attrs.field(default=None, kw_only=True)
    hispanic_or_latino_ethnicity: bool | None = attrs.field(default=None, kw_only=True)
    country_of_birth_code: str | None = attrs.field(default=None, kw_only=True)
    state_of_birth_abbreviation: str | None = attrs.field(default=None, kw_only=True)
    city_of_birth: str | None = attrs.field(default=None, kw_only=True)
    public_school_residence_status: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class Role(Record):
    """OneRoster 1.2 ``roles.csv``: one role of a user at one org. Also folded into the user's ``role``
    (the primary role) and ``org_sourced_ids`` when the bundle is read, so 1.1 and 1.2 users look alike."""

    entity: ClassVar[str] = "roles"
    user_sourced_id: str = attrs.field(kw_only=True)
    role_type: str = attrs.field(kw_only=True)
    role: str = attrs.field(kw_only=True)
    org_sourced_id: str = attrs.field(kw_only=True)
    begin_date: str | None = attrs.field(default=None, kw_only=True)
    end_date: str | None = attrs.field(default=None, kw_only=True)
    user_profile_sourced_id: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class UserProfile(Record):
    """OneRoster 1.2 ``userProfiles.csv``: a user's account at a vendor application (never its password)."""

    entity: ClassVar[str] = "user_profiles"
    user_sourced_id: str = attrs.field(kw_only=True)
    profile_type: str = attrs.field(kw_only=True)
    vendor_id: str = attrs.field(kw_only=True)
    application_id: str | None = attrs.field(default=None, kw_only=True)
    description: str | None = attrs.field(default=None, kw_only=True)
    credential_type: str | None = attrs.field(default=None, kw_only=True)
    username: str | None = attrs.field(default=None, kw_only=True)


# -- gradebook and resources: validated and stored as sent, not interpreted by the roster ------------
@attrs.frozen
class Category(Record):
    entity: ClassVar[str] = "categories"
    title: str = attrs.field(kw_only=True)
    weight: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class LineItem(Record):
    """A gradebook column. ``grading_period_sourced_id`` is 1.1's gradingPeriodSourcedId and 1.2's
    academicSessionSourcedId. Scores and bounds stay decimal strings, exactly as sent."""

    entity: ClassVar[str] = "line_items"
    title: str = attrs.field(kw_only=True)
    class_sourced_id: str = attrs.field(kw_only=True)
    description: str | None = attrs.field(default=None, kw_only=True)
    assign_date: str | None = attrs.field(default=None, kw_only=True)
    due_date: str | None = attrs.field(default=None, kw_only=True)
    category_sourced_id: str | None = attrs.field(default=None, kw_only=True)
    grading_period_sourced_id: str | None = attrs.field(default=None, kw_only=True)
    school_sourced_id: str | None = attrs.field(default=None, kw_only=True)
    result_value_min: str | None = attrs.field(default=None, kw_only=True)
    result_value_max: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class Result(Record):
    entity: ClassVar[str] = "results"
    line_item_sourced_id: str = attrs.field(kw_only=True)
    student_sourced_id: str = attrs.field(kw_only=True)
    score_status: str = attrs.field(kw_only=True)
    score: str | None = attrs.field(default=None, kw_only=True)
    text_score: str | None = attrs.field(default=None, kw_only=True)
    score_date: str | None = attrs.field(default=None, kw_only=True)
    comment: str | None = attrs.field(default=None, kw_only=True)
    class_sourced_id: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class Resource(Record):
    entity: ClassVar[str] = "resources"
    vendor_resource_id: str = attrs.field(kw_only=True)
    title: str | None = attrs.field(default=None, kw_only=True)
    roles: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    importance: str | None = attrs.field(default=None, kw_only=True)
    vendor_id: str | None = attrs.field(default=None, kw_only=True)
    application_id: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class ClassResource(Record):
    entity: ClassVar[str] = "class_resources"
    class_sourced_id: str = attrs.field(kw_only=True)
    resource_sourced_id: str = attrs.field(kw_only=True)
    title: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class CourseResource(Record):
    entity: ClassVar[str] = "course_resources"
    course_sourced_id: str = attrs.field(kw_only=True)
    resource_sourced_id: str = attrs.field(kw_only=True)
    title: str | None = attrs.field(default=None, kw_only=True)


#: Canonical entities in dependency order (what a record refers to comes first). The roster entities
#: come first; roles, profiles, gradebook and resources follow (each gets its own table).
RECORD_TYPES: tuple[type[Record], ...] = (
    Org, AcademicSession, Course, Class, User, Enrollment, Demographics,
    Role, UserProfile, Category, Resource, LineItem, Result, ClassResource, CourseResource,
)
ENTITIES: dict[str, type[Record]] = {cls.entity: cls for cls in RECORD_TYPES}
