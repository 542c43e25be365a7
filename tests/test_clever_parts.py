"""The pieces of the Clever connector on their own: the rate limiter, the reset headers, folding events,
settings validation; and servers that break the rules (bad objects, broken paging, a link to another
host), each refused with a message naming the object or page, the roster unchanged."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from clever_helpers import sync
from conftest import roster_snapshot
from rostersync.api.http import rate_limit_reset, retry_after
from rostersync.clever.client import RateLimiter
from rostersync.clever.events import Fallback, fold, undo
from rostersync.testing.clever_server import Behaviour

pytest_plugins = ("clever_fixtures",)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request("GET", "https://api.clever.com/v3.0/users"))


def test_the_rate_limiter_allows_so_many_requests_a_minute_and_waits_out_an_empty_bucket():
    clock = Clock()
    limiter = RateLimiter(3, clock=clock, sleep=clock.sleep, wall=lambda: 1_700_000_000.0)
    for _ in range(3):
        limiter.before()
    assert clock.slept == []
    clock.now += 20
    limiter.before()  # the fourth in a minute waits until the first is a minute old
    assert clock.slept == [40.0]
    limiter.after(_response(200, **{"X-RateLimit-Remaining": "5, 0", "X-RateLimit-Reset": "1700000030, 1700000012"}))
    clock.now += 1  # our window has room; the server's bucket is empty until its reset, 12 s after it said so
    limiter.before()
    assert clock.slept == [40.0, 11.0]


def test_a_429_waits_until_the_latest_reset_of_an_empty_bucket():
    now = time.time()
    resets = f"{now + 30:.0f}, {now + 50:.0f}"
    response = _response(429, **{"X-RateLimit-Remaining": "0, 7", "X-RateLimit-Reset": resets})
    assert rate_limit_reset(response) == pytest.approx(now + 30, abs=1)
    assert retry_after(response) == pytest.approx(30, abs=1.5)
    assert retry_after(_response(429, **{"X-RateLimit-Reset": "45"})) == pytest.approx(45, abs=1)  # seconds
    assert retry_after(_response(429, **{"Retry-After": "3", "X-RateLimit-Reset": f"{now + 90:.0f}"})) == 3.0
    assert retry_after(_response(503, **{"X-RateLimit-Reset": f"{now + 30:.0f}"})) is None  # not a rate limit


def test_events_fold_into_each_object_before_and_after():
    user = {"id": "u1", "name": {"first": "Zoe", "last": "Adams"}, "roles": {"student": {"grade": "2"}}}
    renamed = {**user, "name": {"first": "Zoey", "last": "Adams"}, "roles": {"student": {"grade": "3"}}}
    events = [
        ("/v3.0/events/e1", {"id": "e1", "type": "users.updated", "data": {"object": renamed, "previous_attributes": {
            "name": {"first": "Zoe"}, "roles": {"student": {"grade": "2"}}}}}),
        ("/v3.0/events/e2", {"id": "e2", "type": "sections.created", "data": {"object": {"id": "s1"}}}),
        ("/v3.0/events/e3", {"id": "e3", "type": "sections.deleted", "data": {"object": {"id": "s1"}}}),
        ("/v3.0/events/e4", {"id": "e4", "type": "schools.deleted", "data": {"object": {"id": "k1", "name": "Oak"}}}),
    ]
    changes = fold(events)
    assert changes[("users", "u1")].before == user and changes[("users", "u1")].after == renamed
    assert changes[("sections", "s1")].before is None and changes[("sections", "s1")].after is None
    assert changes[("schools", "k1")].before == {"id": "k1", "name": "Oak"} and changes[("schools", "k1")].after is None
    assert undo({"id": "u1", "roles": {"staff": {}, "teacher": {}}}, {"roles": {"staff": None}}) == \
        {"id": "u1", "roles": {"teacher": {}}}  # a role added since: absent before
    with pytest.raises(Fallback, match=r"event e9 \(users.updated\) has no previous_attributes"):
        fold([("", {"id": "e9", "type": "users.updated", "data": {"object": user}})])


@pytest.mark.parametrize(("settings", "message"), [
    ({}, "give the district token (--set token=env:CLEVER_TOKEN), or client_id and client_secret to look it up"),
    ({"token": "env:A", "client_id": "app", "client_secret": "env:B"}, "give either token or client_id"),
    ({"token": "env:A", "page_size": "20000"}, "page_size: Clever serves 1 to 10,000 objects a page (got 20000)"),
    ({"token": "env:A", "api_version": "2.1"}, "api_version: '2.1' is not one of: 3.0, 3.1"),
    ({"token": "env:A", "base_url": "api.clever.com"}, "base_url must start with https://"),
])
def test_settings_are_checked_when_the_connector_is_enabled(cli, district, settings, message):
    result = cli("enable", "district", "clever", *[a for k, v in settings.items() for a in ("--set", f"{k}={v}")])
    assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output


def test_an_object_without_its_sis_id_is_refused_naming_its_uri_and_field(cli, district, clever, enable_clever,
                                                                         db_path):
    server = clever()
    enable_clever(server)
    assert sync(cli)["status"] == "ok"
    before = roster_snapshot(db_path)
    zoe = next(u for u in server.district.users("student") if u["roles"]["student"]["sis_id"] == "100")
    del zoe["roles"]["student"]["sis_id"]
    run = sync(cli)
    assert run["status"] == "failed"
    assert run["error"] == f"{server.base_url}/v3.0/users/{zoe['id']}:roles.student.sis_id: required value is empty"
    assert roster_snapshot(db_path) == before


def test_a_reference_the_api_does_not_resolve_is_skipped_by_the_reference_checks(cli, district, clever,
                                                                                 enable_clever, db_path):
    server = clever()
    enable_clever(server)
    section = server.district.sorted("sections")[0]
    section["students"].append("ffffffffffffffffffffffff")  # a student the district does not share
    run = sync(cli)
    assert run["status"] == "ok", run
    warnings = [w["message"] for w in json.loads(cli("changes", str(run["run"]), "--warnings", "--json").output)]
    assert any("refers to user 'student:clever:ffffffffffffffffffffffff'" in w and "row skipped" in w
               for w in warnings), warnings


@pytest.mark.parametrize(("behaviour", "message"), [
    (Behaviour(ignore_starting_after=True), "the server ignores starting_after; nothing was imported"),
    (Behaviour(next_origin="http://127.0.0.1:9"), "a link points to another host (http://127.0.0.1:9/v3.0/schools"),
])
def test_broken_paging_fails_the_run_and_changes_nothing(cli, district, clever, enable_clever, db_path, behaviour,
                                                         message):
    server = clever(behaviour=behaviour)
    enable_clever(server, page_size="2")
    run = sync(cli)
    assert run["status"] == "failed" and message in run["error"], run
    assert roster_snapshot(db_path) == {t: [] for t in roster_snapshot(db_path)}


def test_a_base_url_that_is_not_the_clever_api_is_named(cli, district, clever, enable_clever):
    server = clever()
    enable_clever(server, base_url=f"{server.base_url}/not-clever")
    run = sync(cli)
    assert run["status"] == "failed"
    assert f"{server.base_url}/not-clever/v3.0/districts?limit=10000: HTTP 404 Not Found" in run["error"]


def test_a_warning_names_the_api_object_and_field_it_is_about(cli, district, clever, enable_clever):
    server = clever()
    zoe = next(u for u in server.district.users("student") if u["roles"]["student"]["sis_id"] == "100")
    zoe["roles"]["student"]["grade"] = "Kinder"  # not a grade Clever (or CEDS) knows
    section = server.district.sorted("sections")[0]
    section["term_id"] = "eeeeeeeeeeeeeeeeeeeeeeee"  # a term the API does not list
    enable_clever(server)
    run = sync(cli)
    assert run["status"] == "ok", run
    warnings = [w["message"] for w in json.loads(cli("changes", str(run["run"]), "--warnings", "--json").output)]
    assert (f"{server.base_url}/v3.0/users/{zoe['id']}:roles.student.grade: 'Kinder' is not a known grade level; "
            "stored as Other") in warnings
    assert (f"{server.base_url}/v3.0/sections/{section['id']}:term_id: refers to term eeeeeeeeeeeeeeeeeeeeeeee, "
            "which the API did not list; the class has no term") in warnings
