"""The web view (``rostersync serve``), served for real by uvicorn on loopback and driven over HTTP:
every page, paging and filters, approve and discard doing exactly what the CLI does with the same
audit trail, CSRF, the access modes, the Host check, and no secret value on any page."""

from __future__ import annotations

import getpass
import re
import shutil
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from conftest import roster_snapshot
from rostersync.config import Config
from rostersync.web.app import create_app
from rostersync.web.security import Access
from web_helpers import held_district, serving

OPEN = Access("open", allowed_hosts=frozenset({"127.0.0.1", "localhost"}))


@pytest.fixture
def district(cli, bundle) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return held_district(cli, bundle)


def client_for(project: Path, access: Access = OPEN) -> Any:
    """A context manager: the view of ``project`` served, and an HTTP client for it."""
    from contextlib import contextmanager

    @contextmanager
    def opened() -> Iterator[httpx.Client]:
        with serving(create_app(project / "rostersync.toml", access)) as base, \
                httpx.Client(base_url=base, timeout=30) as client:
            yield client

    return opened()


@pytest.fixture
def web(project: Path, district: dict[str, Any]) -> Iterator[httpx.Client]:
    with client_for(project) as client:
        yield client


def token(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "the page has no form with a CSRF token"
    return match[1]


def post(client: httpx.Client, path: str, csrf: str | None, **form: str) -> httpx.Response:
    data = {**form, **({"csrf_token": csrf} if csrf is not None else {})}
    return client.post(path, data=data)


def text_of(page: httpx.Response) -> str:
    """The page's visible text, roughly: tags removed, whitespace folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", page.text).split())


def roster_state(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every roster row with its values and the runs that wrote it; of ``deleted_at`` only whether it is
    set (two applies of the same run a second apart soft-delete the same rows at different times)."""
    state = roster_snapshot(db)
    with sqlite3.connect(db) as conn:
        for table, rows in state.items():
            at = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")].index("deleted_at")
            state[table] = [(*row[:at], row[at] is not None, *row[at + 1:]) for row in rows]
    return state


def run_row(db: Path, run_id: int) -> tuple[Any, ...]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT status, counts, error, mode, approved_at IS NOT NULL FROM sync_runs WHERE id=?",
                            [run_id]).fetchone()


def audit(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT action, run_id, school, source, actor, origin, detail FROM audit_log "
                            "ORDER BY id").fetchall()


def changes_of(db: Path, run_id: int) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT entity, sourced_id, action, fields FROM changes WHERE run_id=? ORDER BY id",
                            [run_id]).fetchall()


# -- pages ------------------------------------------------------------------------------------------
def test_every_page_renders(web: httpx.Client, district: dict[str, Any]) -> None:
    held = district["held"]["lincoln"]
    dashboard = web.get("/")
    assert dashboard.status_code == 200 and "Lincoln Elementary" in dashboard.text
    assert text_of(dashboard).count("held") >= 2
    assert 'content="width=device-width' in dashboard.text and "<script" not in dashboard.text
    run = web.get(f"/runs/{held}")
    assert run.status_code == 200
    assert "would delete 45 of 384 rows" in run.text and f"Approve run {held}" in run.text
    assert web.get("/holds").text.count("Discard run") == 2
    assert "csv-folder" in web.get("/connectors").text
    connector = web.get("/connectors/csv-folder")
    assert connector.status_code == 200 and "on_dangling" in connector.text
    assert web.get("/runs").status_code == 200 and web.get("/runs?school=lincoln&source=csv-folder").status_code == 200
    people = web.get("/people", params={"q": "le-tch-001"})
    assert people.status_code == 200 and "/person?school=lincoln" in people.text
    for path, status in (("/runs/999", 404), ("/connectors/nope", 404), ("/nowhere", 404),
                         ("/person?school=x&source=y&id=z", 404)):
        assert web.get(path).status_code == status, path
    assert web.get("/static/style.css").headers["content-type"].startswith("text/css")


