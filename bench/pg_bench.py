#!/usr/bin/env python3
"""PostgreSQL store and workers: throughput of many schools with 1 and 2 worker processes, and one
school's first sync on PostgreSQL against SQLite, on this machine, in one run.

A private PostgreSQL server (Debian's packages, PostgreSQL's default durability: fsync and synchronous
commits on) is started on 127.0.0.1 for the run (rostersync.testing.postgres; as root it runs as the
postgres user). Every school syncs the same generated bundle (tests/synthetic.py, cached under
bench/.cache): rows are keyed by school, so each is a roster of its own.

1. one school's first sync, ``rostersync sync`` in a subprocess: into a fresh SQLite file, and into a
   fresh PostgreSQL database (each the best of --repeat runs);
2. ``rostersync enqueue --all`` of --schools schools on a fresh database, then 1 (then 2) ``rostersync
   worker`` processes (--concurrency 1 each) until every job is done: wall time from the first worker's
   start, schools per minute, staged rows per second.

usage: bench/pg_bench.py [--schools 50] [--students 5000] [--repeat 3] [--no-fsync] [--json]
Benchmarks, not tests: nothing here passes or fails; it prints a table (and the machine's load).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))


def rostersync() -> str:
    exe = shutil.which("rostersync", path=os.path.dirname(sys.executable)) or shutil.which("rostersync")
    if not exe:
        sys.exit("rostersync is not installed in this environment (pip install -e '.[postgres]')")
    return exe


def bundle_for(students: int) -> Path:
    from synthetic import write_district

    folder = HERE / ".cache" / f"school-{students}"
    if not (folder / "manifest.csv").exists():
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        write_district(tmp, students, schools=1)
        tmp.rename(folder)
    return folder


def rows_in(bundle: Path) -> int:
    return sum(max(0, sum(1 for _ in p.open(encoding="utf-8")) - 1) for p in bundle.glob("*.csv")
               if p.name != "manifest.csv")


def project(folder: Path, database: str | None, bundle: Path, schools: int) -> Path:
    from rostersync.config import Config

    config = Config.create(folder / "rostersync.toml")
    if database:
        config.doc["database"]["url"] = database  # type: ignore[index]
    for n in range(1, schools + 1):
        config.add_school(f"s{n:03d}", f"School {n}", ())
        config.enable(f"s{n:03d}", "csv-folder", {"path": str(bundle)})
    config.save()
    return config.path


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([rostersync(), "--config", str(config), *args], capture_output=True, text=True)
    if result.returncode not in (0, 3):
        sys.exit(f"rostersync {' '.join(args)} failed: {result.stderr[-2000:]}")
    return result


def first_sync(server: object, bundle: Path, store: str, repeat: int, work: Path) -> float:
    best = float("inf")
    for attempt in range(repeat):
        folder = work / f"one-{store}-{attempt}"
        database = None
        if store == "postgresql":
            database = server.create_database(f"one_{attempt}")  # type: ignore[attr-defined]
        config = project(folder, database, bundle, 1)
        if database:
            run(config, "db", "upgrade")
        start = time.perf_counter()
        run(config, "sync", "s001")
        best = min(best, time.perf_counter() - start)
    return best


def server_cpu(server: object) -> float:
    """CPU seconds the PostgreSQL server has used so far: the postmaster's own and its exited children's
    (every connection is a child process, reaped by the postmaster)."""
    pid = (server.data / "postmaster.pid").read_text().split()[0]  # type: ignore[attr-defined]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


def workers_run(server: object, bundle: Path, schools: int, processes: int, work: Path) -> dict[str, float]:
    """Wall time until every job is done, and the CPU seconds the workers and the server used."""
    import resource

    import psycopg

    database = server.create_database(f"many_{processes}")  # type: ignore[attr-defined]
    config = project(work / f"many-{processes}", database, bundle, schools)
    run(config, "db", "upgrade")
    run(config, "enqueue", "--all")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    pg_before = server_cpu(server)
    start = time.perf_counter()
    procs = [subprocess.Popen([rostersync(), "--config", str(config), "worker"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for _ in range(processes)]
    try:
        with psycopg.connect(database, autocommit=True) as conn:  # polled in-process: no CLI competing for CPU
            while conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'rostersync.sync' "
                               "AND status IN ('todo', 'doing')").fetchone()[0]:
                time.sleep(0.25)
        elapsed = time.perf_counter() - start
        pg_cpu = server_cpu(server) - pg_before
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    listed = json.loads(run(config, "jobs", "--json", "--limit", str(schools * 2)).stdout)
    bad = [j for j in listed if j["state"] != "done" or j["run_status"] != "ok"]
    if len(listed) != schools or bad:
        sys.exit(f"{len(bad)} of {len(listed)} jobs did not apply: {bad[:3]}")
    return {"seconds": elapsed, "worker_cpu": worker_cpu, "server_cpu": pg_cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=50)
    parser.add_argument("--students", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-fsync", action="store_true",
                        help="Run the server without fsync (as the tests do), to tell disk waits from CPU.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from rostersync.testing.postgres import LocalPostgres

    bundle = bundle_for(args.students)
    rows = rows_in(bundle)
    load_before = os.getloadavg()
    server = LocalPostgres(durable=not args.no_fsync).start()
    work = Path(tempfile.mkdtemp(prefix="rostersync-pgbench-"))
    try:
        sqlite_one = first_sync(server, bundle, "sqlite", args.repeat, work)
        pg_one = first_sync(server, bundle, "postgresql", args.repeat, work)
        many = {n: workers_run(server, bundle, args.schools, n, work) for n in (1, 2)}
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()
    result = {
        "students": args.students, "rows_per_school": rows, "schools": args.schools, "cores": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in load_after],
        "first_sync_sqlite_s": round(sqlite_one, 2), "first_sync_postgresql_s": round(pg_one, 2),
        "workers": {n: {k: round(v, 1) for k, v in m.items()} for n, m in many.items()},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"machine: {os.cpu_count()} cores; load average (1/5/15 min) before {load_before[0]:.2f}/"
          f"{load_before[1]:.2f}/{load_before[2]:.2f}, after {load_after[0]:.2f}/{load_after[1]:.2f}/"
          f"{load_after[2]:.2f}")
    print(f"one school = {args.students:,} students, {rows:,} rows\n")
    print("| what | store | wall | rate | CPU: workers + server |\n|---|---|---|---|---|")
    print(f"| one school's first sync | SQLite | {sqlite_one:.2f} s | {rows / sqlite_one:,.0f} rows/s | |")
    print(f"| one school's first sync | PostgreSQL | {pg_one:.2f} s ({pg_one / sqlite_one:.2f}x SQLite) | "
          f"{rows / pg_one:,.0f} rows/s | |")
    for n, m in many.items():
        seconds = m["seconds"]
        print(f"| {args.schools} schools, {n} worker process{'es' if n > 1 else ''} | PostgreSQL | {seconds:.1f} s "
              f"| {args.schools / seconds * 60:.1f} schools/min, {args.schools * rows / seconds:,.0f} rows/s "
              f"| {m['worker_cpu']:.0f} s + {m['server_cpu']:.0f} s "
              f"({(m['worker_cpu'] + m['server_cpu']) / seconds:.2f} cores busy) |")
    print(f"\n2 workers vs 1: {many[1]['seconds'] / many[2]['seconds']:.2f}x the throughput")

if __name__ == "__main__":
    main()
