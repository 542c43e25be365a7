"""The store contract: what every store backend must do, written against the Store protocol only.

A backend's test module runs it with ``from store_contract import *`` and two fixtures of its own
(see ``test_store_sqlite.py``):

* ``store_target``: a database target (path or URL) for one test, nothing created there yet;
* ``schema_tool``: an object with ``make(target, version)`` (a database at that schema version),
  ``stamp(target, version)`` (record another version, e.g. a newer one) and ``damage(target)``
  (drop a column the schema has; returns ``(table, column)``).

The CLI tests also use ``bundle`` from ``conftest.py``. A second connection to the same database is
``open_store`` on the same target (the lock test needs one).

Runs, holds, apply (insert/update/restore/soft delete, the audit, add-only, dry runs, deltas), locks,
export rows, live ids, the web view's pages (runs, changes, warnings, people search, a person's
enrollments and history), the audit log of operator actions, and migrations; and what operators rely on
(issue 21): issues with their masked value and outcome, rows refused as invalid kept live, filtered
counts, person ids and re-keys (with precedence, roles and ambiguity), suspected duplicates, and the
notifications log. Only ``rostersync.store`` and its protocol are used, so the PostgreSQL store of the
scale-out issue runs the same module with its own fixtures.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import rostersync_exe
from rostersync.batches import MappedBatch
from rostersync.errors import ConfigError
from rostersync.issues import Issue
from rostersync.model import Class, Enrollment, Org, Record, User, UserId
from rostersync.safeguards import Safeguards
from rostersync.secrets import remember
from rostersync.store import backend_for, inspect_store, open_store
from rostersync.store.base import AlreadyApplied, ApplyOutcome, ApplyPolicy, StaleRun, Store

SCHOOL, SOURCE = "hill", "sis"
PLAIN = ApplyPolicy(safeguards=None)


@pytest.fixture
def store(store_target: str) -> Iterator[Store]:
    """A fresh store at the latest schema version."""
    opened = open_store(store_target, upgrade=True)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def other(store_target: str, store: Store) -> Iterator[Store]:
    """A second connection to the same database (another process, as far as the store can tell)."""
    opened = open_store(store_target)
    try:
        yield opened
    finally:
        opened.close()


def org(sid: str, kind: str = "school", **kw: Any) -> Org:
    return Org(sid, name=kw.pop("name", sid.title()), type=kind, **kw)


def user(sid: str, family: str = "Lee", **kw: Any) -> User:
    return User(sid, role=kw.pop("role", "student"), given_name="Sam", family_name=family,
                org_sourced_ids=kw.pop("orgs", ("sch-1",)), **kw)


def sync(store: Store, entities: dict[str, Sequence[Record]], *, policy: ApplyPolicy = PLAIN, mode: str = "bulk",
         school: str = SCHOOL, source: str = SOURCE, state: dict[str, Any] | None = None,
         warnings: Sequence[Issue | str] = ()) -> tuple[int, ApplyOutcome]:
    """One run staging ``entities`` (each in ``mode``) and applied under ``policy``."""
    run_id = store.begin_run(school, source)
    staging = store.staging(run_id)
    for entity, records in entities.items():
        staging.write(MappedBatch(entity, f"{entity}.csv", list(records), mode,  # type: ignore[arg-type]
                                  lines=list(range(2, len(records) + 2))))
    staging.warn(warnings)
    staging.finish()
    return run_id, store.apply(run_id, school, source, staging, policy, state)


def live(store: Store, entity: str = "users", columns: Sequence[str] = ("sourced_id", "family_name"),
         school: str = SCHOOL) -> list[tuple[Any, ...]]:
    return list(store.live_rows(school, entity, columns))


def actions(store: Store, run_id: int) -> list[tuple[str, str, str]]:
    return [(c["entity"], c["sourced_id"], c["action"]) for c in store.changes(run_id)]


BASE = {"orgs": [org("sch-1"), org("dist", "district")],
        "users": [user("u1"), user("u2"), user("u3", "Ng")]}


# -- runs and their log ---------------------------------------------------------------------------
def test_runs_begin_fail_skip_and_history_newest_first(store: Store) -> None:
    secret = remember("hunter2-contract-secret")
    first = store.begin_run(SCHOOL, SOURCE)
    second = store.begin_run(SCHOOL, "other")
    third = store.begin_run("dale", SOURCE)
    assert first < second < third
    assert store.run(first)["status"] == "running"  # type: ignore[index]
    store.fail_run(first, f"server said no to {secret}", {"users": {"fetched": 3}})
    store.skip_run(second, "nothing new")
    failed, skipped = store.run(first), store.run(second)
    assert failed is not None and skipped is not None
    assert (failed["status"], failed["counts"]) == ("failed", {"users": {"fetched": 3}})
    assert secret not in failed["error"] and "server said no to" in failed["error"]
    assert (skipped["status"], skipped["error"]) == ("skipped", "nothing new")
    assert failed["finished_at"] and failed["started_at"].endswith("Z")
    assert store.run(third + 100) is None
    assert [r["id"] for r in store.runs()] == [third, second, first]
    assert [r["id"] for r in store.runs(SCHOOL)] == [second, first]
    assert [r["id"] for r in store.runs(limit=1)] == [third]
    assert [(r["school"], r["source"], r["id"]) for r in store.latest_runs()] == [
        ("dale", SOURCE, third), (SCHOOL, "other", second), (SCHOOL, SOURCE, first)]
    started = store.last_started(SCHOOL, SOURCE)
    assert started is not None and abs(dt.datetime.now(dt.UTC) - started) < dt.timedelta(minutes=5)
    assert store.last_started(SCHOOL, "never") is None


def test_last_state_is_the_newest_successful_runs(store: Store) -> None:
    assert store.last_state(SCHOOL, SOURCE) == {}
    sync(store, BASE, state={"cursor": "a"})
    sync(store, BASE, state={"cursor": "b"}, policy=ApplyPolicy(safeguards=None, dry_run=True))
    failed = store.begin_run(SCHOOL, SOURCE)
    store.fail_run(failed, "boom")
    assert store.last_state(SCHOOL, SOURCE) == {"cursor": "a"}


def test_warnings_are_kept_structured_in_order(store: Store) -> None:
    located = Issue("refers to class 'c9', which is not in this bundle; row skipped", "warning", "dangling",
                    "enrollments", "enrollments.csv", 7, "classSourcedId", "e-1")
    run_id, outcome = sync(store, BASE, warnings=[located, "read as Windows-1252"])
    assert outcome.warnings == 2
    store.add_warning(run_id, "after the sync: archiving failed")
    store.add_warning(run_id, Issue("moved", code="archive", file="drop.zip"))
    issues = store.issues(run_id)
    assert issues == [located, Issue("read as Windows-1252"), Issue("after the sync: archiving failed"),
                      Issue("moved", code="archive", file="drop.zip")]
    assert str(issues[0]) == ("enrollments.csv:7:classSourcedId: refers to class 'c9', which is not in this "
                              "bundle; row skipped")
    assert store.run(run_id)["warnings"] == 4  # type: ignore[index]


# -- apply --------------------------------------------------------------------------------------------
def test_first_sync_inserts_everything_with_one_audit_row_each(store: Store) -> None:
    run_id, outcome = sync(store, BASE)
    assert outcome.status == "ok"
    c = outcome.counts["users"]
    assert (c["fetched"], c["inserted"], c["updated"], c["deleted"]) == (3, 3, 0, 0)
    assert sorted(actions(store, run_id)) == [("orgs", "dist", "insert"), ("orgs", "sch-1", "insert"),
                                              ("users", "u1", "insert"), ("users", "u2", "insert"),
                                              ("users", "u3", "insert")]
    assert live(store) == [("u1", "Lee"), ("u2", "Lee"), ("u3", "Ng")]
    assert store.live_counts(SCHOOL)["users"] == 3 and store.live_counts("elsewhere")["users"] == 0
    run = store.run(run_id)
    assert run is not None and (run["status"], run["mode"]) == ("ok", "mirror")
    assert run["counts"]["users"]["inserted"] == 3 and "staged" not in run["counts"]["users"]


def test_update_delete_and_restore_each_logged_once(store: Store) -> None:
    sync(store, BASE)
    run_id, outcome = sync(store, {"orgs": BASE["orgs"], "users": [user("u1"), user("u3", "Ngo")]})
    c = outcome.counts["users"]
    assert (c["inserted"], c["updated"], c["deleted"], c["unchanged"]) == (0, 1, 1, 1)
    assert actions(store, run_id) == [("users", "u3", "update"), ("users", "u2", "delete")]
    update = store.changes(run_id, "users")[0]
    assert update["fields"] == {"family_name": ["Ng", "Ngo"]}
    assert live(store) == [("u1", "Lee"), ("u3", "Ngo")]
    assert store.live_counts(SCHOOL)["users"] == 2

    back, outcome = sync(store, {"orgs": BASE["orgs"], "users": [user("u1"), user("u2", "Park"), user("u3", "Ngo")]})
    assert outcome.counts["users"]["restored"] == 1
    assert actions(store, back) == [("users", "u2", "restore")]
    assert store.changes(back)[0]["fields"] == {"family_name": ["Lee", "Park"]}
    assert live(store) == [("u1", "Lee"), ("u2", "Park"), ("u3", "Ngo")]
    unchanged, outcome = sync(store, {"orgs": BASE["orgs"], "users": [user("u1"), user("u2", "Park"),
                                                                      user("u3", "Ngo")]})
    assert store.changes(unchanged) == [] and outcome.counts["users"]["unchanged"] == 3


def test_add_only_skips_deletes_and_reports_them(store: Store) -> None:
    sync(store, BASE)
    add_only = ApplyPolicy(safeguards=None, add_only=True)
    run_id, outcome = sync(store, {"orgs": BASE["orgs"], "users": [user("u1", "Kim")]}, policy=add_only)
    assert (outcome.counts["users"]["delete_skipped"], outcome.counts["users"]["deleted"]) == (2, 0)
    assert actions(store, run_id) == [("users", "u1", "update")]
    assert live(store) == [("u1", "Kim"), ("u2", "Lee"), ("u3", "Ng")]
    assert store.run(run_id)["mode"] == "add-only"  # type: ignore[index]


def test_a_dry_run_rolls_everything_back_but_previews(store: Store) -> None:
    sync(store, BASE)
    dry = ApplyPolicy(safeguards=None, dry_run=True, preview_limit=1)
    run_id, outcome = sync(store, {"orgs": BASE["orgs"], "users": [user("u1", "Kim"), user("u4")]}, policy=dry)
    assert outcome.status == "dry-run"
    assert (outcome.counts["users"]["updated"], outcome.counts["users"]["inserted"]) == (1, 1)
    assert [(p["entity"], p["action"]) for p in outcome.preview] == [("users", "update")]  # one per entity
    assert live(store) == [("u1", "Lee"), ("u2", "Lee"), ("u3", "Ng")]
    assert store.changes(run_id) == []
    assert store.run(run_id)["status"] == "dry-run"  # type: ignore[index]


def test_a_delta_changes_only_what_it_carries(store: Store) -> None:
    sync(store, BASE)
    gone = User("u2", status="tobedeleted", role="student", given_name="", family_name="")
    run_id, outcome = sync(store, {"users": [user("u3", "Cho"), gone, user("u9")]}, mode="delta")
    assert sorted(actions(store, run_id)) == [("users", "u2", "delete"), ("users", "u3", "update"),
                                              ("users", "u9", "insert")]
    assert live(store) == [("u1", "Lee"), ("u3", "Cho"), ("u9", "Lee")]
    assert "orgs" not in outcome.counts and len(live(store, "orgs", ["sourced_id"])) == 2


def test_schools_and_sources_are_separate_rosters(store: Store) -> None:
    sync(store, BASE)
    sync(store, {"users": [user("u1", "Other")]}, school="dale")
    sync(store, {"users": [user("u1", "Second")]}, source="sis2")
    assert live(store) == [("u1", "Lee"), ("u2", "Lee"), ("u3", "Ng"), ("u1", "Second")]  # by source, id
    assert live(store, school="dale") == [("u1", "Other")]


# -- holds -------------------------------------------------------------------------------------------
HOLDING = ApplyPolicy(safeguards=Safeguards(max_delete_percent=10, min_changes=1))


def test_a_held_run_changes_nothing_and_approve_applies_exactly_the_staged_changes(store: Store) -> None:
    sync(store, BASE)
    run_id, outcome = sync(store, {"orgs": BASE["orgs"], "users": [user("u1", "Kim")]}, policy=HOLDING,
                           state={"cursor": "held"})
    assert outcome.status == "held" and outcome.reasons
    assert live(store) == [("u1", "Lee"), ("u2", "Lee"), ("u3", "Ng")]
    pending = actions(store, run_id)
    assert sorted(pending) == [("users", "u1", "update"), ("users", "u2", "delete"), ("users", "u3", "delete")]
    assert [h["id"] for h in store.holds()] == [run_id] and store.pending_hold(SCHOOL, SOURCE) == run_id
    assert store.pending_hold(SCHOOL, "other") is None
    run = store.run(run_id)
    assert run is not None and run["status"] == "held" and run["error"] == "; ".join(outcome.reasons)

    approved = store.approve(run_id)
    assert approved.status == "ok" and approved.counts == outcome.counts
    assert actions(store, run_id) == pending
    assert live(store) == [("u1", "Kim")]
    run = store.run(run_id)
    assert run is not None and run["status"] == "ok" and run["approved_at"] and run["error"] is None
    assert store.holds() == [] and store.pending_hold(SCHOOL, SOURCE) is None
    assert store.last_state(SCHOOL, SOURCE) == {"cursor": "held"}
    with pytest.raises(ConfigError, match="not held"):
        store.approve(run_id)


def test_approving_a_held_run_keeps_its_warnings_once(store: Store) -> None:
    """Regression: approve re-applied the staging and recorded the run's warnings a second time."""
    sync(store, BASE)
    run_id, outcome = sync(store, {"orgs": BASE["orgs"], "users": []}, policy=HOLDING, warnings=["short file"])
    assert outcome.status == "held" and store.issues(run_id) == [Issue("short file")]
    approved = store.approve(run_id)
    assert approved.warnings == 1 and store.issues(run_id) == [Issue("short file")]
    assert store.run(run_id)["warnings"] == 1  # type: ignore[index]