def test_the_dashboard_lists_held_and_failed_first_and_pages(cli, bundle, project: Path,  # type: ignore[no-untyped-def]
                                                             district: dict[str, Any]) -> None:
    for n in range(60):  # never run: listed after the holds
        assert cli("schools", "add", f"a{n:02d}", "--name", f"Academy {n}").exit_code == 0
        assert cli("enable", f"a{n:02d}", "csv-folder", "--set", f"path={bundle}").exit_code == 0
    assert cli("schools", "add", "broken", "--name", "Broken School").exit_code == 0
    assert cli("enable", "broken", "csv-folder", "--set", f"path={project / 'missing'}").exit_code == 0
    assert cli("sync", "broken").exit_code == 1
    with client_for(project) as web:
        first = text_of(web.get("/"))
        order = [first.index(name) for name in ("Lincoln Elementary", "Roosevelt Middle", "Broken School",
                                                "Academy 0")]
        assert order == sorted(order), first[:400]  # held, held, failed, then never run
        assert "page 1 of 2 (63)" in first and "needs attention (3)" in first
        second = text_of(web.get("/", params={"page": 2}))
        assert "Academy 59" in second and "Lincoln" not in second
        attention = text_of(web.get("/", params={"status": "attention"}))
        assert "Broken School" in attention and "Academy" not in attention
        assert "Roosevelt" in text_of(web.get("/", params={"q": "roose"}))
        assert "Lincoln" not in text_of(web.get("/", params={"q": "roose"}))
        assert web.get("/", params={"page": "junk"}).status_code == 200
        assert "due now" in first  # never run: the next run --due syncs it


def test_a_runs_changes_filter_by_entity_and_action_and_page_by_cursor(web: httpx.Client,
                                                                       district: dict[str, Any]) -> None:
    first_sync = 1  # lincoln's first run inserted every row of the school
    page = web.get(f"/runs/{first_sync}", params={"entity": "users"})
    rows = re.findall(r'<tr class="act-(\w+)">\s*<td rowspan="\d+" class="num">(\d+)</td><td rowspan="\d+">(\w+)',
                      page.text)
    assert len(rows) == 50 and {r[2] for r in rows} == {"users"} and {r[0] for r in rows} == {"insert"}
    last = rows[-1][1]
    assert f"after={last}" in page.text
    following = web.get(f"/runs/{first_sync}", params={"entity": "users", "after": last})
    ids = re.findall(r'<td rowspan="\d+" class="num">(\d+)</td>', following.text)
    assert ids and int(ids[0]) > int(last)
    held = district["held"]["lincoln"]
    deletes = web.get(f"/runs/{held}", params={"action": "delete", "entity": "users"})
    assert "pending: not applied" in deletes.text
    assert set(re.findall(r"act-(\w+)", deletes.text)) == {"delete"}
    updates = web.get(f"/runs/{held}", params={"action": "update"})
    assert "No changes of this kind" in updates.text or "class=\"before\"" in updates.text


def test_people_search_and_a_persons_page(web: httpx.Client, district: dict[str, Any]) -> None:
    with sqlite3.connect("rostersync.db") as conn:
        sid, given, family, email = conn.execute(
            "SELECT sourced_id, given_name, family_name, email FROM users WHERE school='lincoln' AND "
            "role='student' AND email IS NOT NULL ORDER BY sourced_id LIMIT 1").fetchone()
    for query in (sid, email.upper(), family[:3], f"{given} {family}", f"{family}, {given}"):
        found = web.get("/people", params={"q": query})
        assert f"id={sid}" in found.text, query
    assert "nobody matches" in web.get("/people", params={"q": "zzzz-nobody"}).text
    person = web.get("/person", params={"school": "lincoln", "source": "csv-folder", "id": sid})
    assert person.status_code == 200
    body = text_of(person)
    assert family in body and "Enrollments" in body and "run 1" in body and "insert" in body
    assert "no enrollments" not in body


def test_a_config_broken_while_serving_is_an_error_page_not_a_traceback(web: httpx.Client, project: Path) -> None:
    config = project / "rostersync.toml"
    good = config.read_text()
    config.write_text(good + "\n[schools.lincoln\n")  # an operator's unfinished edit
    broken = web.get("/")
    assert broken.status_code == 503 and "not valid TOML" in broken.text and "Traceback" not in broken.text
    config.write_text(good)
    assert web.get("/").status_code == 200  # read again once the file is fixed: no restart


