"""The OneRoster field table: every file and field of the OneRoster 1.1 and 1.2 bindings, declared once.

The CSV mappers (:mod:`~rostersync.formats.oneroster_csv` for 1.1, :mod:`~rostersync.formats.oneroster12_csv`
for 1.2), the REST JSON mapper (:mod:`~rostersync.formats.oneroster_json`), the bundle reader's file list
and ``rostersync export`` all derive their columns from :data:`TABLE`, so a field added, renamed or made
optional here changes every binding at once, and the bindings cannot drift apart.

The loopback OneRoster server (:mod:`rostersync.testing.oneroster_server.fields`) derives the JSON
objects it serves from the same table, so what rostersync reads and what its simulator sends are one list.

Per entity (in dependency order, which is also the order a bundle is read in): the canonical record type,
the CSV file, the versions that have it, the REST object type (its GUIDRef ``type``), the REST service
that serves its objects, what the file holds (for messages) and, where the REST binding orders the
properties otherwise than the CSV columns, their REST order. Per field, in the spec's column order: the
CSV header, the canonical attribute (the header in snake_case unless the field names another), the
parser, which versions have the field and which require a value when it is read, the entity a reference
points at, and how REST JSON carries it: its key where that differs from the CSV header (per version
where they differ), which versions' REST binding requires it (a server must send it; rostersync does not
refuse an object without it unless it also requires it when reading), and its type on the wire, derived
from the parser and the version (a reference is a GUIDRef, a list of references a GUIDRef list, a
boolean is a JSON boolean in 1.1 and a ``"true"``/``"false"`` string in 1.2), declared where a field
differs (1.1 types ``periods`` as one string). Every entity starts with sourcedId, status and
dateLastModified.

Where the bindings really differ it says so here: 1.2 accepts ``ext:`` values in some enumerations,
1.2 CSV moved users' role and orgs to roles.csv (and 1.2 JSON to ``roles[]``, the JSON key of users' orgs
in 1.2), 1.2 JSON spells the preferred names ``preferredFirstName``/``preferredLastName``, lineItems'
grading period is ``academicSessionSourcedId`` in 1.2.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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

#: How REST JSON carries a value, as the mapper reads it (its ``shape``): text (a string, number or boolean,
#: read by the field's parser), a GUIDRef (``{"sourcedId": ...}``), a list of GUIDRefs, a list of strings, or
#: a list of ``{type, identifier}`` objects.
TEXT, REF, REFS, LIST, USER_IDS = "text", "ref", "refs", "list", "user_ids"
#: The finer types a spec-exact server sends (a field's ``json_type`` in one version; the shapes above too):
#: a number, a date, a date-time, a JSON boolean, the strings ``"true"``/``"false"``, a list sent as one
#: comma-separated string, and 1.2 users' ``roles[]`` (role and org objects).
NUMBER, DATE, DATETIME, BOOL, BOOL_TEXT, JOINED, ROLES = (
    "number", "date", "datetime", "bool", "bool_text", "joined", "roles")
#: The REST services (1.1 mounts all three on one path, 1.2 each on its own).
ROSTERING, GRADEBOOK, RESOURCES = "rostering", "gradebook", "resources"

def snake(name: str) -> str:
    """``givenName`` -> ``given_name``: the canonical attribute of a OneRoster field, unless it says otherwise."""
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def _known(found: Iterable[str]) -> None:
    if not set(found) <= set(VERSIONS):
        raise ValueError(f"unknown OneRoster version(s) {sorted(set(found) - set(VERSIONS))}")


def _versions(value: bool | str | Iterable[str]) -> frozenset[str]:
    """``True``: every version; ``False``: none; ``"1.1"``: that one; or an iterable of versions."""
    if value is True or value is False:
        return frozenset(VERSIONS if value else ())
    found = frozenset((value,) if isinstance(value, str) else value)
    _known(found)
    return found


def _per_version(value: str | Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    """One value for every version (a string), or a version -> value mapping, as (version, value) pairs
    (hashable, as a frozen field must be); None: no value."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple((v, value) for v in VERSIONS)
    _known(value)
    return tuple(sorted(value.items()))


