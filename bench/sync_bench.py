#!/usr/bin/env python3
"""Sync speed and memory against the floor, measured in one run on this machine.

Floor: what SQLite itself needs to take the same files, `sqlite3` `.import` of every CSV into a fresh
database in one transaction. Then, through the real CLI (a subprocess each, peak RSS from wait4):
(1) a first full sync into an empty database, (2) a no-change re-sync, (3) a re-sync with 1% of users
and enrollments changed and 0.5% removed. Also times `rostersync connectors list`.

usage: bench/sync_bench.py [--students N] [--json] [--keep] [--generator PATH]
Targets (issue 8): each sync <= 2.0x floor at 1M students, peak RSS <= 300 MB, connectors list <= 300 ms.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_GENERATOR = HERE.parent.parent / "shared" / "tools" / "gen_oneroster.py"


def rostersync() -> str:
    exe = shutil.which("rostersync", path=os.path.dirname(sys.executable)) or shutil.which("rostersync")
    if not exe:
        sys.exit("rostersync is not installed in this environment (pip install -e .)")
    return exe


def bundle_for(students: int, generator: Path) -> Path:
    """Generate (once, cached under bench/.cache) a district of ``students`` students."""
    folder = HERE / ".cache" / f"district-{students}"
    if not (folder / "enrollments.csv").exists():
        if not generator.exists():
            sys.exit(f"generator not found: {generator} (pass --generator)")
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run([sys.executable, str(generator), str(tmp), str(students)], check=True)
        tmp.rename(folder)
    return folder


def wall(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Seconds one command takes, wall clock."""
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def installed_env() -> dict[str, str]:
    """The environment of an installed rostersync: Python may cache compiled modules, as it does after
    ``pip install`` (which compiles them). A shell with PYTHONDONTWRITEBYTECODE set would make every
    start-up recompile ~100 modules and time the compiler, not rostersync."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def peak_rss(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, stdout) of one command; the child's own peak RSS comes from wait4."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out_chunks = []
    assert proc.stdout is not None
    for chunk in iter(lambda: proc.stdout.read(65536), b""):
        out_chunks.append(chunk)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        err = proc.stderr.read().decode() if proc.stderr else ""
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, b"".join(out_chunks).decode()


def floor(bundle: Path, work: Path) -> float:
    """sqlite3 .import of every CSV into a fresh database, in one transaction."""
    db = work / "floor.db"
    script = ["BEGIN;"] + [f".import --csv {f} {f.stem}" for f in sorted(bundle.glob("*.csv"))] + ["COMMIT;"]
    start = time.perf_counter()
    subprocess.run(["sqlite3", str(db)], input="\n".join(script), text=True, check=True)
    return time.perf_counter() - start


def change_bundle(src: Path, dst: Path) -> None:
    """Copy ``src`` with 1% of users and enrollments changed and 0.5% of them removed."""
    shutil.copytree(src, dst)
    for name, column in (("users.csv", "familyName"), ("enrollments.csv", "endDate")):
        with (src / name).open(newline="", encoding="utf-8") as fin, (dst / name).open(
                "w", newline="", encoding="utf-8") as fout:
            reader = csv.reader(fin)
            writer = csv.writer(fout)
            header = next(reader)
            writer.writerow(header)
            col = header.index(column)
            for i, row in enumerate(reader):
                if i % 200 == 7:
                    continue  # 0.5% removed
                if i % 100 == 3:
                    row[col] = "Changed" if column == "familyName" else "2027-06-01"
                writer.writerow(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=200_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--generator", type=Path, default=DEFAULT_GENERATOR)
    args = parser.parse_args()

    bundle = bundle_for(args.students, args.generator)
    work = Path(tempfile.mkdtemp(prefix="rostersync-bench-"))
    exe = rostersync()
    try:
        live = work / "live"
        shutil.copytree(bundle, live)
        project = work / "project"
        project.mkdir()
        run = [exe, "--config", str(project / "rostersync.toml")]
        subprocess.run([*run, "init"], check=True, capture_output=True)
        subprocess.run([*run, "schools", "add", "district", "--name", "District"], check=True, capture_output=True)
        subprocess.run([*run, "enable", "district", "csv-folder", "--set", f"path={live}"], check=True,
                       capture_output=True)
        rows = sum(max(0, sum(1 for _ in f.open(encoding="utf-8")) - 1) for f in bundle.glob("*.csv"))

        floor_s = floor(bundle, work)
        results = []
        for label in ("first full sync", "no-change re-sync", "1% changed, 0.5% removed"):
            if label.startswith("1%"):
                shutil.rmtree(live)
                change_bundle(bundle, live)
            seconds, rss, out = peak_rss([*run, "sync", "district", "--json"], project)
            counts = json.loads(out)[0]["counts"]
            written = sum(c.get(k, 0) for c in counts.values() for k in ("inserted", "updated", "restored", "deleted"))
            results.append({"step": label, "seconds": round(seconds, 2), "ratio": round(seconds / floor_s, 2),
                            "peak_rss_mb": round(rss, 1), "rows_written": written})
        wall([exe, "connectors", "list"], project, installed_env())  # compiles and caches the modules once
        listing = min(wall([exe, "connectors", "list"], project, installed_env()) for _ in range(5))
        report = {"students": args.students, "rows": rows, "floor_seconds": round(floor_s, 2),
                  "steps": results, "connectors_list_ms": round(listing * 1000),
                  "connectors": len(json.loads(subprocess.run([exe, "connectors", "list", "--json"], cwd=project,
                                                             check=True, capture_output=True).stdout))}
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            print(f"{args.students:,} students, {rows:,} rows; floor (sqlite3 .import, one transaction): "
                  f"{floor_s:.2f} s")
            print(f"{'step':<28}{'seconds':>9}{'x floor':>9}{'peak RSS MB':>13}{'rows written':>14}")
            for r in results:
                print(f"{r['step']:<28}{r['seconds']:>9.2f}{r['ratio']:>9.2f}{r['peak_rss_mb']:>13.1f}"
                      f"{r['rows_written']:>14,}")
            print(f"rostersync connectors list: {report['connectors_list_ms']} ms (best of 5, "
                  f"{report['connectors']} connectors)")
    finally:
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