# -- approve and discard: exactly what the CLI does ------------------------------------------------
def test_approve_from_the_web_does_what_the_cli_does(cli, project: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                     district: dict[str, Any]) -> None:
    run_id = district["held"]["lincoln"]
    twin = tmp_path / "twin"
    shutil.copytree(project, twin)  # the same database, held runs' staging and config
    before = roster_state(project / "rostersync.db")
    with client_for(project) as web:
        page = web.get(f"/runs/{run_id}")
        done = post(web, f"/runs/{run_id}/approve", token(page))
        assert done.status_code == 303 and done.headers["location"] == f"/runs/{run_id}"
        after = web.get(f"/runs/{run_id}")
        assert f"Approved run {run_id}" in after.text and 'badge s-ok">ok' in after.text
        assert "anonymous" in after.text and "web from 127.0.0.1" in after.text
    assert cli("--config", str(twin / "rostersync.toml"), "approve", str(run_id)).exit_code == 0

    db, twin_db = project / "rostersync.db", twin / "rostersync.db"
    assert roster_state(db) == roster_state(twin_db) != before
    assert run_row(db, run_id) == run_row(twin_db, run_id) and run_row(db, run_id)[0] == "ok"
    assert changes_of(db, run_id) == changes_of(twin_db, run_id)
    [web_trail], [cli_trail] = audit(db), audit(twin_db)
    assert web_trail[:4] == cli_trail[:4] == ("approve", run_id, "lincoln", "csv-folder")
    assert web_trail[6] == cli_trail[6] and web_trail[6].startswith("applied: ")
    assert web_trail[4:6] == ("anonymous", "web from 127.0.0.1")
    assert cli_trail[4:6] == (getpass.getuser(), f"cli on {socket.gethostname()}")
    with sqlite3.connect(db) as conn:
        gone = {r[0] for r in conn.execute("SELECT sourced_id FROM users WHERE deleted_run=?", [run_id])}
    assert gone == {s for s in district["dropped"] if s.startswith("le-")}  # Lincoln's dropped students


def test_discard_from_the_web_changes_nothing(project: Path, district: dict[str, Any]) -> None:
    run_id = district["held"]["roosevelt"]
    db = project / "rostersync.db"
    before = roster_snapshot(db)
    with client_for(project) as web:
        done = post(web, f"/runs/{run_id}/discard", token(web.get("/holds")))
        assert done.status_code == 303
        page = web.get(done.headers["location"])
        assert f"Discarded run {run_id}; the roster was not changed." in page.text
        assert 'badge s-discarded">discarded' in page.text
        again = post(web, f"/runs/{run_id}/discard", token(web.get("/holds")))  # refused like the CLI
        assert "not held" in web.get(again.headers["location"]).text
    assert roster_snapshot(db) == before
    assert changes_of(db, run_id) == []
    assert audit(db) == [("discard", run_id, "roosevelt", "csv-folder", "anonymous", "web from 127.0.0.1",
                          "discarded: the roster was not changed")]


def test_a_post_without_the_csrf_token_is_refused(web: httpx.Client, project: Path,
                                                  district: dict[str, Any]) -> None:
    run_id = district["held"]["lincoln"]
    db = project / "rostersync.db"
    before = roster_snapshot(db)
    good = token(web.get("/holds"))
    with httpx.Client(base_url=str(web.base_url)) as stranger:
        other = token(stranger.get("/holds"))  # another session's token
    for csrf, headers in ((None, {}), ("", {}), ("forged", {}), (other, {}),
                          (good, {"Origin": "http://evil.example"})):
        refused = web.post(f"/runs/{run_id}/approve", data={} if csrf is None else {"csrf_token": csrf},
                           headers=headers)
        assert refused.status_code == 403, (csrf, headers)
        assert "security token" in refused.text
    assert web.post(f"/runs/{run_id}/discard").status_code == 403
    assert web.post("/logout").status_code == 403
    assert roster_snapshot(db) == before and run_row(db, run_id)[0] == "held" and audit(db) == []


# -- access ----------------------------------------------------------------------------------------
def test_security_headers_and_the_host_check(web: httpx.Client) -> None:
    page = web.get("/")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    rebound = web.get("/", headers={"Host": "attacker.example"})  # DNS rebinding reaches loopback by name
    assert rebound.status_code == 421 and "Lincoln" not in rebound.text
    assert web.get("/", headers={"Host": "localhost:8080"}).status_code == 200


