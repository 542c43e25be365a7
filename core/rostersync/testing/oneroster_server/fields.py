"""The JSON fields the loopback server serves, per entity and OneRoster version: the one place listing them.

Each :class:`Field` names its JSON key, the CSV column it is read from, how the binding types it, and
whether the binding requires it. Derived from the 1.2 OpenAPI components (rostering, gradebook,
resources) and the derived 1.1 description in ``tests/data/openapi``; where 1.1 and 1.2 differ the
field is listed per version (``enabledUser`` is a JSON boolean in 1.1 and a ``"true"``/``"false"``
string in 1.2; 1.1 ``periods`` is a single string, 1.2 an array; 1.2 users carry ``roles[]``).

When ``formats/oneroster_fields.py`` (the project-wide OneRoster field table) lands, this table should
be derived from it; until then nothing else reads it but the server and its tests.
"""

from __future__ import annotations

import attrs

#: How a value is typed on the wire.
TEXT, BOOL, NUMBER, DATE, DATETIME, LIST, REF, REFS, USER_IDS, ROLES, PERIODS = (
    "text", "bool", "number", "date", "datetime", "list", "ref", "refs", "user_ids", "roles", "periods")

#: GUIDRef ``type`` -> (service, collection path) its ``href`` points into.
REF_TARGETS = {
    "org": ("rostering", "orgs"), "user": ("rostering", "users"), "class": ("rostering", "classes"),
    "course": ("rostering", "courses"), "academicSession": ("rostering", "academicSessions"),
    "category": ("gradebook", "categories"), "lineItem": ("gradebook", "lineItems"),
    "resource": ("resources", "resources"),
}


@attrs.frozen
class Field:
    key: str
    columns: tuple[str, ...]  # CSV columns it is read from, the first one found wins
    kind: str = TEXT
    required: bool = False
    ref: str = ""  # GUIDRef type for REF/REFS
    #: when the bundle leaves it blank: (entity, column naming its id, key there), e.g. a 1.1 line item's
    #: school (1.2 requires one) is its class's school
    derive: tuple[str, str, str] | None = None

    @property
    def column(self) -> str:
        return self.columns[0]


def _f(key: str, kind: str = TEXT, *, column: str | tuple[str, ...] = "", required: bool = False,
       ref: str = "", derive: tuple[str, str, str] | None = None) -> Field:
    columns = (column,) if isinstance(column, str) and column else tuple(column) or (key,)
    return Field(key, columns, kind, required, ref, derive)


COMMON = (_f("sourcedId", required=True), _f("status", required=True), _f("dateLastModified", DATETIME, required=True))

_RACES = ("americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander",
          "white", "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity")

_USER_CONTACT = (_f("identifier"), _f("email"), _f("sms"), _f("phone"),
                 _f("agents", REFS, column="agentSourcedIds", ref="user"), _f("grades", LIST))

_SHARED: dict[str, tuple[Field, ...]] = {
    "orgs": (
        _f("name", required=True), _f("type", required=True), _f("identifier", required=True),
        _f("parent", REF, column="parentSourcedId", ref="org"),
    ),
    "academic_sessions": (
        _f("title", required=True), _f("startDate", DATE, required=True), _f("endDate", DATE, required=True),
        _f("type", required=True), _f("parent", REF, column="parentSourcedId", ref="academicSession"),
        _f("schoolYear", required=True),
    ),
    "courses": (
        _f("title", required=True), _f("schoolYear", REF, column="schoolYearSourcedId", ref="academicSession"),
        _f("courseCode", required=True), _f("grades", LIST), _f("subjects", LIST),
        _f("org", REF, column="orgSourcedId", ref="org"), _f("subjectCodes", LIST),
    ),
    "classes": (
        _f("title", required=True), _f("classCode"), _f("classType"), _f("location"), _f("grades", LIST),
        _f("subjects", LIST), _f("course", REF, column="courseSourcedId", required=True, ref="course"),
        _f("school", REF, column="schoolSourcedId", required=True, ref="org"),
        _f("terms", REFS, column="termSourcedIds", required=True, ref="academicSession"),
        _f("subjectCodes", LIST), _f("periods", PERIODS),
    ),
    "enrollments": (
        _f("user", REF, column="userSourcedId", required=True, ref="user"),
        _f("class", REF, column="classSourcedId", required=True, ref="class"),
        _f("school", REF, column="schoolSourcedId", required=True, ref="org"),
        _f("role", required=True), _f("primary", BOOL), _f("beginDate", DATE), _f("endDate", DATE),
    ),
    "demographics": (
        _f("birthDate", DATE), _f("sex"), *(_f(race, BOOL) for race in _RACES), _f("countryOfBirthCode"),
        _f("stateOfBirthAbbreviation"), _f("cityOfBirth"), _f("publicSchoolResidenceStatus"),
    ),
    "resources": (
        _f("title"), _f("roles", LIST), _f("importance"), _f("vendorResourceId", required=True), _f("vendorId"),
        _f("applicationId"),
    ),
}

