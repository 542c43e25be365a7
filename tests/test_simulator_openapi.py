"""The loopback OneRoster server against 1EdTech's OpenAPI descriptions: every endpoint of 1.1 and 1.2.

A generated district holding every kind of object (tests/synthetic.py) is served in both versions;
a walk requests every collection page by page, every singleton of every object, and every nested
endpoint for every parent (every class's students, every term's classes...), and each answer is
validated with openapi-core (:mod:`openapi_check`). The nested answers must agree with the
collections (the students of a class are the users of its student enrollments...). Then paging,
sorting, filters and field selection, and every error status, validated the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_check import validate
from openapi_core.exceptions import OpenAPIError
from rostersync.testing.oneroster_server.routes import COLLECTION, NESTED, ROUTES, SINGLE, Route
from rostersync.testing.simulator import Behaviour, Simulator
from synthetic import write_full_district


class Client:
    """An httpx client with a bearer token that validates every answer it gets and counts them."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        token = httpx.post(sim.token_url, data={"grant_type": "client_credentials"},
                           auth=(sim.client_id, sim.client_secret)).json()["access_token"]
        self.http = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30)
        self.validated: Counter[int] = Counter()

    def get(self, path: str, service: str = "rostering", **params: Any) -> httpx.Response:
        response = self.http.get(self.sim.service_url(service) + path, params=params)
        validate(self.sim, response)
        self.validated[response.status_code] += 1
        return response

    def all(self, path: str, service: str = "rostering", limit: int = 7, **params: Any) -> list[dict[str, Any]]:
        """Every object of a collection, page by page (each page validated); checks X-Total-Count."""
        items: list[dict[str, Any]] = []
        while True:
            page = self.get(path, service, limit=limit, offset=len(items), **params)
            assert page.status_code == 200, page.text
            [rows] = page.json().values()
            items.extend(rows)
            if len(rows) < limit:
                break
        assert int(page.headers["X-Total-Count"]) == len(items)
        return items


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_full_district(tmp_path_factory.mktemp("openapi") / "district", 40)


@pytest.fixture(scope="module", params=["1.1", "1.2"])
def client(request: pytest.FixtureRequest, district: Path) -> Iterator[Client]:
    with Simulator(district, version=request.param) as sim:
        walker = Client(sim)
        yield walker
        walker.http.close()


def ids(objects: list[dict[str, Any]]) -> list[str]:
    return [o["sourcedId"] for o in objects]


def ref(obj: dict[str, Any], key: str) -> str:
    return obj[key]["sourcedId"]


def test_every_endpoint_of_both_versions_answers_as_the_openapi_says(client: Client) -> None:
    c = client
    collections = {r.name: c.all(f"/{r.name}", r.service) for r in ROUTES[c.sim.version] if r.kind == COLLECTION}
    assert all(collections[n] for n in ("orgs", "schools", "users", "students", "teachers", "classes", "terms",
                                        "gradingPeriods", "demographics", "lineItems", "results", "resources"))
    for route in (r for r in ROUTES[c.sim.version] if r.kind == SINGLE):
        for sourced_id in ids(collections[route.name]):
            answer = c.get(f"/{route.name}/{sourced_id}", route.service)
            assert answer.json() == {route.envelope: next(o for o in collections[route.name]
                                                          if o["sourcedId"] == sourced_id)}
        assert c.get(f"/{route.name}/no-such-id", route.service).status_code == 404
    nested = {r.name: r for r in ROUTES[c.sim.version] if r.kind == NESTED}
    seen = {name: _walk_nested(c, route, collections) for name, route in nested.items()}
    empty = [n for n, count in seen.items() if not count]
    assert empty == (["user.resources"] if c.sim.version == "1.2" else [])  # a bundle holds no user resources
    # 55 (1.1) or 57 (1.2) endpoints, every one answered and validated; a few thousand answers in all
    assert len(collections) + len(nested) + len(collections) == {"1.1": 55, "1.2": 57}[c.sim.version]
    assert c.validated[200] > 900 and c.validated[404] == len(collections)