def test_discard_leaves_the_roster_and_drops_the_pending_changes(store: Store) -> None:
    sync(store, BASE)
    run_id, outcome = sync(store, {"orgs": BASE["orgs"], "users": []}, policy=HOLDING)
    assert outcome.status == "held"
    store.discard(run_id)
    assert live(store) == [("u1", "Lee"), ("u2", "Lee"), ("u3", "Ng")]
    assert store.changes(run_id) == [] and store.run(run_id)["status"] == "discarded"  # type: ignore[index]
    with pytest.raises(ConfigError, match="not held"):
        store.discard(run_id)
    with pytest.raises(ConfigError, match="no run"):
        store.approve(run_id + 100)


def test_approving_a_hold_made_stale_by_a_later_run_is_refused(store: Store) -> None:
    sync(store, BASE)
    held, _ = sync(store, {"orgs": BASE["orgs"], "users": []}, policy=HOLDING)
    sync(store, BASE)
    with pytest.raises(ConfigError, match="stale"):
        store.approve(held)
    assert live(store) == [("u1", "Lee"), ("u2", "Lee"), ("u3", "Ng")]


# -- handing a roster to another source ------------------------------------------------------------
def test_move_source_hands_live_and_deleted_rows_over_and_the_next_sync_updates_them(store: Store) -> None:
    sync(store, BASE)
    sync(store, {"orgs": BASE["orgs"], "users": [user("u1"), user("u2")]})  # u3 soft-deleted
    assert store.move_source(SCHOOL, SOURCE, "api") == {"orgs": 2, "users": 3}
    assert store.live_ids(SCHOOL, SOURCE, "users", ["u1", "u2"]) == set()
    assert store.live_ids(SCHOOL, "api", "users", ["u1", "u2", "u3"]) == {"u1", "u2"}
    run_id, outcome = sync(store, {"orgs": BASE["orgs"], "users": [user("u1", "Kim"), user("u2"), user("u3", "Ng")]},
                           source="api")
    assert sorted(actions(store, run_id)) == [("users", "u1", "update"), ("users", "u3", "restore")]
    assert outcome.counts["users"]["inserted"] == 0


