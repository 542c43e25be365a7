"""The OneRoster field table: every file and field of the OneRoster 1.1 and 1.2 bindings, declared once.

The CSV mappers (:mod:`~rostersync.formats.oneroster_csv` for 1.1, :mod:`~rostersync.formats.oneroster12_csv`
for 1.2), the REST JSON mapper (:mod:`~rostersync.formats.oneroster_json`), the bundle reader's file list
and ``rostersync export`` all derive their columns from :data:`TABLE`, so a field added, renamed or made
optional here changes every binding at once, and the bindings cannot drift apart.

Per entity (in dependency order, which is also the order a bundle is read in): the canonical record type,
the CSV file, the versions that have it, the REST object type, and what the file holds (for messages).
Per field, in the spec's column order: the CSV header, the canonical attribute, the parser, which versions
have the field and which require a value, and how REST JSON carries it (its key where that differs from
the CSV header, and its shape, derived from the parser: a reference is a GUIDRef, a list of references a
GUIDRef list). Every entity starts with sourcedId, status and dateLastModified.

Where the bindings really differ it says so here: 1.2 accepts ``ext:`` values in some enumerations,
1.2 CSV moved users' role and orgs to roles.csv (and 1.2 JSON to ``roles[]``), 1.2 JSON spells the
preferred names ``preferredFirstName``/``preferredLastName``, lineItems' grading period is
``academicSessionSourcedId`` in 1.2.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from rostersync.formats import fields as f
from rostersync.model import (
    CLASS_TYPES,
    ENROLLMENT_ROLES,
    IMPORTANCES,
    ORG_TYPES,
    ROLE_TYPES,
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
    Record,
    Resource,
    Result,
    Role,
    User,
    UserProfile,
)

V11, V12 = "1.1", "1.2"
VERSIONS = (V11, V12)

#: How REST JSON carries a value: text (a string, number or boolean, read by the field's parser), a GUIDRef
#: (``{"sourcedId": ...}``), a list of GUIDRefs, a list of strings, or a list of ``{type, identifier}`` objects.
TEXT, REF, REFS, LIST, USER_IDS = "text", "ref", "refs", "list", "user_ids"

#: The JSON key is the CSV header (the default of :attr:`Field.json`).
SAME = "="


def _versions(value: bool | str | Iterable[str]) -> frozenset[str]:
    """``True``: every version; ``False``: none; ``"1.1"``: that one; or an iterable of versions."""
    if value is True or value is False:
        return frozenset(VERSIONS if value else ())
    found = frozenset((value,) if isinstance(value, str) else value)
    if not found <= set(VERSIONS):
        raise ValueError(f"unknown OneRoster version(s) {sorted(found - set(VERSIONS))}")
    return found


@attrs.frozen
class Field:
    """One field of one OneRoster entity.

    ``attr`` None: a field rostersync reads past and never stores (``password``). ``parse_12``: 1.2's
    parser where 1.2 accepts more (``ext:`` enumeration values). ``versions``: the versions whose CSV
    file and JSON object have the field; ``required``: those that require a value. ``json``: the REST key
    (:data:`SAME`: the CSV header; None: not in REST JSON), ``json_versions`` the versions whose JSON has
    it, ``json_alternates`` keys some servers send instead. ``to``: the entity a reference points at.
    """

    name: str
    attr: str | None
    parse: f.Parser = f.text
    required: frozenset[str] = attrs.field(default=False, converter=_versions)
    versions: frozenset[str] = attrs.field(default=True, converter=_versions)
    parse_12: f.Parser | None = None
    to: str | None = None
    json: str | None = SAME
    json_versions: frozenset[str] = attrs.field(default=True, converter=_versions)
    json_alternates: tuple[str, ...] = ()

    def parser(self, version: str) -> f.Parser:
        return self.parse_12 if version == V12 and self.parse_12 is not None else self.parse

    @property
    def shape(self) -> str:
        """How REST JSON carries the field, from its parser: references are GUIDRefs, lists are arrays."""
        if self.parse is f.user_ids:
            return USER_IDS
        if self.parse is f.id_list:
            return REFS if self.to else LIST
        return REF if self.to else TEXT

    def json_key(self, version: str) -> str | None:
        """The REST key of this field in ``version``, or None when that version's JSON does not carry it."""
        if self.json is None or version not in self.versions or version not in self.json_versions:
            return None
        return self.name if self.json == SAME else self.json