def _password_project(project: Path, password: str = "correct horse battery") -> Access:
    from rostersync.web.security import access_for
    from rostersync.web.settings import set_password, web_settings

    config = Config.load(project / "rostersync.toml")
    set_password(config, "ana", password)
    config.save()
    return access_for("127.0.0.1", web_settings(Config.load(project / "rostersync.toml")))


def test_password_mode_signs_in_names_the_actor_and_throttles_guesses(project: Path,
                                                                      district: dict[str, Any]) -> None:
    access = _password_project(project)
    assert access.mode == "password"
    run_id = district["held"]["lincoln"]
    with client_for(project, access) as web:
        gate = web.get(f"/runs/{run_id}")
        assert gate.status_code == 303 and gate.headers["location"] == f"/login?next=%2Fruns%2F{run_id}"
        login = web.get(gate.headers["location"])
        wrong = post(web, "/login", token(login), user="ana", password="wrong password!", next=f"/runs/{run_id}")
        assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
        assert post(web, "/login", None, user="ana", password="correct horse battery").status_code == 403
        right = post(web, "/login", token(wrong), user="ana", password="correct horse battery",
                     next=f"/runs/{run_id}")
        assert right.status_code == 303 and right.headers["location"] == f"/runs/{run_id}"
        page = web.get(f"/runs/{run_id}")
        assert page.status_code == 200 and ">ana<" in page.text
        assert post(web, f"/runs/{run_id}/discard", token(page)).status_code == 303
        assert audit(project / "rostersync.db")[-1][:6] == ("discard", run_id, "lincoln", "csv-folder", "ana",
                                                             "web from 127.0.0.1")
        assert post(web, "/logout", token(web.get("/"))).headers["location"] == "/login"
        assert web.get("/").status_code == 303
        evil = post(web, "/login", token(web.get("/login")), user="ana", password="correct horse battery",
                    next="//evil.example/")
        assert evil.headers["location"] == "/"  # never sent to another site
    with client_for(project, access) as web:
        login = web.get("/login")
        for _ in range(5):
            login = post(web, "/login", token(login), user="ana", password="guess guess guess")
            assert login.status_code == 401
        blocked = post(web, "/login", token(login), user="ana", password="correct horse battery")
        assert blocked.status_code == 429  # even the right password waits now
    with sqlite3.connect(project / "rostersync.db") as conn:
        assert conn.execute("SELECT count(*) FROM audit_log WHERE action='sign-in' AND actor='ana'").fetchone() == (2,)


def test_proxy_mode_believes_the_header_only_from_the_proxy(project: Path, district: dict[str, Any]) -> None:
    run_id = district["held"]["roosevelt"]
    from rostersync.errors import ConfigError
    from rostersync.web.security import access_for
    from rostersync.web.settings import WebSettings

    with pytest.raises(ConfigError, match="allowed_hosts"):  # a page could rebind its name to the proxy
        access_for("127.0.0.1", WebSettings(proxy_user_header="X-Forwarded-User"))
    proxied = access_for("127.0.0.1", WebSettings(proxy_user_header="X-Forwarded-User",
                                                   proxy_addresses=("127.0.0.1",), allowed_hosts=("127.0.0.1",)))
    with client_for(project, proxied) as web:
        assert web.get("/").status_code == 401  # the proxy named nobody
        headers = {"X-Forwarded-User": "bo@district.example", "X-Forwarded-For": "10.1.2.3"}
        page = web.get(f"/runs/{run_id}", headers=headers)
        assert page.status_code == 200 and "bo@district.example" in page.text
        done = web.post(f"/runs/{run_id}/discard", data={"csrf_token": token(page)}, headers=headers)
        assert done.status_code == 303
    assert audit(project / "rostersync.db")[-1][4:6] == ("bo@district.example", "web via proxy 127.0.0.1 for 10.1.2.3")
    elsewhere = attrs.evolve(proxied, proxy_addresses=("10.9.9.9",))
    with client_for(project, elsewhere) as web:
        assert web.get("/", headers={"X-Forwarded-User": "mallory"}).status_code == 403