def test_move_source_refuses_a_source_with_a_roster_or_history_of_its_own(store: Store) -> None:
    sync(store, BASE)
    sync(store, {"users": [user("u7")]}, source="api")
    with pytest.raises(ConfigError, match="api has already synced school hill"):
        store.move_source(SCHOOL, SOURCE, "api")
    held, _ = sync(store, {"orgs": BASE["orgs"], "users": []}, policy=HOLDING)
    with pytest.raises(ConfigError, match=f"run {held} of sis is held"):
        store.move_source(SCHOOL, SOURCE, "fresh")
    assert live(store) == [("u7", "Lee"), ("u1", "Lee"), ("u2", "Lee"), ("u3", "Ng")]


# -- one sync per source -----------------------------------------------------------------------------
def test_a_source_lock_is_refused_while_held_and_free_after(store: Store, other: Store) -> None:
    with store.source_lock(SCHOOL, SOURCE) as first:
        assert first is True
        with other.source_lock(SCHOOL, SOURCE) as second:
            assert second is False
        with other.source_lock(SCHOOL, "another source") as elsewhere:
            assert elsewhere is True
    with other.source_lock(SCHOOL, SOURCE) as again:
        assert again is True


def test_recover_interrupted_fails_the_sources_running_runs(store: Store) -> None:
    dead = store.begin_run(SCHOOL, SOURCE)
    store.staging(dead).close()  # a crash left its staging behind
    alive = store.begin_run(SCHOOL, "other")
    assert store.recover_interrupted(SCHOOL, SOURCE) == [dead]
    run = store.run(dead)
    assert run is not None and run["status"] == "failed" and run["error"].startswith("interrupted")
    assert store.run(alive)["status"] == "running"  # type: ignore[index]
    assert store.recover_interrupted(SCHOOL, SOURCE) == []