#: The type a spec-exact server gives a parser's values, per version, where it is not the field's shape.
_TYPED: dict[f.Parser, dict[str, str]] = {
    f.decimal: {V11: NUMBER, V12: NUMBER},
    f.date: {V11: DATE, V12: DATE},
    f.datetime: {V11: DATETIME, V12: DATETIME},
    f.boolean: {V11: BOOL, V12: BOOL_TEXT},  # 1.2's OpenAPI types every boolean as the enum "true"/"false"
}


@attrs.frozen
class Field:
    """One field of one OneRoster entity.

    ``attr``: the canonical attribute, by default the header in snake_case (the model's naming rule);
    None for a field rostersync reads past and never stores (``password``). ``parse_12``: 1.2's parser
    where 1.2 accepts more (``ext:`` enumeration values). ``versions``: the versions whose CSV file and
    JSON object have the field; ``required``: those whose readers require a value (a row without one is
    refused). ``to``: the entity a reference points at. ``json``: the REST key where it is not the CSV
    header (a string, or a version -> key mapping where the versions differ); ``json_versions``: the
    versions whose JSON carries the field; ``json_alternates``: keys some servers send instead.
    ``json_required``: the versions whose REST binding requires the property, which a server must send
    (by default those that require a value when read; it differs both ways: an org must have an
    ``identifier`` over REST but rostersync reads orgs without one, and 1.2 makes ``classType`` optional).
    ``json_types``: the wire type in the versions where the parser does not say it (``{V11: JOINED}``).
    """

    name: str
    parse: f.Parser = f.text
    required: frozenset[str] = attrs.field(default=False, converter=_versions)
    versions: frozenset[str] = attrs.field(default=True, converter=_versions)
    parse_12: f.Parser | None = None
    to: str | None = None
    json: tuple[tuple[str, str], ...] = attrs.field(default=None, converter=_per_version)
    json_versions: frozenset[str] = attrs.field(default=True, converter=_versions)
    json_alternates: tuple[str, ...] = ()
    attr: str | None = attrs.field(kw_only=True, default=attrs.Factory(lambda self: snake(self.name), takes_self=True))
    json_required: frozenset[str] = attrs.field(
        kw_only=True, converter=_versions, default=attrs.Factory(lambda self: self.required, takes_self=True))
    json_types: tuple[tuple[str, str], ...] = attrs.field(kw_only=True, default=None, converter=_per_version)

    def parser(self, version: str) -> f.Parser:
        return self.parse_12 if version == V12 and self.parse_12 is not None else self.parse

    @property
    def shape(self) -> str:
        """How REST JSON carries the field, from its parser: references are GUIDRefs, lists are arrays."""
        if self.parse is f.user_ids:
            return USER_IDS
        if self.parse is f.id_list or isinstance(self.parse, f.ListOf):
            return REFS if self.to else LIST
        return REF if self.to else TEXT

    def json_key(self, version: str) -> str | None:
        """The REST key of this field in ``version``, or None when that version's JSON does not carry it."""
        if version not in self.versions or version not in self.json_versions:
            return None
        return dict(self.json).get(version, self.name)

    def json_type(self, version: str) -> str:
        """How a spec-exact server types this field's value in ``version``: declared, else by parser and
        version (:data:`NUMBER`, :data:`BOOL`...), else the shape."""
        declared = dict(self.json_types).get(version)
        if declared is not None:
            return declared
        typed = _TYPED.get(self.parse)
        return typed[version] if typed is not None else self.shape