_BY_VERSION: dict[str, dict[str, tuple[Field, ...]]] = {
    "1.1": {
        "users": (
            _f("username", required=True), _f("userIds", USER_IDS), _f("enabledUser", BOOL),
            _f("givenName", required=True), _f("familyName", required=True), _f("middleName"),
            _f("role", required=True), *_USER_CONTACT,
            _f("orgs", REFS, column="orgSourcedIds", required=True, ref="org"),
        ),
        "categories": (_f("title", required=True),),
        "line_items": (
            _f("title", required=True), _f("description"), _f("assignDate", DATETIME, required=True),
            _f("dueDate", DATETIME, required=True),
            _f("class", REF, column="classSourcedId", required=True, ref="class"),
            _f("category", REF, column="categorySourcedId", required=True, ref="category"),
            _f("gradingPeriod", REF, column=("gradingPeriodSourcedId", "academicSessionSourcedId"),
               ref="academicSession"),
            _f("resultValueMin", NUMBER, required=True), _f("resultValueMax", NUMBER),
        ),
        "results": (
            _f("lineItem", REF, column="lineItemSourcedId", required=True, ref="lineItem"),
            _f("student", REF, column="studentSourcedId", required=True, ref="user"),
            _f("scoreStatus", required=True), _f("score", NUMBER, required=True), _f("scoreDate", DATE, required=True),
            _f("comment"),
        ),
    },
    "1.2": {
        "users": (
            _f("userMasterIdentifier"), _f("username"), _f("userIds", USER_IDS), _f("enabledUser", BOOL, required=True),
            _f("givenName", required=True), _f("familyName", required=True), _f("middleName"),
            _f("preferredFirstName", column="preferredGivenName"), _f("preferredMiddleName"),
            _f("preferredLastName", column="preferredFamilyName"), _f("pronouns"),
            _f("roles", ROLES, column="orgSourcedIds", required=True),
            _f("primaryOrg", REF, column="primaryOrgSourcedId", ref="org"), *_USER_CONTACT,
        ),
        "categories": (_f("title", required=True), _f("weight", NUMBER)),
        "line_items": (
            _f("title", required=True), _f("description"), _f("assignDate", DATETIME, required=True),
            _f("dueDate", DATETIME, required=True),
            _f("class", REF, column="classSourcedId", required=True, ref="class"),
            _f("school", REF, column="schoolSourcedId", required=True, ref="org",
               derive=("classes", "classSourcedId", "school")),
            _f("category", REF, column="categorySourcedId", required=True, ref="category"),
            _f("academicSession", REF, column=("academicSessionSourcedId", "gradingPeriodSourcedId"),
               ref="academicSession"),
            _f("resultValueMin", NUMBER), _f("resultValueMax", NUMBER),
        ),
        "results": (
            _f("lineItem", REF, column="lineItemSourcedId", required=True, ref="lineItem"),
            _f("student", REF, column="studentSourcedId", required=True, ref="user"),
            _f("class", REF, column="classSourcedId", ref="class"), _f("scoreStatus", required=True),
            _f("score", NUMBER), _f("textScore"), _f("scoreDate", DATE, required=True), _f("comment"),
        ),
    },
}

#: Entities read from the bundle only to answer nested endpoints (never served as objects).
LINKS = {"class_resources": ("classSourcedId", "resourceSourcedId"),
         "course_resources": ("courseSourcedId", "resourceSourcedId")}


def fields(entity: str, version: str) -> tuple[Field, ...]:
    """Every field of ``entity`` in ``version``, ``sourcedId``/``status``/``dateLastModified`` first."""
    own = _BY_VERSION[version].get(entity) or _SHARED.get(entity)
    if own is None:
        raise KeyError(f"the simulator serves no {entity}")
    return (*COMMON, *own)


def served(version: str) -> tuple[str, ...]:
    """The entities the server can serve as objects in ``version``."""
    return (*_SHARED, *_BY_VERSION[version])


#: ``metadata``: not a typed field, but filters may reach into it (``metadata.bus='4'``)
METADATA = Field("metadata", ("",), "metadata")


def by_key(entity: str, version: str) -> dict[str, Field]:
    """The fields of ``entity`` by JSON key, ``metadata`` included: what filter, sort and fields may name."""
    return {**{f.key: f for f in fields(entity, version)}, "metadata": METADATA}