# -- operators: reports, kept rows, filtered counts, people, notifications ------------------------------
def test_issues_keep_their_value_masked_and_their_outcome(store: Store) -> None:
    rejected = Issue("'wizard' is not one of: ...; row rejected", "warning", "invalid", "users", "users.csv", 4, "role",
                     "u9", "wizard", "rejected")
    birth = Issue("bad date", "warning", "invalid", "demographics", "demographics.csv", 2, "birthDate", "u1",
                  "2012-01-01", "rejected")
    run_id, _outcome = sync(store, BASE, warnings=[rejected, birth])
    store.add_issues(run_id, [Issue("refused", "error", "invalid", "users", "users.csv", 9, "email", "u8",
                                    "jane.doe@example.org", "rejected")])
    issues = store.issues(run_id)
    assert issues[0] == rejected
    assert (issues[1].value, issues[1].outcome) == ("***", "rejected")  # masked when written
    assert (issues[2].value, issues[2].level) == ("j***@example.org", "error")
    assert store.run(run_id)["warnings"] == 3  # type: ignore[index]


def test_a_row_refused_as_invalid_keeps_its_live_row(store: Store) -> None:
    sync(store, BASE)
    run_id = store.begin_run(SCHOOL, SOURCE)
    staging = store.staging(run_id)
    staging.write(MappedBatch("users", "users.csv", [user("u1"), user("u3", "Ng")], "bulk", lines=[2, 4]))
    staging.keep("users", ["u2"])  # its row was refused: not a record that left
    staging.finish()
    outcome = store.apply(run_id, SCHOOL, SOURCE, staging, PLAIN)
    assert outcome.counts["users"]["deleted"] == 0 and live(store) == [("u1", "Lee"), ("u2", "Lee"), ("u3", "Ng")]


def test_filtered_rows_are_counted_not_staged_and_not_warnings(store: Store) -> None:
    run_id = store.begin_run(SCHOOL, SOURCE)
    staging = store.staging(run_id)
    staging.write(MappedBatch("users", "users.csv", [user("u1")], "bulk", lines=[2]))
    staging.count_filtered("users", [Issue("grade 09 is not among the included (KG)", "warning", "filtered",
                                           "users", "users.csv", 3, "grades", "u2", "09", "filtered")], ["u2"])
    staging.finish()
    outcome = store.apply(run_id, SCHOOL, SOURCE, staging, PLAIN)
    assert (outcome.counts["users"]["filtered"], outcome.counts["users"]["inserted"], outcome.warnings) == (1, 1, 0)
    assert [i.outcome for i in store.issues(run_id)] == ["filtered"]


STATE = ("state_id", "student_number", "email")


def _with_ids(sid: str, state: str | None = None, number: str | None = None, email: str | None = None,
              **kw: Any) -> User:
    ids = (UserId("StateID", state),) if state else ()
    return user(sid, user_ids=ids, identifier=number, email=email, **kw)


def test_a_rekey_keeps_the_person_id_and_is_one_change(store: Store) -> None:
    sync(store, {"users": [_with_ids("u1", "S1"), _with_ids("u2", "S2"), _with_ids("u3", "S3")]})
    before = dict(live(store, columns=("sourced_id", "person_id")))
    assert len(set(before.values())) == 3 and all(before.values())
    policy = ApplyPolicy(safeguards=None, identity=STATE)
    run_id, outcome = sync(store, {"users": [_with_ids("u1", "S1"), _with_ids("n2", "S2", family="Lee-Ng"),
                                             _with_ids("u3", "S3")]}, policy=policy)
    c = outcome.counts["users"]
    assert (c["rekeyed"], c["inserted"], c["deleted"], c["unchanged"]) == (1, 0, 0, 2)
    [change] = store.changes(run_id)
    assert (change["action"], change["sourced_id"]) == ("rekey", "n2")
    assert change["fields"] == {"sourced_id": ["u2", "n2"], "family_name": ["Lee", "Lee-Ng"]}
    after = dict(live(store, columns=("sourced_id", "person_id")))
    assert after == {"u1": before["u1"], "n2": before["u2"], "u3": before["u3"]}