def _parents(route: Route, collections: dict[str, list[dict[str, Any]]]) -> list[list[str]]:
    """Every id combination the nested ``route`` can be asked for."""
    params = [p for p in route.pattern if p.startswith("{")]
    if params == ["{schoolSourcedId}", "{classSourcedId}"]:
        return [[ref(cls, "school"), cls["sourcedId"]] for cls in collections["classes"]]
    if params == ["{classSourcedId}", "{lineItemSourcedId}"]:
        return [[ref(li, "class"), li["sourcedId"]] for li in collections["lineItems"]]
    if params == ["{classSourcedId}", "{studentSourcedId}"]:
        return [list(p) for p in sorted({(ref(e, "class"), ref(e, "user")) for e in collections["enrollments"]
                                         if e["role"] == "student"})]
    parent = {"{classSourcedId}": "classes", "{schoolSourcedId}": "schools", "{courseSourcedId}": "courses",
              "{termSourcedId}": "terms", "{studentSourcedId}": "students", "{teacherSourcedId}": "teachers",
              "{userSourcedId}": "users"}[params[0]]
    return [[i] for i in ids(collections[parent])]


def _walk_nested(c: Client, route: Route, collections: dict[str, list[dict[str, Any]]]) -> int:
    """Ask ``route`` for every parent; check it against the collections; the number of objects seen."""
    seen = 0
    for parent in _parents(route, collections):
        path = "/" + "/".join(parent.pop(0) if p.startswith("{") else p for p in route.pattern)
        got = ids(c.all(path, route.service, limit=25))
        assert got == _expected(route.name, path, collections), path
        seen += len(got)
    return seen


def _expected(name: str, path: str, col: dict[str, list[dict[str, Any]]]) -> list[str]:
    """What a nested endpoint must return, worked out from the collections alone."""
    parts = path.strip("/").split("/")
    enrollments = col["enrollments"]

    def users(class_id: str, role: str) -> list[str]:
        wanted = {ref(e, "user") for e in enrollments if ref(e, "class") == class_id and e["role"] == role}
        return [u for u in ids(col["users"]) if u in wanted]

    def of(collection: str, key: str, value: str) -> list[str]:
        return [o["sourcedId"] for o in col[collection]
                if value in ([r["sourcedId"] for r in o[key]] if isinstance(o.get(key), list) else [ref(o, key)])]

    def user_orgs(user: dict[str, Any]) -> set[str]:
        return {ref(r, "org") for r in user["roles"]} if "roles" in user else {r["sourcedId"] for r in user["orgs"]}

    line_items_of = {li["sourcedId"]: ref(li, "class") for li in col["lineItems"]}
    expected = {
        "class.students": lambda: users(parts[1], "student"),
        "class.teachers": lambda: users(parts[1], "teacher"),
        "school.class.students": lambda: users(parts[3], "student"),
        "school.class.teachers": lambda: users(parts[3], "teacher"),
        "school.class.enrollments": lambda: of("enrollments", "class", parts[3]),
        "course.classes": lambda: of("classes", "course", parts[1]),
        "school.classes": lambda: of("classes", "school", parts[1]),
        "school.courses": lambda: of("courses", "org", parts[1]),
        "school.enrollments": lambda: of("enrollments", "school", parts[1]),
        "school.students": lambda: [u["sourcedId"] for u in col["students"] if parts[1] in user_orgs(u)],
        "school.teachers": lambda: [u["sourcedId"] for u in col["teachers"] if parts[1] in user_orgs(u)],
        "school.terms": lambda: [t for t in ids(col["terms"])
                                 if set(of("classes", "terms", t)) & set(of("classes", "school", parts[1]))],
        "term.classes": lambda: of("classes", "terms", parts[1]),
        "term.gradingPeriods": lambda: of("gradingPeriods", "parent", parts[1]),
        "class.lineItems": lambda: of("lineItems", "class", parts[1]),
        "class.results": lambda: [r["sourcedId"] for r in col["results"]
                                  if line_items_of[ref(r, "lineItem")] == parts[1]],
        "class.lineItem.results": lambda: of("results", "lineItem", parts[3]),
        "class.student.results": lambda: [r["sourcedId"] for r in col["results"] if ref(r, "student") == parts[3]
                                          and line_items_of[ref(r, "lineItem")] == parts[1]],
        "class.categories": lambda: [k for k in ids(col["categories"])
                                     if k in {ref(li, "category") for li in col["lineItems"]
                                              if ref(li, "class") == parts[1]}],
        "class.resources": lambda: [f"rsc-{int(parts[1].removeprefix('cls-')) % 3 + 1}"],  # as generated
        "course.resources": lambda: ["rsc-1"],
        "user.resources": lambda: [],
    }
    if name in ("user.classes", "student.classes", "teacher.classes"):
        wanted = {ref(e, "class") for e in enrollments if ref(e, "user") == parts[1]}
        return [c for c in ids(col["classes"]) if c in wanted]
    return expected[name]()