@attrs.frozen
class Entity:
    """One OneRoster entity: its record type, CSV file, versions, REST GUIDRef ``type`` (None: nothing
    refers to it by GUIDRef) and what its file holds; ``fields`` in spec order, the common three first.
    ``service``: the REST service serving its objects (None: served only inside another's, as 1.2 roles
    are inside users, or not at all). ``json_order``: the REST order of its properties after the common
    three, every version's keys in one sequence (each version's order is the part it has), where it is
    not the CSV column order; checked when the table is built."""

    record_type: type[Record]
    file: str
    versions: frozenset[str] = attrs.field(converter=_versions)
    guid_type: str | None
    purpose: str
    fields: tuple[Field, ...]
    service: str | None = attrs.field(default=None, kw_only=True)
    json_order: tuple[str, ...] = attrs.field(default=(), kw_only=True)

    def __attrs_post_init__(self) -> None:
        if not self.json_order:
            return
        keys = {fd.json_key(v) for fd in self.fields[len(COMMON):] for v in VERSIONS} - {None}
        if sorted(self.json_order) != sorted(keys):
            raise ValueError(f"{self.file}: json_order {list(self.json_order)} is not its REST keys "
                             f"{sorted(keys)}, each once")

    @property
    def name(self) -> str:
        return self.record_type.entity

    def csv_fields(self, version: str) -> tuple[Field, ...]:
        """The columns of this entity's CSV file in ``version``, in spec order (``password`` too)."""
        return tuple(fd for fd in self.fields if version in fd.versions)

    def json_fields(self, version: str) -> tuple[Field, ...]:
        """The fields ``version``'s REST JSON object carries, in REST order (the common three first)."""
        carried = [fd for fd in self.fields if fd.json_key(version) is not None]
        if not self.json_order:
            return tuple(carried)
        common, own = carried[:len(COMMON)], carried[len(COMMON):]
        return (*common, *sorted(own, key=lambda fd: self.json_order.index(fd.json_key(version))))

    def field(self, attr: str) -> Field:
        return next(fd for fd in self.fields if fd.attr == attr)


#: A bulk CSV row may leave status and dateLastModified blank; every REST object has them.
COMMON = (
    Field("sourcedId", f.ident, required=True),
    Field("status", f.one_of(*STATUSES), json_required=True),
    Field("dateLastModified", f.datetime, json_required=True),
)


def _entity(record_type: type[Record], file: str, purpose: str, *fields: Field, versions: bool | str = True,
            guid_type: str | None = None, service: str | None = None, json_order: str = "") -> Entity:
    """``json_order``: the REST keys in order, separated by spaces."""
    return Entity(record_type, file, versions, guid_type, purpose, (*COMMON, *fields), service=service,
                  json_order=tuple(json_order.split()))


_USER_ROLE, _USER_ROLE_12 = f.one_of(*USER_ROLES), f.one_of_ext(*USER_ROLES)