def test_rekeys_follow_precedence_role_and_ambiguity(store: Store) -> None:
    sync(store, {"users": [_with_ids("a", "S1", email="a@x"), _with_ids("b", None, "100"),
                           _with_ids("c", "S3"), _with_ids("d", "S4"), _with_ids("t", "S9", role="teacher")]})
    policy = ApplyPolicy(safeguards=None, identity=STATE)
    _run, outcome = sync(store, {"users": [
        _with_ids("a2", "S7", email="a@x"),  # same email, but both have state ids and they differ: a new person
        _with_ids("b2", "S8", "100"),  # b had no state id: the student number decides
        _with_ids("x1", "S3"), _with_ids("x2", "S3"),  # two candidates for c: ambiguous, not re-keyed
        _with_ids("d2", "S4", role="teacher"),  # another role: not the same person
        _with_ids("t", "S9", role="teacher")]}, policy=policy)
    c = outcome.counts["users"]
    assert (c["rekeyed"], c["inserted"], c["deleted"]) == (1, 4, 3)
    assert [r[0] for r in live(store, columns=("sourced_id",))] == ["a2", "b2", "d2", "t", "x1", "x2"]


def test_without_identity_keys_a_rekey_is_a_delete_and_an_insert(store: Store) -> None:
    sync(store, {"users": [_with_ids("u1", "S1")]})
    _run, outcome = sync(store, {"users": [_with_ids("n1", "S1")]})
    assert (outcome.counts["users"]["rekeyed"], outcome.counts["users"]["inserted"]) == (0, 1)


def test_duplicate_people_by_identifier_and_by_name_and_birth_date(store: Store) -> None:
    from rostersync.model import Demographics

    people = [_with_ids("u1", "S1"), _with_ids("u2", "S1"), _with_ids("u3", "S3"), _with_ids("u4", "S4")]
    sync(store, {"users": people, "demographics": [Demographics("u3", birth_date="2012-05-01"),
                                                   Demographics("u4", birth_date="2012-05-01")]})
    sync(store, {"users": [_with_ids("v1", "S5")]}, school="dale")
    groups = store.duplicate_people(SCHOOL, STATE)
    assert [(g["reason"], g["value"], [p["sourced_id"] for p in g["people"]]) for g in groups] == [
        ("same name and birth date", "***", ["u3", "u4"]), ("same state_id", "S1", ["u1", "u2"])]
    assert groups[1]["people"][0]["person_id"] != groups[1]["people"][1]["person_id"]
    assert store.duplicate_people("dale", STATE) == []
    assert len(store.duplicate_people(None, STATE)) == 2


def test_notifications_are_logged_newest_first(store: Store) -> None:
    secret = remember("hook-secret-in-an-error")
    run_id, _ = sync(store, BASE)
    store.record_notification("office", "run", "sent", "[rostersync] hill/sis: run 1 ok", run_id)
    store.record_notification("hook", "run", "failed", f"HTTP 500 from {secret}", run_id)
    store.record_notification("daily", "digest", "sent", "[rostersync] digest")
    rows = store.notifications()
    assert [(n["channel"], n["kind"], n["status"]) for n in rows] == [
        ("daily", "digest", "sent"), ("hook", "run", "failed"), ("office", "run", "sent")]
    assert secret not in rows[1]["detail"] and rows[1]["at"].endswith("Z")
    assert [n["channel"] for n in store.notifications(run_id=run_id)] == ["hook", "office"]
    assert [n["channel"] for n in store.notifications("daily", "digest")] == ["daily"]


# -- the apply fence: a stale attempt, a retried job ----------------------------------------------
def _staged(store: Store, run_id: int, users: Sequence[Record]) -> Any:
    staging = store.staging(run_id)
    staging.write(MappedBatch("users", "users.csv", list(users), "bulk", lines=list(range(2, len(users) + 2))))
    staging.finish()
    return staging


def test_a_run_recovered_as_interrupted_cannot_apply(store: Store, other: Store) -> None:
    """An attempt thought dead (its lease expired, another process took the source over) that wakes up
    and applies is refused inside the apply transaction: the run is no longer running."""
    sync(store, BASE)
    stale = store.begin_run(SCHOOL, SOURCE)
    staging = _staged(store, stale, [user("u1", "Stale")])
    assert other.recover_interrupted(SCHOOL, SOURCE) == [stale]
    with pytest.raises(StaleRun, match=rf"run {stale} is failed, not running"):
        store.apply(stale, SCHOOL, SOURCE, staging, PLAIN)
    staging.discard()
    assert live(store) == [("u1", "Lee"), ("u2", "Lee"), ("u3", "Ng")] and store.changes(stale) == []
    assert store.run(stale)["status"] == "failed"  # type: ignore[index]


def test_a_job_applies_once_whichever_attempt_commits_first(store: Store) -> None:
    """Two attempts of one queued job (a retry while the first was thought dead): the first to apply
    wins, the other is refused as already applied and changes nothing."""
    sync(store, BASE)
    first = store.begin_run(SCHOOL, SOURCE, job="42")
    second = store.begin_run(SCHOOL, SOURCE, job="42")
    assert store.job_run("42") is None
    first_staging = _staged(store, first, [user("u1", "Kim"), user("u2"), user("u3", "Ng")])
    second_staging = _staged(store, second, [user("u1", "Kim"), user("u2"), user("u3", "Ng")])
    assert store.apply(second, SCHOOL, SOURCE, second_staging, PLAIN).status == "ok"
    with pytest.raises(AlreadyApplied, match=f"job 42 was already applied by run {second}"):
        store.apply(first, SCHOOL, SOURCE, first_staging, PLAIN)
    first_staging.discard()
    assert actions(store, second) == [("users", "u1", "update")] and store.changes(first) == []
    assert store.job_run("42")["id"] == second  # type: ignore[index]
    assert store.run(second)["job_id"] == "42" and store.run(first)["status"] == "running"  # type: ignore[index]
    assert store.job_run("43") is None