@attrs.frozen
class Entity:
    """One OneRoster entity: its record type, CSV file, versions, REST GUIDRef ``type`` (None: not read
    over REST) and what its file holds; ``fields`` in spec order, the common three first."""

    record_type: type[Record]
    file: str
    versions: frozenset[str] = attrs.field(converter=_versions)
    guid_type: str | None
    purpose: str
    fields: tuple[Field, ...]

    @property
    def name(self) -> str:
        return self.record_type.entity

    def csv_fields(self, version: str) -> tuple[Field, ...]:
        """The columns of this entity's CSV file in ``version``, in spec order (``password`` too)."""
        return tuple(fd for fd in self.fields if version in fd.versions)

    def field(self, attr: str) -> Field:
        return next(fd for fd in self.fields if fd.attr == attr)


COMMON = (
    Field("sourcedId", "sourced_id", f.ident, required=True),
    Field("status", "status", f.one_of(*STATUSES)),
    Field("dateLastModified", "date_last_modified", f.datetime),
)


def _entity(record_type: type[Record], file: str, purpose: str, *fields: Field, versions: bool | str = True,
            guid_type: str | None = None) -> Entity:
    return Entity(record_type, file, versions, guid_type, purpose, (*COMMON, *fields))


def _enum(*values: str) -> f.Parser:
    return f.one_of(*values)


def _enum_12(*values: str) -> f.Parser:
    """An enumeration 1.2 extends with ``ext:`` values."""
    return f.one_of_ext(*values)


_ORG_TYPE = _enum(*ORG_TYPES)
_SESSION_TYPE = _enum(*SESSION_TYPES)
_CLASS_TYPE = _enum(*CLASS_TYPES)
_USER_ROLE, _USER_ROLE_12 = _enum(*USER_ROLES), _enum_12(*USER_ROLES)
_ENROLLMENT_ROLE = _enum(*ENROLLMENT_ROLES)
_SEX = _enum("male", "female", "other", "unspecified")

