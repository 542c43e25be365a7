"""Helpers for the worker tests: a project of small generated schools on a PostgreSQL database, worker
processes (the real ``rostersync worker``, which a test can SIGKILL or stop), and what the database
says about runs, changes and jobs."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import rostersync_exe
from synthetic import write_district

#: worker timings for tests: a dead worker is noticed in seconds, not a minute
FAST = {"heartbeat": 0.5, "stalled_after": 2, "reap": "* * * * * *", "dispatch": "0 0 1 1 *"}


def make_project(folder: Path, url: str, schools: int, students: int = 30, schedule: str = "0 2 * * *",
                 workers: dict[str, Any] | None = None) -> Path:
    """A config with ``schools`` schools s01.. each syncing its own generated bundle; its path."""
    from rostersync.config import Config

    config = Config.create(folder / "rostersync.toml")
    config.doc["database"]["url"] = url  # type: ignore[index]
    for key, value in (workers or FAST).items():
        config.doc.setdefault("workers", {})[key] = value  # type: ignore[index]
    for n in range(1, schools + 1):
        school = f"s{n:02d}"
        bundle = write_district(folder / "bundles" / school, students, schools=1)
        config.add_school(school, f"School {n}", ())
        config.enable(school, "csv-folder", {"path": str(bundle)}, schedule)
    config.save()
    return config.path


def cli(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([rostersync_exe(), "--config", str(config), *args], capture_output=True, text=True,
                            timeout=300, env={**os.environ, **(env or {})})
    assert "Traceback" not in result.stderr, result.stderr
    return result


class Workers:
    """``rostersync worker`` processes of one project; every one still running is stopped on close."""

    def __init__(self, config: Path, log_dir: Path) -> None:
        self.config = config
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, concurrency: int = 1, fault: str | None = None) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if k != "ROSTERSYNC_FAULT"}
        if fault:
            env["ROSTERSYNC_FAULT"] = fault
        log = (self.log_dir / f"worker-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen([rostersync_exe(), "--config", str(self.config), "-v", "worker", "--concurrency",
                                 str(concurrency)], stdout=log, stderr=subprocess.STDOUT, env=env)
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("worker-*.log")))

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def workers(config: Path, log_dir: Path) -> Iterator[Workers]:
    log_dir.mkdir(parents=True, exist_ok=True)
    group = Workers(config, log_dir)
    try:
        yield group
    finally:
        group.close()


def wait_until(check: Callable[[], Any], timeout: float = 120, what: str = "", logs: Callable[[], str] = str
               ) -> Any:
    """Poll ``check`` until it returns something true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{logs()[-6000:]}")
        time.sleep(0.2)


def sql(url: str, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(query, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def jobs(config: Path) -> list[dict[str, Any]]:
    result = cli(config, "jobs", "--json", "--limit", "1000")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def all_done(config: Path, expected: int) -> Callable[[], bool]:
    def check() -> bool:
        rows = jobs(config)
        return len(rows) >= expected and all(r["state"] == "done" for r in rows)
    return check


def runs(url: str) -> list[dict[str, Any]]:
    names = ("id", "school", "source", "started_at", "finished_at", "status", "job_id", "error")
    rows = sql(url, f"SELECT {', '.join(names)} FROM sync_runs ORDER BY id")
    return [dict(zip(names, row, strict=True)) for row in rows]


def assert_exactly_once(url: str) -> None:
    """Every sync job applied once: at most one ok run per job; no run of a source overlapping
    another; no duplicate audit rows; nothing left in staging, no lease, no advisory lock."""
    all_runs = runs(url)
    applied: dict[str, list[int]] = {}
    for run in all_runs:
        if run["status"] == "ok" and run["job_id"]:
            applied.setdefault(run["job_id"], []).append(run["id"])
    assert all(len(ids) == 1 for ids in applied.values()), applied
    by_source: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in all_runs:
        by_source.setdefault((run["school"], run["source"]), []).append(run)
    for source, source_runs in by_source.items():
        ordered = sorted(source_runs, key=lambda r: r["started_at"])
        for before, after in itertools.pairwise(ordered):
            if before["error"] and before["error"].startswith("interrupted"):
                continue  # a killed attempt: its finish time is when the retry recovered it
            assert before["finished_at"] and before["finished_at"] <= after["started_at"], (source, before, after)
    assert sql(url, "SELECT run_id, entity, sourced_id, count(*) FROM changes GROUP BY 1, 2, 3 "
                    "HAVING count(*) > 1") == []
    assert sql(url, "SELECT school, entity, sourced_id, count(*) FROM changes WHERE action = 'insert' "
                    "GROUP BY 1, 2, 3 HAVING count(*) > 1") == []
    assert sql(url, "SELECT count(*) FROM stage_users") == [(0,)]
    assert sql(url, "SELECT count(*) FROM source_locks") == [(0,)]
    assert sql(url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == [(0,)]