# -- reading the roster --------------------------------------------------------------------------------
def test_live_ids_answer_only_for_live_rows_of_that_school_and_source(store: Store) -> None:
    sync(store, BASE)
    sync(store, {"orgs": BASE["orgs"], "users": [user("u1"), user("u3")]})  # u2 deleted
    sync(store, {"users": [user("u7")]}, school="dale")
    ids = ["u1", "u2", "u3", "u7", "nobody"]
    assert store.live_ids(SCHOOL, SOURCE, "users", ids) == {"u1", "u3"}
    assert store.live_ids(SCHOOL, "other", "users", ids) == set()
    assert store.live_ids("dale", SOURCE, "users", ids) == {"u7"}
    assert store.live_ids(SCHOOL, SOURCE, "orgs", ["sch-1", "dist"], schools_only=True) == {"sch-1"}
    assert store.live_ids(SCHOOL, SOURCE, "orgs", ["sch-1", "dist"]) == {"sch-1", "dist"}
    assert store.live_ids(SCHOOL, SOURCE, "users", []) == set()
    many = [f"x{i}" for i in range(5000)] + ["u1"]
    assert store.live_ids(SCHOOL, SOURCE, "users", many) == {"u1"}


def test_live_rows_stream_stored_values_and_extra_keys(store: Store) -> None:
    sync(store, {"orgs": [org("sch-1", extra={"metadata.b": "2"}), org("a-dist", "district",
                                                                          extra={"metadata.a": "1"})],
                 "users": [user("u1", orgs=("sch-1", "a-dist"), enabled_user=False)]})
    rows = live(store, "orgs", ["sourced_id", "type", "extra"])
    assert [(sid, kind) for sid, kind, _ in rows] == [("a-dist", "district"), ("sch-1", "school")]
    assert json.loads(rows[1][2]) == {"metadata.b": "2"}
    assert store.extra_keys(SCHOOL, "orgs") == ["metadata.a", "metadata.b"]
    assert store.extra_keys(SCHOOL, "users") == []
    [(orgs, enabled)] = live(store, "users", ["org_sourced_ids", "enabled_user"])
    assert (json.loads(orgs), enabled) == (["sch-1", "a-dist"], 0)  # stored form: JSON lists, 0/1
    sync(store, {"orgs": [org("sch-1")], "users": []})
    assert store.extra_keys(SCHOOL, "orgs") == []  # only live rows count


# -- pages for the web view ----------------------------------------------------------------------------
def _ids(rows: Sequence[dict[str, Any]], key: str = "id") -> list[Any]:
    return [r[key] for r in rows]


def test_run_page_pages_newest_first_by_school_and_source(store: Store) -> None:
    ids = [store.begin_run(school, source) for school, source in
           [(SCHOOL, SOURCE), (SCHOOL, "other"), ("dale", SOURCE), (SCHOOL, SOURCE), (SCHOOL, SOURCE)]]
    assert _ids(store.run_page()) == ids[::-1]
    assert _ids(store.run_page(limit=2)) == ids[:2:-1]
    assert _ids(store.run_page(before=ids[3], limit=2)) == [ids[2], ids[1]]
    assert _ids(store.run_page(school=SCHOOL)) == [ids[4], ids[3], ids[1], ids[0]]
    assert _ids(store.run_page(school=SCHOOL, source=SOURCE, before=ids[4])) == [ids[3], ids[0]]
    assert store.run_page(school="nowhere") == []
    assert store.run_page(school=SCHOOL)[0]["status"] == "running"
    store.skip_run(ids[4], "nothing new")
    store.skip_run(ids[1], "nothing new")
    assert _ids(store.run_page(status="skipped")) == [ids[4], ids[1]]
    assert _ids(store.run_page(school=SCHOOL, source=SOURCE, status="running", limit=1)) == [ids[3]]


def test_change_page_filters_by_entity_and_action_and_pages_by_cursor(store: Store) -> None:
    sync(store, BASE)
    other_run, _ = sync(store, {"users": [user("x1")]}, school="dale")  # another run's changes never show
    run_id, _ = sync(store, {"orgs": [org("sch-1", name="Renamed"), org("dist", "district")],
                             "users": [user("u1", "Kim"), user("u4"), user("u5"), user("u3", "Ng")]})
    every = store.changes(run_id)
    assert store.change_page(run_id) == every  # id order, whatever the entity
    assert [(c["entity"], c["action"]) for c in every].count(("users", "insert")) == 2
    first, second = store.change_page(run_id, limit=3), store.change_page(run_id, after=every[2]["id"], limit=3)
    assert first + second == every and len(first) == 3
    assert store.change_page(run_id, after=every[-1]["id"]) == []
    users = store.change_page(run_id, entity="users")
    assert users == store.changes(run_id, "users") and {c["entity"] for c in users} == {"users"}
    assert _ids(store.change_page(run_id, entity="users", action="insert", limit=1)) == [
        c["id"] for c in users if c["action"] == "insert"][:1]
    deletes = store.change_page(run_id, action="delete")
    assert [(c["entity"], c["sourced_id"]) for c in deletes] == [("users", "u2")]
    update = store.change_page(run_id, entity="orgs", action="update")
    assert [(c["sourced_id"], c["fields"]) for c in update] == [("sch-1", {"name": ["Sch-1", "Renamed"]})]
    assert store.change_page(run_id, entity="classes") == [] and store.change_page(run_id + 100) == []
    assert {c["run_id"] for c in store.change_page(other_run)} == {other_run}


