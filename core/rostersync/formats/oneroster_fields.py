"""The OneRoster field table: every file and field of the OneRoster 1.1 and 1.2 bindings, declared once.

The CSV mappers (:mod:`~rostersync.formats.oneroster_csv` for 1.1, :mod:`~rostersync.formats.oneroster12_csv`
for 1.2), the REST JSON mapper (:mod:`~rostersync.formats.oneroster_json`), the bundle reader's file list
and ``rostersync export`` all derive their columns from :data:`TABLE`, so a field added, renamed or made
optional here changes every binding at once, and the bindings cannot drift apart.

Per entity (in dependency order, which is also the order a bundle is read in): the canonical record type,
the CSV file, the versions that have it, the REST object type, and what the file holds (for messages).
Per field, in the spec's column order: the CSV header, the canonical attribute (the header in snake_case
unless the field names another), the parser, which versions have the field and which require a value,
the entity a reference points at, and how REST JSON carries it (its key where that differs from the CSV
header, and its shape, derived from the parser: a reference is a GUIDRef, a list of references a GUIDRef
list). Every entity starts with sourcedId, status and dateLastModified.

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

def snake(name: str) -> str:
    """``givenName`` -> ``given_name``: the canonical attribute of a OneRoster field, unless it says otherwise."""
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


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

    ``attr``: the canonical attribute, by default the header in snake_case (the model's naming rule);
    None for a field rostersync reads past and never stores (``password``). ``parse_12``: 1.2's parser
    where 1.2 accepts more (``ext:`` enumeration values). ``versions``: the versions whose CSV file and
    JSON object have the field; ``required``: those that require a value. ``to``: the entity a reference
    points at. ``json``: the REST key where it is not the CSV header; ``json_versions``: the versions
    whose JSON carries the field; ``json_alternates``: keys some servers send instead.
    """

    name: str
    parse: f.Parser = f.text
    required: frozenset[str] = attrs.field(default=False, converter=_versions)
    versions: frozenset[str] = attrs.field(default=True, converter=_versions)
    parse_12: f.Parser | None = None
    to: str | None = None
    json: str | None = None
    json_versions: frozenset[str] = attrs.field(default=True, converter=_versions)
    json_alternates: tuple[str, ...] = ()
    attr: str | None = attrs.field(kw_only=True, default=attrs.Factory(lambda self: snake(self.name), takes_self=True))

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
        if version not in self.versions or version not in self.json_versions:
            return None
        return self.json or self.name


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
    Field("sourcedId", f.ident, required=True),
    Field("status", f.one_of(*STATUSES)),
    Field("dateLastModified", f.datetime),
)


def _entity(record_type: type[Record], file: str, purpose: str, *fields: Field, versions: bool | str = True,
            guid_type: str | None = None) -> Entity:
    return Entity(record_type, file, versions, guid_type, purpose, (*COMMON, *fields))


_USER_ROLE, _USER_ROLE_12 = f.one_of(*USER_ROLES), f.one_of_ext(*USER_ROLES)