@pytest.mark.parametrize(("path", "params", "count"), [
    ("/users", {"sort": "familyName", "orderBy": "desc"}, 82),
    ("/users", {"filter": "familyName~'dent1'", "sort": "sourcedId"}, 22),
    ("/enrollments", {"filter": "role='teacher' OR primary='true'"}, 10),
    ("/classes", {"filter": "school.sourcedId='sch-1' AND title~'Class'"}, 5),
    ("/academicSessions", {"filter": "dateLastModified<'2026-08-02T00:00:00Z'"}, 1),
    ("/academicSessions", {"filter": "startDate>='2026-10-01'", "fields": "sourcedId,title"}, 1),
    ("/users", {"fields": "sourcedId,givenName", "limit": "5", "offset": "80"}, 82),
    ("/orgs", {"sort": "name", "fields": "name"}, 3),
])
def test_paging_sorting_filters_and_fields_validate(client: Client, path: str, params: dict[str, str],
                                                     count: int) -> None:
    answer = client.get(path, **params)
    assert answer.status_code == 200, answer.text
    assert int(answer.headers["X-Total-Count"]) == count
    [rows] = answer.json().values()
    if "fields" in params:
        assert all(set(r) <= set(params["fields"].split(",")) for r in rows)
    if params.get("orderBy") == "desc":
        names = [r["familyName"] for r in rows]
        assert names == sorted(names, reverse=True)


def test_every_error_status_is_the_specs_imsx_payload(client: Client, district: Path) -> None:
    c, v = client, client.sim.version
    expected = [
        (c.get("/users", filter="nickname='x'"), 400, "invalid_filter_field"),
        (c.get("/users", filter="givenName='unclosed"), 400, "invalid_filter_field"),
        (c.get("/users", sort="nickname"), 400, "invalid_sort_field" if v == "1.1" else "invaliddata"),
        (c.get("/users", fields="sourcedId,nickname"), 400, "invalid_selection_field"),
        (c.get("/users", limit="0"), 400, "invaliddata"),
        (c.get("/users", offset="-1"), 400, "invaliddata"),
        (c.get("/academicSessions", filter="dateLastModified>'yesterday'"), 422, "invaliddata"),
        (c.get("/users/nobody"), 404, "unknownobject"),
        (c.get("/classes/nothing/students"), 404, "unknownobject"),
    ]
    anonymous = httpx.get(c.sim.base_url + "/users")
    validate(c.sim, anonymous)
    expected.append((anonymous, 401, "unauthorisedrequest"))
    for behaviour, status, minor in [(Behaviour(forbidden=("users",)), 403, "forbidden"),
                                     (Behaviour(throttle_every=1, throttle_burst=5), 429, "server_busy"),
                                     (Behaviour(error_rate=1.0), 500, "internal_server_error")]:
        c.sim.behaviour = behaviour
        try:
            expected.append((c.get("/users"), status, minor))
        finally:
            c.sim.behaviour = Behaviour()
    for answer, status, minor in expected:
        assert answer.status_code == status, answer.text
        info = answer.json()["statusInfoSet"][0] if v == "1.1" else answer.json()
        assert (info["imsx_codeMajor"], info["imsx_severity"]) == ("failure", "error")
        assert info["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == minor
    assert expected[-2][0].headers["Retry-After"] == "1"


@pytest.mark.parametrize(("version", "behaviour", "path"), [
    ("1.1", Behaviour(nulls=True), "/users"),
    ("1.2", Behaviour(nulls=True), "/users"),
    ("1.1", Behaviour(string_booleans=True), "/users"),
    ("1.2", Behaviour(json_booleans=True), "/enrollments"),
    ("1.2", Behaviour(bare_refs=True), "/enrollments"),
    ("1.1", Behaviour(bare_refs=True), "/classes"),
    ("1.2", Behaviour(error_envelope="wrapped"), "/users/nobody"),
    ("1.1", Behaviour(error_envelope="bare"), "/users/nobody"),
], ids=["nulls-1.1", "nulls-1.2", "string-booleans-1.1", "json-booleans-1.2", "bare-refs-1.2", "bare-refs-1.1",
        "wrapped-error-1.2", "bare-error-1.1"])
def test_the_validator_refuses_each_relaxed_form(district: Path, version: str, behaviour: Behaviour,
                                                 path: str) -> None:
    """The relaxed forms are not what the binding says (so the checks above can fail)."""
    with Simulator(district, version=version, behaviour=behaviour) as sim, pytest.raises(
            (OpenAPIError, AssertionError)):  # openapi-core's, or the 1.1 envelope check's
        Client(sim).get(path)