def test_issue_page(store: Store) -> None:
    warnings = [Issue(f"warning {n}", code="dangling", line=n + 2) for n in range(5)]
    run_id, _ = sync(store, BASE, warnings=warnings)
    assert store.issue_page(run_id) == warnings
    assert store.issue_page(run_id, offset=1, limit=2) == warnings[1:3]
    assert store.issue_page(run_id, offset=5) == [] and store.issue_page(run_id + 1) == []


PEOPLE = {"orgs": BASE["orgs"],
          "users": [User("u1", role="student", given_name="Ana", family_name="García", identifier="S-100",
                         email="Ana.Garcia@Example.org", org_sourced_ids=("sch-1",)),
                    User("u2", role="student", given_name="Ben", family_name="Garner", identifier="S-101",
                         org_sourced_ids=("sch-1",)),
                    User("u3", role="teacher", given_name="Garry", family_name="Oak", email="oak@example.org",
                         org_sourced_ids=("sch-1",)),
                    User("u4", role="student", given_name="Mary Ann", family_name="Van Buren",
                         org_sourced_ids=("sch-1",)),
                    User("u5%", role="student", given_name="Per", family_name="Cent_", org_sourced_ids=("sch-1",))]}


def _found(store: Store, text: str, **kw: Any) -> list[tuple[str, str]]:
    return [(p["school"], p["sourced_id"]) for p in store.find_people(text, **kw)]


def test_find_people_by_id_identifier_email_and_name(store: Store) -> None:
    sync(store, PEOPLE)
    sync(store, {"users": [User("u1", role="student", given_name="Ana", family_name="Gar", org_sourced_ids=())]},
         school="dale")
    assert _found(store, "u2") == [(SCHOOL, "u2")]  # sourcedId, exactly
    assert _found(store, "S-100") == [(SCHOOL, "u1")]  # identifier
    assert _found(store, "ana.garcia@example.ORG") == [(SCHOOL, "u1")]  # email, any case
    assert _found(store, "u1") == [("dale", "u1"), (SCHOOL, "u1")]
    assert _found(store, "gar") == [("dale", "u1"), (SCHOOL, "u1"), (SCHOOL, "u2"), (SCHOOL, "u3")]  # family/given
    assert _found(store, "GARN") == [(SCHOOL, "u2")]
    assert _found(store, "García") == [(SCHOOL, "u1")]
    assert _found(store, "ben garner") == [(SCHOOL, "u2")] == _found(store, "Garner,  Ben")
    assert _found(store, "Mary Ann Van") == [(SCHOOL, "u4")] == _found(store, "Van Buren")
    assert _found(store, "mary ann") == [(SCHOOL, "u4")]
    assert _found(store, "Cent_") == [(SCHOOL, "u5%")] and _found(store, "Ce%") == []  # no wildcards
    assert _found(store, "u5%") == [(SCHOOL, "u5%")]
    assert _found(store, "g") == [] and _found(store, "  ") == []  # one letter: exact ids only
    assert _found(store, "gar", school="dale") == [("dale", "u1")]
    assert _found(store, "gar", offset=1, limit=2) == [(SCHOOL, "u1"), (SCHOOL, "u2")]
    [ana] = store.find_people("S-100")
    assert (ana["given_name"], ana["family_name"], ana["role"], ana["email"], ana["deleted_at"]) == (
        "Ana", "García", "student", "Ana.Garcia@Example.org", None)
    sync(store, {"orgs": BASE["orgs"], "users": PEOPLE["users"][1:]})  # u1 leaves: still found, as deleted
    [gone] = store.find_people("S-100")
    assert gone["deleted_at"] is not None


def test_a_persons_row_enrollments_and_history(store: Store) -> None:
    classes = [Class("c1", title="Algebra", course_sourced_id="crs", school_sourced_id="sch-1",
                     term_sourced_ids=("t1",), class_code="ALG", periods=("1", "2")),
               Class("c2", title="Biology", course_sourced_id="crs", school_sourced_id="sch-1",
                     term_sourced_ids=("t1",))]

    def enrol(sid: str, cls: str, who: str = "u1") -> Enrollment:
        return Enrollment(sid, class_sourced_id=cls, school_sourced_id="sch-1", user_sourced_id=who, role="student")

    first, _ = sync(store, {**BASE, "classes": classes, "enrollments": [enrol("e1", "c2"), enrol("e2", "c1"),
                                                                        enrol("e3", "c1", "u2")]})
    renamed, _ = sync(store, {**BASE, "users": [user("u1", "Kim"), *BASE["users"][1:]], "classes": classes,
                              "enrollments": [enrol("e2", "c1"), enrol("e3", "c1", "u2"), enrol("e9", "gone")]})
    person = store.person(SCHOOL, SOURCE, "u1")
    assert person is not None and (person["family_name"], person["created_run"], person["updated_run"]) == (
        "Kim", first, renamed)
    assert json.loads(person["org_sourced_ids"]) == ["sch-1"] and person["deleted_at"] is None
    assert store.person(SCHOOL, SOURCE, "nobody") is None and store.person("dale", SOURCE, "u1") is None

    rows = store.person_enrollments(SCHOOL, SOURCE, "u1")
    assert [(e["sourced_id"], e["class_title"], e["deleted_run"]) for e in rows] == [
        ("e2", "Algebra", None), ("e9", None, None), ("e1", "Biology", renamed)]  # live first, by class title
    algebra = rows[0]
    assert (algebra["class_code"], json.loads(algebra["periods"]), algebra["role"], algebra["created_run"]) == (
        "ALG", ["1", "2"], "student", first)
    assert [e["sourced_id"] for e in store.person_enrollments(SCHOOL, SOURCE, "u1", offset=1, limit=1)] == ["e9"]
    assert store.person_enrollments(SCHOOL, SOURCE, "u3") == []

    history = store.person_changes(SCHOOL, SOURCE, "u1")
    assert [(c["run_id"], c["action"], c["fields"]) for c in history] == [
        (renamed, "update", {"family_name": ["Lee", "Kim"]}), (first, "insert", None)]
    assert store.person_changes(SCHOOL, SOURCE, "u1", before=history[0]["id"]) == history[1:]
    assert store.person_changes(SCHOOL, SOURCE, "u1", limit=1) == history[:1]
    assert store.person_changes("dale", SOURCE, "u1") == []


