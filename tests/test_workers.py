"""Syncs as jobs on the PostgreSQL queue, run by real ``rostersync worker`` processes.

* two workers and 20 school syncs: all applied, none twice, no two runs of one source overlapping;
* a worker SIGKILLed at each fault point (during fetch, after staging, inside the apply transaction,
  right after the commit): the job is found stalled, retried by another worker and applied exactly
  once, with no duplicate audit rows;
* the periodic dispatcher enqueues each due source once however many workers run;
* finished jobs are purged; a worker refuses an older schema.

Timings are the test's ``[workers]`` settings (a heartbeat every 0.5 s, dead after 2 s, the reaper
every second); nothing here asserts how long anything takes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from queue_helpers import all_done, assert_exactly_once, cli, jobs, make_project, runs, sql, wait_until, workers

pytest_plugins = ("pg_fixtures",)


def test_two_workers_apply_twenty_schools_once_each(pg_store_url: str, tmp_path: Path) -> None:
    config = make_project(tmp_path, pg_store_url, schools=20)
    queued = cli(config, "enqueue", "--all", "--json")
    assert queued.returncode == 0, queued.stderr
    first = json.loads(queued.stdout)
    assert len(first) == 20 and all(r["state"] == "queued" and r["job"] for r in first)
    again = json.loads(cli(config, "enqueue", "--all", "--json").stdout)  # nothing has started yet
    assert [r["state"] for r in again] == ["already queued"] * 20
    assert {r["state"] for r in jobs(config)} == {"queued"}

    with workers(config, tmp_path / "logs") as group:
        group.start(concurrency=2)
        group.start(concurrency=2)
        wait_until(all_done(config, 20), what="20 sync jobs done", logs=group.logs)
        # a second round while the workers run: a source whose job already started is queued again,
        # and its second job waits for the first (never two syncs of one source at once)
        second = json.loads(cli(config, "enqueue", "--all", "--json").stdout)
        extra = [r for r in json.loads(cli(config, "enqueue", "--all", "--json").stdout) if r["job"]]
        wait_until(all_done(config, 40 + len(extra)), what="the second round done", logs=group.logs)
        assert all(r["job"] for r in second)

    listed = jobs(config)
    assert len(listed) == 40 + len(extra) and all(r["run"] and r["run_status"] in ("ok", "skipped") for r in listed)
    all_runs = runs(pg_store_url)
    first_round = [r for r in all_runs if r["job_id"] in {str(r["job"]) for r in first}]
    assert sorted(r["school"] for r in first_round if r["status"] == "ok") == [f"s{n:02d}" for n in range(1, 21)]
    assert_exactly_once(pg_store_url)
    status = json.loads(cli(config, "status", "--json").stdout)
    # the second round found each bundle unchanged: skipped, the roster as the first round left it
    assert {row["users"] for row in status} == {61} and {row["status"] for row in status} == {"skipped"}


@pytest.mark.parametrize("point", ["fetch", "staged", "apply", "committed"])
def test_a_worker_killed_at_any_point_leaves_every_sync_applied_exactly_once(point: str, pg_store_url: str,
                                                                             tmp_path: Path) -> None:
    config = make_project(tmp_path, pg_store_url, schools=2)
    assert cli(config, "enqueue", "--all").returncode == 0
    with workers(config, tmp_path / "logs") as group:
        doomed = group.start(fault=point)
        assert doomed.wait(timeout=120) == -9, group.logs()  # SIGKILLed at the fault point
        killed = [r for r in runs(pg_store_url)]
        if point == "committed":
            assert [r["status"] for r in killed] == ["ok"]
        else:
            assert [r["status"] for r in killed] == ["running"]  # as the dead worker left it
        assert sql(pg_store_url, "SELECT count(*) FROM stage_users") == [(0,)]  # rolled back or never copied
        group.start()
        wait_until(all_done(config, 2), what="both jobs done after the retry", logs=group.logs)

    listed = {r["school"]: r for r in jobs(config)}
    victim = killed[0]
    assert listed[victim["school"]]["attempts"] == 2  # the killed attempt and its retry
    victim_runs = [r for r in runs(pg_store_url) if r["job_id"] == victim["job_id"]]
    if point == "committed":  # the retry found the job applied and did nothing
        assert [r["status"] for r in victim_runs] == ["ok"]
    else:  # the dead attempt's run was recovered as interrupted, the retry applied
        assert [r["status"] for r in victim_runs] == ["failed", "ok"]
        assert victim_runs[0]["error"].startswith("interrupted")
    assert {r["run_status"] for r in listed.values()} == {"ok"}
    assert_exactly_once(pg_store_url)
    counts = sql(pg_store_url, "SELECT school, count(*) FROM users WHERE deleted_at IS NULL GROUP BY 1 ORDER BY 1")
    assert counts == [("s01", 61), ("s02", 61)]  # 30 students, their parents, a teacher


def test_the_dispatcher_enqueues_each_due_source_once_however_many_workers(pg_store_url: str,
                                                                           tmp_path: Path) -> None:
    from queue_helpers import FAST

    # every second a dispatch; the schools' schedule fired last on January 1st and they never ran: due
    config = make_project(tmp_path, pg_store_url, schools=3, schedule="0 0 1 1 *",
                          workers={**FAST, "dispatch": "* * * * * *"})
    with workers(config, tmp_path / "logs") as group:
        group.start()
        group.start()
        wait_until(all_done(config, 3), what="the dispatched syncs", logs=group.logs)
        ticks = wait_until(lambda: sql(pg_store_url, "SELECT count(*) FROM procrastinate_jobs WHERE task_name = "
                                                     "'rostersync.dispatch' AND status = 'succeeded'")[0][0] >= 4,
                           what="four dispatches", logs=group.logs)
        assert ticks
    assert sorted((r["school"], r["status"]) for r in runs(pg_store_url)) == [("s01", "ok"), ("s02", "ok"),
                                                                              ("s03", "ok")]
    # one dispatch job per period although two workers defer periodic tasks
    assert sql(pg_store_url, "SELECT defer_timestamp FROM procrastinate_periodic_defers WHERE task_name = "
                             "'rostersync.dispatch' GROUP BY 1 HAVING count(*) > 1") == []
    assert_exactly_once(pg_store_url)


def test_finished_jobs_are_purged_and_queued_ones_kept(pg_store_url: str, tmp_path: Path) -> None:
    import asyncio

    from rostersync.config import Config
    from rostersync.queue.app import QueueTarget, build_app, purge_finished

    config = make_project(tmp_path, pg_store_url, schools=2)
    assert cli(config, "enqueue", "s01").returncode == 0
    with workers(config, tmp_path / "logs") as group:
        group.start()
        wait_until(all_done(config, 1), what="s01 done", logs=group.logs)
    assert cli(config, "enqueue", "s02").returncode == 0
    target = QueueTarget.of(Config.load(config))

    async def purge() -> None:
        app = build_app(target, worker=True)
        async with app.open_async():
            await purge_finished(app, 0)

    asyncio.run(purge())
    assert [(r["school"], r["state"]) for r in jobs(config)] == [("s02", "queued")]
    assert [r["status"] for r in runs(pg_store_url)] == ["ok"]  # the run outlives its job


def test_a_worker_refuses_an_older_schema_and_a_sqlite_database(pg_database: str, tmp_path: Path) -> None:
    from test_store_postgres import PgSchema

    PgSchema().make(pg_database, 2)
    config = make_project(tmp_path / "a", pg_database, schools=1)
    result = cli(config, "worker")
    assert result.returncode == 2 and "older than this rostersync" in result.stderr
    assert "rostersync db upgrade" in result.stderr
    assert sql(pg_database, "SELECT version FROM rostersync_schema") == [(2,)]  # untouched
    upgraded = cli(config, "db", "upgrade")
    assert upgraded.returncode == 0 and sql(pg_database, "SELECT to_regclass('procrastinate_jobs')::text") == [
        ("procrastinate_jobs",)]

    from rostersync.config import Config

    local = Config.create(tmp_path / "b" / "rostersync.toml")
    refused = cli(local.path, "worker")
    assert refused.returncode == 2 and "workers share a PostgreSQL database" in refused.stderr


def test_worker_settings_are_checked_when_read() -> None:
    from rostersync.errors import ConfigError
    from rostersync.queue.settings import WorkerSettings

    assert WorkerSettings.from_table({}) == WorkerSettings()
    assert WorkerSettings.from_table({"reap": "* * * * * */5", "stalled_after": 2, "heartbeat": 0.5}).heartbeat == 0.5
    with pytest.raises(ConfigError, match=r"\[workers\] dispatch = 'hourly' is not a valid cron expression"):
        WorkerSettings.from_table({"dispatch": "hourly"})
    with pytest.raises(ConfigError, match="unknown setting dispach"):
        WorkerSettings.from_table({"dispach": "* * * * *"})
    with pytest.raises(ConfigError, match=r"stalled_after \(60\) must be at least twice heartbeat \(40\)"):
        WorkerSettings.from_table({"heartbeat": 40})
    with pytest.raises(ConfigError, match="keep_hours must be a positive number"):
        WorkerSettings.from_table({"keep_hours": 0})


def test_enqueue_due_queues_each_due_source_once(pg_store_url: str, tmp_path: Path) -> None:
    config = make_project(tmp_path, pg_store_url, schools=2, schedule="0 0 1 1 *")  # never ran: due
    usage = cli(config, "enqueue")
    assert usage.returncode == 2 and "name one SCHOOL, or pass --all or --due" in usage.stderr
    first = json.loads(cli(config, "enqueue", "--due", "--json").stdout)
    assert [(r["school"], r["state"]) for r in first] == [("s01", "queued"), ("s02", "queued")]
    assert json.loads(cli(config, "enqueue", "--due", "--json").stdout) == []  # queued already: not again
    assert [(r["school"], r["state"], r["run"]) for r in jobs(config)] == [("s02", "queued", None),
                                                                           ("s01", "queued", None)]
