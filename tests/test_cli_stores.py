"""Every command that reads or writes the roster says the same on either store: the same operator
session (sync, status, history, changes, a hold approved, a hold discarded, a dry run, export, the
web view's pages) runs on an SQLite file and on a PostgreSQL database, and their outputs are
compared, times aside."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from conftest import edit_csv
from rostersync.cli import main
from rostersync.model import ENTITIES

pytest_plugins = ("pg_fixtures",)

TIMES = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
#: times as the web view shows them, and the audit row ids it lists before each change's entity
PAGE_TIMES = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC")
#: person ids (random, made by each store for each new person)
PERSON_IDS = re.compile(r"\b[0-9a-f]{16}\b")
CHANGE_IDS = re.compile(r"\b\d+ (?=(" + "|".join(sorted(ENTITIES)) + r") )")


def _no_change_ids(value: Any) -> Any:
    """``value`` without the ids of audit rows: SQLite reuses the ids a rolled-back dry run took,
    PostgreSQL's sequences never go back. Runs are still compared by id."""
    if isinstance(value, list):
        return [_no_change_ids(v) for v in value]
    if isinstance(value, dict):
        return {k: _no_change_ids(v) for k, v in value.items() if not (k == "id" and "run_id" in value)}
    return value


def session(folder: Path, bundle: Path, url: str | None) -> dict[str, Any]:
    """The operator session on one project; every command's exit code and (time-free) output."""
    from rostersync.config import Config

    config = folder / "rostersync.toml"
    runner = CliRunner()

    def run(*args: str) -> tuple[int, Any]:
        result = runner.invoke(main, ["--config", str(config), *args], catch_exceptions=False)
        text = TIMES.sub("T", result.output)
        return result.exit_code, _no_change_ids(json.loads(text)) if "--json" in args else text

    assert run("init")[0] == 0
    if url:
        loaded = Config.load(config)
        loaded.doc["database"]["url"] = url  # type: ignore[index]
        loaded.save()
    assert run("schools", "add", "lincoln", "--name", "Lincoln", "--org-id", "sch-lincoln")[0] == 0
    assert run("enable", "lincoln", "csv-folder", "--set", f"path={bundle}")[0] == 0
    out: dict[str, Any] = {"first sync": run("sync", "lincoln", "--json")}
    out["status"] = run("status", "--json")
    out["first changes"] = run("changes", "1", "--json")

    def drop_users(share: int) -> Callable[[list[dict[str, str]]], list[dict[str, str]]]:
        return lambda rows: [r for n, r in enumerate(rows) if r["role"] != "student" or n % share]

    edit_csv(bundle / "users.csv", drop_users(3))  # a third of the students gone: held
    out["held sync"] = run("sync", "lincoln", "--json")
    out["holds"] = run("holds", "--json")
    out["held changes"] = run("changes", "2", "--json")
    out["approve"] = run("approve", "2", "--json")
    out["warnings"] = run("changes", "2", "--warnings", "--json")
    edit_csv(bundle / "users.csv", drop_users(2))
    out["second hold"] = run("sync", "lincoln", "--json")
    out["discard"] = run("discard", "3")
    out["after discard"] = run("holds", "--json")
    edit_csv(bundle / "users.csv", lambda rows: [{**r, "familyName": r["familyName"] + "-x"} if n < 5 else r
                                                  for n, r in enumerate(rows)])
    out["dry run"] = run("sync", "lincoln", "--dry-run", "--show", "--json")
    out["history"] = run("history", "--json")
    out["status after"] = run("status", "--json")
    out["export"] = run("export", "lincoln", "--out", str(folder / "export"), "--json")
    out["exported files"] = {p.name: PERSON_IDS.sub("P", p.read_text(encoding="utf-8"))
                             for p in sorted((folder / "export").iterdir())}
    out["web view"] = web_pages(config)
    return out


def web_pages(config: Path) -> dict[str, str]:
    """The web view's pages over the project (``rostersync serve``), as text without times."""
    import httpx
    from rostersync.web.app import create_app
    from rostersync.web.security import Access
    from web_helpers import serving

    access = Access("open", allowed_hosts=frozenset({"127.0.0.1", "localhost"}))
    pages = ("/", "/runs", "/runs/2", "/holds", "/people?q=a", "/person?school=lincoln&source=csv-folder&id=le-tch-001")
    with serving(create_app(config, access)) as base, httpx.Client(base_url=base, timeout=30) as client:
        texts = {}
        for page in pages:
            response = client.get(page)
            assert response.status_code == 200, (page, response.text[:500])
            text = " ".join(re.sub(r"<[^>]+>", " ", response.text).split())
            texts[page] = PERSON_IDS.sub("P", CHANGE_IDS.sub("# ", PAGE_TIMES.sub("T", text)))
    return texts


def test_every_command_says_the_same_on_either_store(pg_store_url: str, tmp_path: Path, bundle: Path) -> None:
    import shutil

    second = tmp_path / "bundle2"
    shutil.copytree(bundle, second)
    on_sqlite = session(tmp_path / "sqlite", bundle, None)
    on_postgres = session(tmp_path / "postgres", second, pg_store_url)
    assert on_sqlite["held sync"][0] == 3 and on_sqlite["approve"][1]["status"] == "ok"
    assert on_sqlite["second hold"][0] == 3 and on_sqlite["after discard"][1] == []
    assert on_sqlite["dry run"][1][0]["changes"], "the dry run previews its changes"
    for key in on_sqlite:
        assert on_postgres[key] == on_sqlite[key], key