def test_the_audit_log_records_who_did_what_from_where(store: Store) -> None:
    sync(store, BASE)
    held, _ = sync(store, {"orgs": BASE["orgs"], "users": []}, policy=HOLDING)
    other, _ = sync(store, {"users": [user("x")]}, school="dale")
    store.record_action("discard", actor="ana", origin="web from 127.0.0.1", run_id=held, detail="roster unchanged")
    store.record_action("approve", actor="root", origin="cli on host", run_id=other)
    store.record_action("login", actor="ana", origin="web from 127.0.0.1")
    log = store.actions()
    assert [(a["action"], a["run_id"], a["school"], a["source"], a["actor"]) for a in log] == [
        ("login", None, None, None, "ana"), ("approve", other, "dale", SOURCE, "root"),
        ("discard", held, SCHOOL, SOURCE, "ana")]
    assert log[2]["origin"] == "web from 127.0.0.1" and log[2]["detail"] == "roster unchanged"
    assert log[0]["at"].endswith("Z") and log[0]["at"] >= log[2]["at"]
    assert store.actions(run_id=held) == log[2:]
    assert store.actions(before=log[0]["id"], limit=1) == log[1:2]


# -- schema versions -----------------------------------------------------------------------------------
def test_a_fresh_store_is_at_the_latest_version(store: Store, store_target: str) -> None:
    version = store.schema_version()
    assert version.current == version.latest >= 2 and version.pending == 0
    assert store.upgrade() == []
    store.verify_schema()


def _project(tmp_path: Path, target: str, bundle: Path) -> Path:
    """A config syncing ``bundle`` for school lincoln into ``target``."""
    from rostersync.config import Config

    config = Config.create(tmp_path / "project" / "rostersync.toml")
    config.doc["database"]["url"] = target  # type: ignore[index]
    config.add_school("lincoln", "Lincoln", ("sch-lincoln",))
    config.enable("lincoln", "csv-folder", {"path": str(bundle)})
    config.save()
    return config.path


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([rostersync_exe(), "--config", str(config), *args], capture_output=True, text=True,
                          timeout=300)


def test_a_database_one_version_behind_is_migrated_by_sync(store_target: str, schema_tool: Any, tmp_path: Path,
                                                           bundle: Path) -> None:
    latest = inspect_version(store_target)[1]
    schema_tool.make(store_target, latest - 1)
    assert inspect_version(store_target) == (latest - 1, latest)
    config = _project(tmp_path, store_target, bundle)
    result = _cli(config, "sync", "lincoln", "--json")
    if not backend_for(store_target).upgrades_on_open:  # shared databases upgrade deliberately
        assert result.returncode == 2 and "rostersync db upgrade" in result.stderr, result.stderr
        assert inspect_version(store_target) == (latest - 1, latest)
        upgraded = _cli(config, "db", "upgrade", "--json")
        assert upgraded.returncode == 0 and json.loads(upgraded.stdout)["applied"] == [latest], upgraded.stderr
        result = _cli(config, "sync", "lincoln", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["status"] == "ok"
    assert inspect_version(store_target) == (latest, latest)
    version = _cli(config, "db", "version", "--json")
    assert json.loads(version.stdout)[0]["state"] == "up to date"


def test_a_newer_database_is_refused_and_left_alone(store_target: str, schema_tool: Any, tmp_path: Path,
                                                    bundle: Path) -> None:
    latest = inspect_version(store_target)[1]
    schema_tool.make(store_target, latest)
    schema_tool.stamp(store_target, latest + 3)
    with pytest.raises(ConfigError, match=rf"schema version {latest + 3} is newer than this rostersync "
                                          rf"\({latest}\): upgrade rostersync"):
        open_store(store_target)
    config = _project(tmp_path, store_target, bundle)
    for args in (["sync", "lincoln"], ["db", "upgrade"], ["status"]):
        result = _cli(config, *args)
        assert result.returncode == 2 and "upgrade rostersync" in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr
    assert inspect_version(store_target) == (latest + 3, latest)


def test_a_damaged_schema_is_a_clear_error_not_a_traceback(store_target: str, schema_tool: Any, tmp_path: Path,
                                                           bundle: Path) -> None:
    schema_tool.make(store_target, inspect_version(store_target)[1])
    table, column = schema_tool.damage(store_target)
    config = _project(tmp_path, store_target, bundle)
    result = _cli(config, "sync", "lincoln")
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    assert "damaged" in result.stderr and repr(table) in result.stderr and repr(column) in result.stderr


def inspect_version(target: str) -> tuple[int, int]:
    """(the database's schema version, the latest), read without upgrading anything."""
    with inspect_store(target) as store:
        version = store.schema_version()
    return version.current, version.latest


__all__ = [name for name in dir() if name.startswith("test_")] + ["store", "other"]