def test_serve_refuses_the_network_without_a_password_and_stores_only_a_hash(cli, project: Path,  # type: ignore[no-untyped-def]
                                                                              district: dict[str, Any]) -> None:
    from click.testing import CliRunner
    from rostersync.cli import main

    open_to_all = cli("serve", "--host", "0.0.0.0", "--port", "0")
    assert open_to_all.exit_code == 2 and "without a password" in open_to_all.output
    short = CliRunner().invoke(main, ["serve", "--set-password"], input="short\nshort\n")
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    made = CliRunner().invoke(main, ["serve", "--set-password", "--user", "ana"],
                              input="a long pass phrase\na long pass phrase\n")
    assert made.exit_code == 0, made.output
    text = (project / "rostersync.toml").read_text()
    assert "a long pass phrase" not in text and re.search(r'ana = "\$argon2id\$', text)
    (project / "rostersync.toml").write_text(text + '\n[web.users.bob]\n')
    assert "must be an argon2 hash" in cli("serve", "--port", "0").output


def test_no_secret_value_is_ever_rendered(cli, project: Path, district: dict[str, Any],  # type: ignore[no-untyped-def]
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cr3t-value-never-shown"
    monkeypatch.setenv("SIS_SECRET", secret)
    assert cli("enable", "lincoln", "oneroster-api", "--set", "base_url=https://sis.example/ims/oneroster/v1p1",
               "--set", "token_url=https://sis.example/token", "--set", "client_id=rostersync",
               "--set", "client_secret=env:SIS_SECRET").exit_code == 0
    config = project / "rostersync.toml"
    # hand edits an operator should not make: a literal secret, a password inside a URL, an unknown setting
    text = config.read_text().replace('client_secret = "env:SIS_SECRET"', f'client_secret = "{secret}"')
    text = text.replace("https://sis.example/ims", f"https://rostersync:{secret}@sis.example/ims")
    config.write_text(text)
    with client_for(project) as web:
        pages = ["/", "/holds", "/runs", "/connectors", "/connectors/oneroster-api", "/people?q=br"]
        pages += [f"/runs/{r}" for r in (1, 2, *district["held"].values())]
        for path in pages:
            page = web.get(path)
            assert page.status_code == 200 and secret not in page.text, path
        shown = web.get("/connectors").text
        assert "not a secret reference" in shown and "https://rostersync:***@sis.example" in shown
    config.write_text(text.replace(f'client_secret = "{secret}"', 'client_secret = "env:SIS_SECRET"'))
    with client_for(project) as web:
        assert "env:SIS_SECRET" in web.get("/connectors").text


def test_the_audit_of_a_cli_approve_names_the_user_and_host(cli, project: Path,  # type: ignore[no-untyped-def]
                                                            district: dict[str, Any]) -> None:
    run_id = district["held"]["lincoln"]
    assert cli("approve", str(run_id)).exit_code == 0
    assert cli("discard", str(district["held"]["roosevelt"])).exit_code == 0
    assert cli("approve", str(run_id)).exit_code == 2  # refused: no audit row for what did not happen
    trail = audit(project / "rostersync.db")
    assert [(a[0], a[1], a[4], a[5]) for a in trail] == [
        ("approve", run_id, getpass.getuser(), f"cli on {socket.gethostname()}"),
        ("discard", district["held"]["roosevelt"], getpass.getuser(), f"cli on {socket.gethostname()}")]


@pytest.mark.parametrize("started", ["2026-11-28T01:59:00.000000Z", "2026-11-28T02:00:00.000000Z",
                                     "2026-11-28T02:00:01.000000Z", "2026-11-27T03:00:00.000000Z", None])
def test_the_dashboards_due_now_is_what_run_due_decides(started: str | None) -> None:
    import datetime as dt

    from rostersync import schedule
    from rostersync.config import EnabledConnector, School
    from rostersync.web.pages.dashboard import Row, next_due

    now = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC)
    school = School("hill", "Hill", connectors={"sis": EnabledConnector("sis", {}, "0 2 * * *")})
    run = {"started_at": started} if started else None
    upcoming, due = next_due(Row(school, "sis", run), now, {})  # type: ignore[arg-type]
    last = dt.datetime.fromisoformat(started) if started else None
    assert due == schedule.is_due("0 2 * * *", last, now)
    assert upcoming == dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC)
