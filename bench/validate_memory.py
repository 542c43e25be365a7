#!/usr/bin/env python3
"""Peak memory of ``rostersync validate`` on a generated district (a benchmark, not a test).

Validate streams a bundle through the same reader, format plugins and staging area as a sync, so its
peak RSS shows whether anything holds a whole file. Runs the installed CLI in a subprocess and reads
the child's peak RSS from wait4; also prints the wall time and RSS per 1,000 students.

usage: bench/validate_memory.py [--students N] [--bundle DIR] [--generator PATH] [--limit-mb 300]
Target (issue 4): < 300 MB at 200,000 students. Exit 1 when the limit is exceeded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from sync_bench import DEFAULT_GENERATOR, bundle_for, rostersync  # the same cached districts


def peak_rss(cmd: list[str]) -> tuple[int, float, int]:
    """(exit code, seconds, peak RSS in bytes) of ``cmd``; its output is discarded."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    return os.waitstatus_to_exitcode(status), seconds, usage.ru_maxrss * 1024  # ru_maxrss is KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200_000)
    parser.add_argument("--bundle", type=Path, help="validate this bundle instead of a generated one")
    parser.add_argument("--generator", type=Path, default=DEFAULT_GENERATOR)
    parser.add_argument("--limit-mb", type=float, default=300.0)
    args = parser.parse_args()
    bundle = args.bundle or bundle_for(args.students, args.generator)
    code, seconds, rss = peak_rss([rostersync(), "validate", str(bundle), "--json"])
    mb = rss / 1e6
    print(f"rostersync validate {bundle}")
    print(f"  exit code   {code}")
    print(f"  wall time   {seconds:.1f} s")
    print(f"  peak RSS    {mb:.0f} MB (limit {args.limit_mb:.0f} MB)")
    if not args.bundle:
        print(f"  per 1,000 students  {mb / (args.students / 1000):.2f} MB")
    return 0 if mb < args.limit_mb and code in (0, 1) else 1


if __name__ == "__main__":
    sys.exit(main())