#: Every OneRoster entity rostersync reads, in dependency order (1.2's roles.csv before users.csv, which
#: needs it; userProfiles.csv after).
ENTITIES: tuple[Entity, ...] = (
    _entity(
        Org, "orgs.csv", "the district and its schools (courses, classes, users and enrollments refer to them)",
        Field("name", required=True),
        Field("type", f.one_of(*ORG_TYPES), required=True, parse_12=f.one_of_ext(*ORG_TYPES)),
        Field("identifier", json_required=True),
        Field("parentSourcedId", f.ident, to="orgs", json="parent"),
        guid_type="org", service=ROSTERING,
    ),
    _entity(
        AcademicSession, "academicSessions.csv", "school years, terms and grading periods (classes refer to them)",
        Field("title", required=True),
        Field("type", f.one_of(*SESSION_TYPES), required=True, parse_12=f.one_of_ext(*SESSION_TYPES)),
        Field("startDate", f.date, required=True),
        Field("endDate", f.date, required=True),
        Field("parentSourcedId", f.ident, to="academic_sessions", json="parent"),
        Field("schoolYear", required=True),
        guid_type="academicSession", service=ROSTERING, json_order="title startDate endDate type parent schoolYear",
    ),
    _entity(
        Course, "courses.csv", "courses (every class belongs to one)",
        Field("schoolYearSourcedId", f.ident, to="academic_sessions", json="schoolYear"),
        Field("title", required=True),
        Field("courseCode", json_required=True),
        Field("grades", f.id_list),
        Field("orgSourcedId", f.ident, required=True, to="orgs", json="org", json_required=False),
        Field("subjects", f.id_list),
        Field("subjectCodes", f.id_list),
        guid_type="course", service=ROSTERING,
        json_order="title schoolYear courseCode grades subjects org subjectCodes",
    ),
    _entity(
        Class, "classes.csv", "classes/sections (enrollments refer to them)",
        Field("title", required=True),
        Field("grades", f.id_list),
        Field("courseSourcedId", f.ident, required=True, to="courses", json="course"),
        Field("classCode"),
        Field("classType", f.one_of(*CLASS_TYPES), required=True, parse_12=f.one_of_ext(*CLASS_TYPES),
              json_required=False),
        Field("location"),
        Field("schoolSourcedId", f.ident, required=True, to="orgs", json="school"),
        Field("termSourcedIds", f.id_list, required=True, to="academic_sessions", json="terms"),
        Field("subjects", f.id_list),
        Field("subjectCodes", f.id_list),
        Field("periods", f.id_list, json_types={V11: JOINED}),  # 1.1 types periods as one string
        guid_type="class", service=ROSTERING,
        json_order="title classCode classType location grades subjects course school terms subjectCodes periods",
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
        Field("enabledUser", f.boolean, required=True, json_required=V12),
        # 1.2 CSV has these in roles.csv (a users.csv may still carry them), 1.2 JSON in roles[]
        Field("orgSourcedIds", f.id_list, required=True, to="orgs", json={V11: "orgs", V12: "roles"},
              json_types={V12: ROLES}),
        Field("role", _USER_ROLE, required=True, parse_12=_USER_ROLE_12, json_versions=V11),
        Field("username", required=True, json_required=V11),
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
        guid_type="user", service=ROSTERING,
        json_order="userMasterIdentifier username userIds enabledUser givenName familyName middleName "
                   "preferredFirstName preferredMiddleName preferredLastName pronouns role roles primaryOrg "
                   "identifier email sms phone agents orgs grades",
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
        guid_type="enrollment", service=ROSTERING,
        json_order="user class school role primary beginDate endDate",
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
        guid_type="demographics", service=ROSTERING,
    ),
    _entity(
        Category, "categories.csv", "gradebook categories",
        Field("title", required=True),
        Field("weight", f.decimal, versions=V12),
        guid_type="category", service=GRADEBOOK,
    ),
    _entity(
        Resource, "resources.csv", "learning resources",
        Field("vendorResourceId", required=True),
        Field("title"),
        Field("roles", f.list_of(_USER_ROLE)),
        Field("importance", f.one_of(*IMPORTANCES)),
        Field("vendorId"),
        Field("applicationId"),
        guid_type="resource", service=RESOURCES,
        json_order="title roles importance vendorResourceId vendorId applicationId",
    ),
    _entity(
        LineItem, "lineItems.csv", "gradebook columns (assignments)",
        Field("title", required=True),
        Field("description"),
        Field("assignDate", f.datetime, required=True),
        Field("dueDate", f.datetime, required=True),
        Field("classSourcedId", f.ident, required=True, to="classes", json="class"),
        Field("categorySourcedId", f.ident, required=V11, to="categories", json="category", json_required=True),
        Field("gradingPeriodSourcedId", f.ident, required=V11, versions=V11, to="academic_sessions",
              json="gradingPeriod", json_required=False),
        Field("academicSessionSourcedId", f.ident, attr="grading_period_sourced_id", versions=V12,
              to="academic_sessions", json="academicSession"),
        Field("resultValueMin", f.decimal, required=True, json_required=V11),
        Field("resultValueMax", f.decimal, required=True, json_required=False),
        Field("schoolSourcedId", f.ident, versions=V12, to="orgs", json="school", json_required=True),
        guid_type="lineItem", service=GRADEBOOK,
        json_order="title description assignDate dueDate class school category gradingPeriod academicSession "
                   "resultValueMin resultValueMax",
    ),
    _entity(
        Result, "results.csv", "gradebook scores",
        Field("lineItemSourcedId", f.ident, required=True, to="line_items", json="lineItem"),
        Field("studentSourcedId", f.ident, required=True, to="users", json="student"),
        Field("scoreStatus", f.one_of(*SCORE_STATUSES), required=True),
        Field("score", f.decimal, required=V11),
        Field("scoreDate", f.date, required=V11, json_required=True),
        Field("comment"),
        Field("textScore", versions=V12),
        Field("classSourcedId", f.ident, versions=V12, to="classes", json="class"),
        guid_type="result", service=GRADEBOOK,
        json_order="lineItem student class scoreStatus score textScore scoreDate comment",
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