#: Every OneRoster entity rostersync reads, in dependency order (1.2's roles.csv before users.csv, which
#: needs it; userProfiles.csv after).
ENTITIES: tuple[Entity, ...] = (
    _entity(
        Org, "orgs.csv", "the district and its schools (courses, classes, users and enrollments refer to them)",
        Field("name", "name", required=True),
        Field("type", "type", _ORG_TYPE, required=True, parse_12=_enum_12(*ORG_TYPES)),
        Field("identifier", "identifier"),
        Field("parentSourcedId", "parent_sourced_id", f.ident, to="orgs", json="parent"),
        guid_type="org",
    ),
    _entity(
        AcademicSession, "academicSessions.csv", "school years, terms and grading periods (classes refer to them)",
        Field("title", "title", required=True),
        Field("type", "type", _SESSION_TYPE, required=True, parse_12=_enum_12(*SESSION_TYPES)),
        Field("startDate", "start_date", f.date, required=True),
        Field("endDate", "end_date", f.date, required=True),
        Field("parentSourcedId", "parent_sourced_id", f.ident, to="academic_sessions", json="parent"),
        Field("schoolYear", "school_year", required=True),
        guid_type="academicSession",
    ),
    _entity(
        Course, "courses.csv", "courses (every class belongs to one)",
        Field("schoolYearSourcedId", "school_year_sourced_id", f.ident, to="academic_sessions", json="schoolYear"),
        Field("title", "title", required=True),
        Field("courseCode", "course_code"),
        Field("grades", "grades", f.id_list),
        Field("orgSourcedId", "org_sourced_id", f.ident, required=True, to="orgs", json="org"),
        Field("subjects", "subjects", f.id_list),
        Field("subjectCodes", "subject_codes", f.id_list),
        guid_type="course",
    ),
    _entity(
        Class, "classes.csv", "classes/sections (enrollments refer to them)",
        Field("title", "title", required=True),
        Field("grades", "grades", f.id_list),
        Field("courseSourcedId", "course_sourced_id", f.ident, required=True, to="courses", json="course"),
        Field("classCode", "class_code"),
        Field("classType", "class_type", _CLASS_TYPE, required=True, parse_12=_enum_12(*CLASS_TYPES)),
        Field("location", "location"),
        Field("schoolSourcedId", "school_sourced_id", f.ident, required=True, to="orgs", json="school"),
        Field("termSourcedIds", "term_sourced_ids", f.id_list, required=True, to="academic_sessions",
              json="terms"),
        Field("subjects", "subjects", f.id_list),
        Field("subjectCodes", "subject_codes", f.id_list),
        Field("periods", "periods", f.id_list),
        guid_type="class",
    ),
    _entity(
        Role, "roles.csv", "each user's role and schools (OneRoster 1.2 moved them out of users.csv)",
        Field("userSourcedId", "user_sourced_id", f.ident, required=True, to="users"),
        Field("roleType", "role_type", _enum(*ROLE_TYPES), required=True),
        Field("role", "role", _USER_ROLE_12, required=True),
        Field("beginDate", "begin_date", f.date),
        Field("endDate", "end_date", f.date),
        Field("orgSourcedId", "org_sourced_id", f.ident, required=True, to="orgs"),
        Field("userProfileSourcedId", "user_profile_sourced_id", f.ident, to="user_profiles"),
        versions=V12,
    ),
    _entity(
        User, "users.csv", "students, teachers, guardians and administrators (enrollments refer to them)",
        Field("enabledUser", "enabled_user", f.boolean, required=True),
        # 1.2 CSV has these in roles.csv (a users.csv may still carry them), 1.2 JSON in roles[]
        Field("orgSourcedIds", "org_sourced_ids", f.id_list, required=True, to="orgs", json="orgs",
              json_versions=V11),
        Field("role", "role", _USER_ROLE, required=True, parse_12=_USER_ROLE_12, json_versions=V11),
        Field("username", "username", required=True),
        Field("userIds", "user_ids", f.user_ids),
        Field("givenName", "given_name", required=True),
        Field("familyName", "family_name", required=True),
        Field("middleName", "middle_name"),
        Field("identifier", "identifier"),
        Field("email", "email"),
        Field("sms", "sms"),
        Field("phone", "phone"),
        Field("agentSourcedIds", "agent_sourced_ids", f.id_list, to="users", json="agents"),
        Field("grades", "grades", f.id_list),
        Field("password", None, json=None),  # never stored, never served
        Field("userMasterIdentifier", "user_master_identifier", versions=V12),
        Field("preferredGivenName", "preferred_given_name", versions=V12, json="preferredFirstName",
              json_alternates=("preferredGivenName",)),
        Field("preferredMiddleName", "preferred_middle_name", versions=V12),
        Field("preferredFamilyName", "preferred_family_name", versions=V12, json="preferredLastName",
              json_alternates=("preferredFamilyName",)),
        Field("primaryOrgSourcedId", "primary_org_sourced_id", f.ident, versions=V12, to="orgs", json="primaryOrg"),
        Field("pronouns", "pronouns", versions=V12),
        guid_type="user",
    ),
    _entity(
        UserProfile, "userProfiles.csv", "users' application accounts",
        Field("userSourcedId", "user_sourced_id", f.ident, required=True, to="users"),
        Field("profileType", "profile_type", required=True),
        Field("vendorId", "vendor_id", required=True),
        Field("applicationId", "application_id"),
        Field("description", "description"),
        Field("credentialType", "credential_type"),
        Field("username", "username"),
        versions=V12,
    ),
    _entity(
        Enrollment, "enrollments.csv", "who is in which class, as student or teacher",
        Field("classSourcedId", "class_sourced_id", f.ident, required=True, to="classes", json="class"),
        Field("schoolSourcedId", "school_sourced_id", f.ident, required=True, to="orgs", json="school"),
        Field("userSourcedId", "user_sourced_id", f.ident, required=True, to="users", json="user"),
        Field("role", "role", _ENROLLMENT_ROLE, required=True, parse_12=_enum_12(*ENROLLMENT_ROLES)),
        Field("primary", "primary", f.boolean),
        Field("beginDate", "begin_date", f.date),
        Field("endDate", "end_date", f.date),
        guid_type="enrollment",
    ),
    _entity(
        Demographics, "demographics.csv",
        "birth dates, sex and race of users (imported only when demographics are enabled)",
        Field("birthDate", "birth_date", f.date),
        Field("sex", "sex", _SEX),
        Field("americanIndianOrAlaskaNative", "american_indian_or_alaska_native", f.boolean),
        Field("asian", "asian", f.boolean),
        Field("blackOrAfricanAmerican", "black_or_african_american", f.boolean),
        Field("nativeHawaiianOrOtherPacificIslander", "native_hawaiian_or_other_pacific_islander", f.boolean),
        Field("white", "white", f.boolean),
        Field("demographicRaceTwoOrMoreRaces", "demographic_race_two_or_more_races", f.boolean),
        Field("hispanicOrLatinoEthnicity", "hispanic_or_latino_ethnicity", f.boolean),
        Field("countryOfBirthCode", "country_of_birth_code"),
        Field("stateOfBirthAbbreviation", "state_of_birth_abbreviation"),
        Field("cityOfBirth", "city_of_birth"),
        Field("publicSchoolResidenceStatus", "public_school_residence_status"),
        guid_type="demographics",
    ),
    _entity(
        Category, "categories.csv", "gradebook categories",
        Field("title", "title", required=True),
        Field("weight", "weight", f.decimal, versions=V12),
    ),
    _entity(
        Resource, "resources.csv", "learning resources",
        Field("vendorResourceId", "vendor_resource_id", required=True),
        Field("title", "title"),
        Field("roles", "roles", f.list_of(_USER_ROLE)),
        Field("importance", "importance", _enum(*IMPORTANCES)),
        Field("vendorId", "vendor_id"),
        Field("applicationId", "application_id"),
    ),
    _entity(
        LineItem, "lineItems.csv", "gradebook columns (assignments)",
        Field("title", "title", required=True),
        Field("description", "description"),
        Field("assignDate", "assign_date", f.datetime, required=True),
        Field("dueDate", "due_date", f.datetime, required=True),
        Field("classSourcedId", "class_sourced_id", f.ident, required=True, to="classes"),
        Field("categorySourcedId", "category_sourced_id", f.ident, required=V11, to="categories"),
        Field("gradingPeriodSourcedId", "grading_period_sourced_id", f.ident, required=V11, versions=V11,
              to="academic_sessions"),
        Field("academicSessionSourcedId", "grading_period_sourced_id", f.ident, versions=V12,
              to="academic_sessions"),
        Field("resultValueMin", "result_value_min", f.decimal, required=True),
        Field("resultValueMax", "result_value_max", f.decimal, required=True),
        Field("schoolSourcedId", "school_sourced_id", f.ident, versions=V12, to="orgs"),
    ),
    _entity(
        Result, "results.csv", "gradebook scores",
        Field("lineItemSourcedId", "line_item_sourced_id", f.ident, required=True, to="line_items"),
        Field("studentSourcedId", "student_sourced_id", f.ident, required=True, to="users"),
        Field("scoreStatus", "score_status", _enum(*SCORE_STATUSES), required=True),
        Field("score", "score", f.decimal, required=V11),
        Field("scoreDate", "score_date", f.date, required=V11),
        Field("comment", "comment"),
        Field("textScore", "text_score", versions=V12),
        Field("classSourcedId", "class_sourced_id", f.ident, versions=V12, to="classes"),
    ),
    _entity(
        ClassResource, "classResources.csv", "resources assigned to classes",
        Field("title", "title"),
        Field("classSourcedId", "class_sourced_id", f.ident, required=True, to="classes"),
        Field("resourceSourcedId", "resource_sourced_id", f.ident, required=True, to="resources"),
    ),
    _entity(
        CourseResource, "courseResources.csv", "resources assigned to courses",
        Field("title", "title"),
        Field("courseSourcedId", "course_sourced_id", f.ident, required=True, to="courses"),
        Field("resourceSourcedId", "resource_sourced_id", f.ident, required=True, to="resources"),
    ),
)

#: canonical entity name -> its entry
TABLE: dict[str, Entity] = {e.name: e for e in ENTITIES}


def files(version: str) -> dict[str, str]:
    """CSV file name -> canonical entity for ``version``, in reading (dependency) order."""
    return {e.file: e.name for e in ENTITIES if version in e.versions}