#: Every OneRoster entity rostersync reads, in dependency order (1.2's roles.csv before users.csv, which
#: needs it; userProfiles.csv after).
ENTITIES: tuple[Entity, ...] = (
    _entity(
        Org, "orgs.csv", "the district and its schools (courses, classes, users and enrollments refer to them)",
        Field("name", required=True),
        Field("type", f.one_of(*ORG_TYPES), required=True, parse_12=f.one_of_ext(*ORG_TYPES)),
        Field("identifier"),
        Field("parentSourcedId", f.ident, to="orgs", json="parent"),
        guid_type="org",
    ),
    _entity(
        AcademicSession, "academicSessions.csv", "school years, terms and grading periods (classes refer to them)",
        Field("title", required=True),
        Field("type", f.one_of(*SESSION_TYPES), required=True, parse_12=f.one_of_ext(*SESSION_TYPES)),
        Field("startDate", f.date, required=True),
        Field("endDate", f.date, required=True),
        Field("parentSourcedId", f.ident, to="academic_sessions", json="parent"),
        Field("schoolYear", required=True),
        guid_type="academicSession",
    ),
    _entity(
        Course, "courses.csv", "courses (every class belongs to one)",
        Field("schoolYearSourcedId", f.ident, to="academic_sessions", json="schoolYear"),
        Field("title", required=True),
        Field("courseCode"),
        Field("grades", f.id_list),
        Field("orgSourcedId", f.ident, required=True, to="orgs", json="org"),
        Field("subjects", f.id_list),
        Field("subjectCodes", f.id_list),
        guid_type="course",
    ),
    _entity(
        Class, "classes.csv", "classes/sections (enrollments refer to them)",
        Field("title", required=True),
        Field("grades", f.id_list),
        Field("courseSourcedId", f.ident, required=True, to="courses", json="course"),
        Field("classCode"),
        Field("classType", f.one_of(*CLASS_TYPES), required=True, parse_12=f.one_of_ext(*CLASS_TYPES)),
        Field("location"),
        Field("schoolSourcedId", f.ident, required=True, to="orgs", json="school"),
        Field("termSourcedIds", f.id_list, required=True, to="academic_sessions", json="terms"),
        Field("subjects", f.id_list),
        Field("subjectCodes", f.id_list),
        Field("periods", f.id_list),
        guid_type="class",
    ),
    _entity(
        Role, "roles.csv", "each user's role and schools (OneRoster 1.2 moved them out of users.csv)",
        Field("userSourcedId", f.ident, required=True, to="users"),
        Field("roleType", f.one_of(*ROLE_TYPES), required=True),
        Field("role", _USER_ROLE_12, required=True),
        Field("beginDate", f.date),
        Field("endDate", f.date),
        Field("orgSourcedId", f.ident, required=True, to="orgs"),
        Field("userProfileSourcedId", f.ident, to="user_profiles"),
        versions=V12,
    ),
    _entity(
        User, "users.csv", "students, teachers, guardians and administrators (enrollments refer to them)",
        Field("enabledUser", f.boolean, required=True),
        # 1.2 CSV has these in roles.csv (a users.csv may still carry them), 1.2 JSON in roles[]
        Field("orgSourcedIds", f.id_list, required=True, to="orgs", json="orgs", json_versions=V11),
        Field("role", _USER_ROLE, required=True, parse_12=_USER_ROLE_12, json_versions=V11),
        Field("username", required=True),
        Field("userIds", f.user_ids),
        Field("givenName", required=True),
        Field("familyName", required=True),
        Field("middleName"),
        Field("identifier"),
        Field("email"),
        Field("sms"),
        Field("phone"),
        Field("agentSourcedIds", f.id_list, to="users", json="agents"),
        Field("grades", f.id_list),
        Field("password", attr=None, json_versions=False),  # never stored, never served
        Field("userMasterIdentifier", versions=V12),
        Field("preferredGivenName", versions=V12, json="preferredFirstName", json_alternates=("preferredGivenName",)),
        Field("preferredMiddleName", versions=V12),
        Field("preferredFamilyName", versions=V12, json="preferredLastName", json_alternates=("preferredFamilyName",)),
        Field("primaryOrgSourcedId", f.ident, versions=V12, to="orgs", json="primaryOrg"),
        Field("pronouns", versions=V12),
        guid_type="user",
    ),
    _entity(
        UserProfile, "userProfiles.csv", "users' application accounts",
        Field("userSourcedId", f.ident, required=True, to="users"),
        Field("profileType", required=True),
        Field("vendorId", required=True),
        Field("applicationId"),
        Field("description"),
        Field("credentialType"),
        Field("username"),
        versions=V12,
    ),
    _entity(
        Enrollment, "enrollments.csv", "who is in which class, as student or teacher",
        Field("classSourcedId", f.ident, required=True, to="classes", json="class"),
        Field("schoolSourcedId", f.ident, required=True, to="orgs", json="school"),
        Field("userSourcedId", f.ident, required=True, to="users", json="user"),
        Field("role", f.one_of(*ENROLLMENT_ROLES), required=True, parse_12=f.one_of_ext(*ENROLLMENT_ROLES)),
        Field("primary", f.boolean),
        Field("beginDate", f.date),
        Field("endDate", f.date),
        guid_type="enrollment",
    ),
    _entity(
        Demographics, "demographics.csv",
        "birth dates, sex and race of users (imported only when demographics are enabled)",
        Field("birthDate", f.date),
        Field("sex", f.one_of("male", "female", "other", "unspecified")),
        Field("americanIndianOrAlaskaNative", f.boolean),
        Field("asian", f.boolean),
        Field("blackOrAfricanAmerican", f.boolean),
        Field("nativeHawaiianOrOtherPacificIslander", f.boolean),
        Field("white", f.boolean),
        Field("demographicRaceTwoOrMoreRaces", f.boolean),
        Field("hispanicOrLatinoEthnicity", f.boolean),
        Field("countryOfBirthCode"),
        Field("stateOfBirthAbbreviation"),
        Field("cityOfBirth"),
        Field("publicSchoolResidenceStatus"),
        guid_type="demographics",
    ),
    _entity(
        Category, "categories.csv", "gradebook categories",
        Field("title", required=True),
        Field("weight", f.decimal, versions=V12),
    ),
    _entity(
        Resource, "resources.csv", "learning resources",
        Field("vendorResourceId", required=True),
        Field("title"),
        Field("roles", f.list_of(_USER_ROLE)),
        Field("importance", f.one_of(*IMPORTANCES)),
        Field("vendorId"),
        Field("applicationId"),
    ),
    _entity(
        LineItem, "lineItems.csv", "gradebook columns (assignments)",
        Field("title", required=True),
        Field("description"),
        Field("assignDate", f.datetime, required=True),
        Field("dueDate", f.datetime, required=True),
        Field("classSourcedId", f.ident, required=True, to="classes"),
        Field("categorySourcedId", f.ident, required=V11, to="categories"),
        Field("gradingPeriodSourcedId", f.ident, required=V11, versions=V11, to="academic_sessions"),
        Field("academicSessionSourcedId", f.ident, attr="grading_period_sourced_id", versions=V12,
              to="academic_sessions"),
        Field("resultValueMin", f.decimal, required=True),
        Field("resultValueMax", f.decimal, required=True),
        Field("schoolSourcedId", f.ident, versions=V12, to="orgs"),
    ),
    _entity(
        Result, "results.csv", "gradebook scores",
        Field("lineItemSourcedId", f.ident, required=True, to="line_items"),
        Field("studentSourcedId", f.ident, required=True, to="users"),
        Field("scoreStatus", f.one_of(*SCORE_STATUSES), required=True),
        Field("score", f.decimal, required=V11),
        Field("scoreDate", f.date, required=V11),
        Field("comment"),
        Field("textScore", versions=V12),
        Field("classSourcedId", f.ident, versions=V12, to="classes"),
    ),
    _entity(
        ClassResource, "classResources.csv", "resources assigned to classes",
        Field("title"),
        Field("classSourcedId", f.ident, required=True, to="classes"),
        Field("resourceSourcedId", f.ident, required=True, to="resources"),
    ),
    _entity(
        CourseResource, "courseResources.csv", "resources assigned to courses",
        Field("title"),
        Field("courseSourcedId", f.ident, required=True, to="courses"),
        Field("resourceSourcedId", f.ident, required=True, to="resources"),
    ),
)

#: canonical entity name -> its entry
TABLE: dict[str, Entity] = {e.name: e for e in ENTITIES}


def files(version: str) -> dict[str, str]:
    """CSV file name -> canonical entity for ``version``, in reading (dependency) order."""
    return {e.file: e.name for e in ENTITIES if version in e.versions}
