"""The simulator's ``filter`` grammar: each operator, AND/OR, quoted values, dotted paths, typed
comparison (date-times, dates, numbers, booleans), and invalid filters answered with the spec's error."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from openapi_check import validate
from rostersync.testing.oneroster_server.errors import ApiError
from rostersync.testing.oneroster_server.fields import by_key
from rostersync.testing.oneroster_server.filters import compile_filter
from rostersync.testing.simulator import Simulator
from synthetic import write_full_district

USERS = by_key("users", "1.1")
PEOPLE = [
    {"sourcedId": "a", "givenName": "Ann", "familyName": "O'Brien", "enabledUser": True, "grades": ["09", "10"],
     "dateLastModified": "2026-09-01T10:00:00.000Z", "orgs": [{"sourcedId": "s1"}], "metadata": {"bus": "4"}},
    {"sourcedId": "b", "givenName": "Bob", "familyName": "Brown", "enabledUser": False, "grades": ["11"],
     "dateLastModified": "2026-09-02T10:00:00+02:00", "orgs": [{"sourcedId": "s2"}, {"sourcedId": "s1"}]},
    {"sourcedId": "c", "givenName": "Cy", "familyName": "Brownlee", "dateLastModified": "2026-09-03T00:00:00Z"},
]


def pick(expression: str) -> list[str]:
    keep = compile_filter(expression, USERS)
    return [p["sourcedId"] for p in PEOPLE if keep(p)]


@pytest.mark.parametrize(("expression", "expected"), [
    ("givenName='Bob'", ["b"]),
    ("givenName!='Bob'", ["a", "c"]),
    ("familyName~'brown'", ["b", "c"]),  # contains, any case
    ("givenName>'Ann'", ["b", "c"]),
    ("givenName>='Bob'", ["b", "c"]),
    ("givenName<'Bob'", ["a"]),
    ("givenName<='Bob'", ["a", "b"]),
    ("familyName='O''Brien'", ["a"]),  # a quote inside a value is doubled
    ("givenName='Bob' OR givenName='Cy'", ["b", "c"]),
    ("familyName~'Brown' AND givenName!='Cy'", ["b"]),
    ("familyName='x AND y' OR givenName='Ann'", ["a"]),  # AND inside quotes is part of the value
    ("dateLastModified>'2026-09-02T09:00:00Z'", ["c"]),  # b is 08:00 UTC: compared as instants
    ("dateLastModified>='2026-09-02T08:00:00Z'", ["b", "c"]),
    ("dateLastModified<'2026-09-02'", ["a"]),  # a bare date is midnight UTC
    ("enabledUser='true'", ["a"]),  # a JSON boolean compares as true/false
    ("enabledUser='false'", ["b"]),  # c has no enabledUser: never matches, not even !=
    ("enabledUser!='true'", ["b"]),
    ("grades='10'", ["a"]),  # a list matches when any item does
    ("orgs.sourcedId='s1'", ["a", "b"]),  # dotted path through a list of GUIDRefs
    ("metadata.bus='4'", ["a"]),
])
def test_each_operator_and_logical_joins(expression: str, expected: list[str]) -> None:
    assert pick(expression) == expected


@pytest.mark.parametrize(("expression", "status", "minor"), [
    ("nickname='x'", 400, "invalid_filter_field"),
    ("givenName.first='x'", 400, "invalid_filter_field"),  # a text field has no parts
    ("givenName=Bob", 400, "invalid_filter_field"),  # values are quoted
    ("givenName=\"Bob\"", 400, "invalid_filter_field"),
    ("givenName=='Bob'", 400, "invalid_filter_field"),
    ("givenName='Bob' and familyName='x'", 400, "invalid_filter_field"),  # logical operators are upper case
    ("givenName='a' AND givenName='b' AND givenName='c'", 400, "invalid_filter_field"),  # at most two clauses
    ("givenName='a' AND", 400, "invalid_filter_field"),
    ("dateLastModified>'last tuesday'", 422, "invaliddata"),
])
def test_invalid_filters_are_refused(expression: str, status: int, minor: str) -> None:
    with pytest.raises(ApiError) as refused:
        pick(expression)
    assert (refused.value.status, refused.value.minor) == (status, minor)


@pytest.fixture(scope="module", params=["1.1", "1.2"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    district = write_full_district(tmp_path_factory.mktemp("filters") / "district", 40)
    with Simulator(district, version=request.param) as sim:
        yield sim


def get(sim: Simulator, path: str, service: str = "rostering", **params: str) -> httpx.Response:
    token = httpx.post(sim.token_url, data={"grant_type": "client_credentials"},
                       auth=(sim.client_id, sim.client_secret)).json()["access_token"]
    answer = httpx.get(sim.service_url(service) + path, params=params, headers={"Authorization": f"Bearer {token}"})
    validate(sim, answer)
    return answer


@pytest.mark.parametrize(("path", "service", "expression", "count"), [
    ("/users", "rostering", "familyName~'Dent1' AND sourcedId~'stu'", 11),
    ("/users", "rostering", "givenName='T0' OR givenName='P0'", 2),
    ("/enrollments", "rostering", "class.sourcedId='cls-3' AND role='student'", 28),
    ("/academicSessions", "rostering", "type='gradingPeriod' OR type='term'", 3),
    ("/academicSessions", "rostering", "endDate<='2026-10-15'", 1),
    ("/academicSessions", "rostering", "dateLastModified<'2026-08-01T09:30:00.001Z'", 1),  # t1 carries its own
    ("/demographics", "rostering", "asian='true'", 6),
    ("/results", "gradebook", "score>='99'", 6),  # 99 and 99.5, as numbers
    ("/results", "gradebook", "score<'51'", 4),
    ("/lineItems", "gradebook", "dueDate>'2026-09-08T12:00:00-05:00'", 20),
    ("/resources", "resources", "roles='teacher'", 1),
])
def test_filters_over_http_select_and_validate(served: Simulator, path: str, service: str, expression: str,
                                               count: int) -> None:
    answer = get(served, path, service, filter=expression, limit="1000")
    assert answer.status_code == 200, answer.text
    assert int(answer.headers["X-Total-Count"]) == count
    if path == "/users" and served.version == "1.2":  # 1.2 users filter on their roles
        teachers = get(served, path, filter="roles.role='teacher' AND roles.org.sourcedId='sch-0'")
        assert int(teachers.headers["X-Total-Count"]) == 1


def test_an_invalid_filter_field_is_the_specs_error(served: Simulator) -> None:
    answer = get(served, "/users", filter="nickname='x'")
    assert answer.status_code == 400
    info = answer.json()["statusInfoSet"][0] if served.version == "1.1" else answer.json()
    assert info["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "invalid_filter_field"
    assert "nickname" in info["imsx_description"]


def test_results_are_the_same_whichever_way_the_filter_is_encoded(served: Simulator) -> None:
    """``+`` or ``%20`` for spaces, ``%27`` or a bare quote: one filter."""
    token = httpx.post(served.token_url, data={"grant_type": "client_credentials"},
                       auth=(served.client_id, served.client_secret)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    urls = [f"{served.base_url}/users?filter=givenName%3D%27T0%27+OR+givenName%3D%27P0%27",
            f"{served.base_url}/users?filter=givenName='T0'%20OR%20givenName='P0'"]
    totals = {httpx.get(u, headers=headers).headers["X-Total-Count"] for u in urls}
    assert totals == {"2"}
