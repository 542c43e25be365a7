"""Deltas from Clever's Events feed: after a full sync, later runs read only the events since the last one.

The loopback server's feed holds the events between two snapshots of the district (creates, updates
with previous_attributes, deletes). The reference for a delta is a full re-sync of the same data: it
must find nothing left to change, and the roster must equal the Clever CSV sync of the later snapshot.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest
from api_helpers import roster_by_source
from clever_helpers import later_snapshot, sync, totals
from conftest import roster_snapshot
from rostersync.testing.clever_district import write_clever_district
from rostersync.testing.clever_server import Behaviour, CleverServer

pytest_plugins = ("clever_fixtures",)


def _state(db_path) -> dict:  # type: ignore[no-untyped-def, type-arg]
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT state FROM sync_runs WHERE source='clever' AND status='ok' "
                           "ORDER BY id DESC LIMIT 1").fetchone()
    return json.loads(row[0])["clever_events"]


def _warnings(cli, run: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [w["message"] for w in json.loads(cli("changes", str(run), "--warnings", "--json").output)]


NOTHING = {"inserted": 0, "updated": 0, "deleted": 0, "restored": 0}


@pytest.fixture
def synced(cli, district, clever, enable_clever):  # type: ignore[no-untyped-def]
    """``synced(behaviour=None, **settings)``: a Clever server, and its district's first (full) sync with
    delta=true done; returns the server."""

    def first(behaviour: Behaviour | None = None, **settings: str) -> CleverServer:
        server = clever(behaviour=behaviour)
        enable_clever(server, delta="true", **settings)
        assert sync(cli)["status"] == "ok"
        return server

    return first


def test_events_between_two_snapshots_give_the_same_roster_as_a_full_resync(cli, district, clever, enable_clever,
                                                                             db_path, tmp_path):
    server = clever()
    enable_clever(server, delta="true", demographics="true", page_size="3")
    first = sync(cli)
    assert first["status"] == "ok" and _state(db_path)["cursor"] is None  # the feed was empty
    later = later_snapshot(tmp_path / "later")
    events = server.advance(later)
    assert {e["type"] for e in events} >= {"users.created", "users.updated", "users.deleted", "sections.updated",
                                           "sections.deleted", "terms.created", "terms.deleted", "courses.updated"}
    seen = len(server.log)
    delta = sync(cli)
    assert delta["status"] == "ok", delta
    asked = {e.path for e in server.log[seen:]}
    assert "/v3.0/events" in asked and "/v3.0/users" not in asked and "/v3.0/sections" not in asked  # no full pull
    assert _state(db_path)["cursor"] == events[-1]["id"]
    assert totals(delta, "users") == {"inserted": 2, "updated": 4, "deleted": 3, "restored": 0}
    assert totals(delta, "enrollments") == {"inserted": 1, "updated": 0, "deleted": 4, "restored": 0}
    assert _warnings(cli, delta["run"]) == []

    # a full re-sync finds nothing left to change...
    full = sync(cli, "district", "--full")
    assert full["status"] == "ok" and totals(full) == NOTHING
    # ... and the roster is the Clever CSV sync of the later snapshot, row for row
    assert cli("schools", "add", "csv", "--name", "Csv").exit_code == 0
    assert cli("enable", "csv", "csv-folder", "--set", f"path={later}", "--set", "demographics=true").exit_code == 0
    assert sync(cli, "csv")["status"] == "ok"
    by_source = roster_by_source(db_path)
    for entity, rows in by_source["csv-folder"].items():
        api = [(*r[:-1], None) if entity == "orgs" else r for r in by_source["clever"][entity]
               if not r[1].startswith("district:")]
        assert [r[1:] for r in api] == [r[1:] for r in rows], entity

    # no new events: a delta that changes nothing; the cursor stays
    again = sync(cli)
    assert again["status"] == "ok" and again["counts"] == {} and _state(db_path)["cursor"] == events[-1]["id"]


def test_a_delta_not_applied_is_read_again_and_gives_the_same_result(cli, synced, db_path, tmp_path):
    server = synced()
    server.advance(later_snapshot(tmp_path / "later"))
    preview = json.loads(cli("sync", "district", "--dry-run", "--json").output)[-1]
    assert preview["status"] == "dry-run"
    applied = sync(cli)  # the dry run saved no cursor: the same events, the same changes
    assert applied["status"] == "ok" and applied["counts"] == preview["counts"]
    assert totals(sync(cli, "district", "--full")) == NOTHING


def test_an_expired_cursor_falls_back_to_a_full_sync_with_a_warning(cli, synced, db_path, tmp_path):
    server = synced()
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with sqlite3.connect(db_path) as conn:  # the last run read the feed 40 days ago
        conn.execute("UPDATE sync_runs SET state=json_set(state, '$.clever_events.read_at', ?)", [old])
    server.advance(later_snapshot(tmp_path / "later"))
    seen = len(server.log)
    run = sync(cli)
    assert run["status"] == "ok", run
    assert ("Clever Events: the last events were read 40 days ago and Clever keeps events 30 days, so some may be "
            "gone; this run is a full sync instead") in _warnings(cli, run["run"])
    assert "/v3.0/users" in {e.path for e in server.log[seen:]}  # a full pull
    assert totals(run, "users") == {"inserted": 2, "updated": 4, "deleted": 3, "restored": 0}
    assert _state(db_path)["read_at"] > old  # a fresh cursor for the next delta


def test_a_cursor_the_feed_no_longer_knows_falls_back_to_a_full_sync(cli, synced, db_path, tmp_path):
    server = synced()
    server.advance(later_snapshot(tmp_path / "later"))
    assert sync(cli)["status"] == "ok"  # a delta: the cursor is now an event id
    cursor = _state(db_path)["cursor"]
    server.forget_events()  # Clever dropped it
    run = sync(cli)
    assert run["status"] == "ok", run
    assert any(w.startswith(f"Clever Events: the feed no longer knows event {cursor}") and "full sync instead" in w
               for w in _warnings(cli, run["run"]))
    assert totals(run) == NOTHING


def test_an_update_without_previous_attributes_is_not_guessed_at(cli, synced, tmp_path):
    server = synced(Behaviour(no_previous_attributes=True))
    server.advance(later_snapshot(tmp_path / "later"))
    run = sync(cli)
    assert run["status"] == "ok", run
    assert any("has no previous_attributes, so what it replaced cannot be told; this run is a full sync instead" in w
               for w in _warnings(cli, run["run"]))
    assert totals(sync(cli, "district", "--full")) == NOTHING


def test_the_safeguards_hold_a_delta_that_deletes_too_much(cli, synced, db_path, tmp_path):
    server = synced()
    assert cli("schools", "set", "district", "--max-delete-percent", "10", "--min-changes", "1").exit_code == 0
    server.advance(later_snapshot(tmp_path / "later"))
    before = roster_snapshot(db_path)
    held = sync(cli)
    assert held["status"] == "held" and "users" in held["error"], held
    assert roster_snapshot(db_path) == before
    approved = json.loads(cli("approve", str(held["run"]), "--json").output)
    assert approved["status"] == "ok"
    assert totals(sync(cli, "district", "--full")) == NOTHING


def test_a_server_without_ending_before_last_is_paged_to_its_newest_event(cli, district, clever, enable_clever,
                                                                          db_path, tmp_path):
    server = clever(behaviour=Behaviour(no_ending_before_last=True))
    server.advance(later_snapshot(tmp_path / "later"))  # events from before rostersync's first sync
    enable_clever(server, delta="true", page_size="4")
    assert sync(cli)["status"] == "ok"
    assert _state(db_path)["cursor"] == server.events[-1]["id"]
    seen = len(server.log)
    run = sync(cli)
    assert run["status"] == "ok" and run["counts"] == {}  # nothing since the full sync
    assert [e.query.get("starting_after") for e in server.log[seen:]] == [[server.events[-1]["id"]]]


def test_a_night_that_changes_almost_everyone_still_ends_as_a_full_sync_would(cli, district, clever, enable_clever,
                                                                             db_path, tmp_path):
    server = clever(write_clever_district(tmp_path / "before", 90, schools=3, seed=0))
    enable_clever(server, delta="true", demographics="true", page_size="40")
    assert cli("schools", "set", "district", "--max-delete-percent", "100", "--max-update-percent", "100"
               ).exit_code == 0
    assert sync(cli)["status"] == "ok"
    events = server.advance(write_clever_district(tmp_path / "after", 100, schools=3, seed=1))
    assert len(events) > 300
    delta = sync(cli)
    assert delta["status"] == "ok" and _state(db_path)["cursor"] == events[-1]["id"], delta
    assert totals(sync(cli, "district", "--full")) == NOTHING
