#!/usr/bin/env python3
"""How fast the web view's dashboard renders for a district of 1,000 schools (issue 22: < 300 ms).

Generates (once, cached under bench/.cache/) a config of SCHOOLS schools, each with a csv-folder
source and every tenth one an oneroster-api source too, and a database whose roster was applied
through the store (STUDENTS users per school) with HISTORY nightly runs per source (a mix of ok and
skipped, the newest held for 2% and failed for 1% of sources). Then starts ``rostersync serve`` (a
real uvicorn server) and times requests over HTTP on loopback: the first dashboard after start
(config parsed, database opened), then REPEAT of each page: the dashboard's first page, a later page,
the needs-attention filter, the holds page and a people search.

usage: bench/web_dashboard.py [--schools 1000] [--students 300] [--history 30] [--repeat 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def rostersync() -> str:
    exe = shutil.which("rostersync", path=os.path.dirname(sys.executable)) or shutil.which("rostersync")
    if not exe:
        sys.exit("rostersync is not installed in this environment (pip install -e '.[web]')")
    return exe


def generate(folder: Path, schools: int, students: int, history: int) -> None:
    """The config and database of the benchmark district (written to ``folder``)."""
    import datetime as dt

    from rostersync.batches import MappedBatch
    from rostersync.config import Config
    from rostersync.model import Org, User
    from rostersync.store import store_at
    from rostersync.store.base import ApplyPolicy

    config = Config.create(folder / "rostersync.toml")
    for n in range(schools):
        sid = f"school-{n:04d}"
        config.add_school(sid, f"School {n:04d}", (f"org-{n:04d}",))
        config.enable(sid, "csv-folder", {"path": f"/srv/sftp/{sid}"}, schedule=f"{n % 60} {1 + n % 4} * * *")
        if n % 10 == 0:
            config.enable(sid, "oneroster-api", {"base_url": "https://sis.example/ims/oneroster/v1p1",
                                                 "token_url": "https://sis.example/token", "client_id": sid,
                                                 "client_secret": "env:SIS_SECRET"})
    config.save()
    start = dt.datetime(2026, 10, 1, 2, 0, tzinfo=dt.UTC)
    with store_at(config.database) as store:
        for n in range(schools):
            sid = f"school-{n:04d}"
            run_id = store.begin_run(sid, "csv-folder")
            staging = store.staging(run_id)
            users = [User(f"{sid}-stu-{i:05d}", role="student", given_name=f"Given{i % 97}",
                          family_name=f"Family{(n * 7 + i) % 1013}", identifier=f"{n:04d}{i:05d}",
                          email=f"s{i}@{sid}.example.org", org_sourced_ids=(f"org-{n:04d}",)) for i in range(students)]
            staging.write(MappedBatch("orgs", "orgs.csv", [Org(f"org-{n:04d}", name=sid, type="school")], "bulk",
                                      lines=[2]))
            staging.write(MappedBatch("users", "users.csv", users, "bulk", lines=list(range(2, students + 2))))
            staging.finish()
            store.apply(run_id, sid, "csv-folder", staging, ApplyPolicy(safeguards=None))
        conn = store.conn  # type: ignore[attr-defined]  # the history is plain rows: SQLite's own insert
        rows = []
        for day in range(1, history):
            at = (start + dt.timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            for n in range(schools):
                sources = ["csv-folder"] + (["oneroster-api"] if n % 10 == 0 else [])
                for source in sources:
                    last = day == history - 1
                    status = ("held" if last and n % 50 == 7 else "failed" if last and n % 100 == 3
                              else "ok" if day % 3 == 0 else "skipped")
                    counts = {"users": {"current": students, "fetched": students, "inserted": 0, "updated": n % 5,
                                        "deleted": 40 if status == "held" else 0, "unchanged": students}} \
                        if status in ("ok", "held") else {}
                    error = {"held": "users: would delete 40 of 300 rows (13.3% > 10%)",
                             "failed": "users.csv:7:role: 'wizard' is not a role",
                             "skipped": "the drop is the one imported last"}.get(status)
                    rows.append((sid_of(n), source, at, at, status, json.dumps(counts), error, "{}", 0, "mirror"))
        with conn:
            conn.executemany("INSERT INTO sync_runs (school, source, started_at, finished_at, status, counts, error, "
                             "state, warnings, mode) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def sid_of(n: int) -> str:
    return f"school-{n:04d}"


def district(schools: int, students: int, history: int) -> Path:
    folder = HERE / ".cache" / f"web-{schools}x{students}x{history}"
    if not (folder / "done").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        began = time.perf_counter()
        generate(folder, schools, students, history)
        (folder / "done").write_text("")
        print(f"generated {folder} in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    return folder


def timed(client: object, path: str, repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(path)  # type: ignore[attr-defined]
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 1), "p95_ms": round(samples[int(len(samples) * .95) - 1], 1),
            "best_ms": round(samples[0], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--students", type=int, default=300, help="users per school")
    parser.add_argument("--history", type=int, default=30, help="runs per source")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import httpx

    folder = district(args.schools, args.students, args.history)
    with sqlite3.connect(folder / "rostersync.db") as conn:
        runs, sources = conn.execute(
            "SELECT count(*), count(DISTINCT school || '/' || source) FROM sync_runs").fetchone()
    report: dict[str, Any] = {"schools": args.schools, "sources": sources, "runs": runs,
                              "users": args.schools * args.students}
    began = time.perf_counter()
    proc = subprocess.Popen([rostersync(), "--config", str(folder / "rostersync.toml"), "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"http://[^ ]+/", line)
        if not match:
            sys.exit(f"serve did not start: {line}{proc.stderr.read() if proc.stderr else ''}")
        report["start_ms"] = round((time.perf_counter() - began) * 1000)  # process, plugins, config, database
        with httpx.Client(base_url=match[0], timeout=60) as client:
            began = time.perf_counter()
            first = client.get("/")
            report["first_dashboard_ms"] = round((time.perf_counter() - began) * 1000, 1)
            assert first.status_code == 200
            report["rows_on_page"] = len(re.findall(r'<tr class="row-', first.text))
            pages = {"dashboard": "/", "dashboard page 12": "/?page=12", "needs attention": "/?status=attention",
                     "holds": "/holds", "people search": "/people?q=Family10"}
            report["pages"] = {name: timed(client, path, args.repeat) for name, path in pages.items()}
    finally:
        proc.terminate()
        proc.wait(30)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['schools']:,} schools, {report['sources']:,} sources, {report['runs']:,} runs, "
          f"{report['users']:,} users; {report['rows_on_page']} rows a dashboard page")
    print(f"serve started in {report['start_ms']} ms; first dashboard {report['first_dashboard_ms']:.0f} ms")
    print(f"{'page':<22}{'median ms':>11}{'p95 ms':>9}{'best ms':>9}   (over {args.repeat} requests)")
    for name, t in report["pages"].items():
        print(f"{name:<22}{t['median_ms']:>11.1f}{t['p95_ms']:>9.1f}{t['best_ms']:>9.1f}")


if __name__ == "__main__":
    main()
