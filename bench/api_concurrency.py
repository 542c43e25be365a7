"""Benchmark (not a test): concurrent vs sequential paging of a OneRoster API sync.

A generated district of 20k students (``gen_oneroster.py``) is served by the loopback simulator
(``rostersync simulate``, in its own process as a real server would be) with 20 ms of added latency
per request, then synced twice into fresh databases through the
``oneroster-api`` connector: once with ``concurrency=1`` (pages one after another) and once with
``concurrency=N``. The same run also times the fetch alone (pages without mapping or storing), so
the paging gain is visible apart from the fixed local cost of mapping and staging.

    python bench/api_concurrency.py [--students 20000] [--latency 0.02] [--concurrency 16] [--page-size 100]

Prints both timings and their ratio (target: >= 5x).
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rostersync.api.settings import OneRosterApiSettings
from rostersync.api.source import ENDPOINTS, ApiSource
from rostersync.config import Config
from rostersync.engine import sync_school
from rostersync.gcpause import fewer_collections
from rostersync.process import tune
from rostersync.secrets import SecretRef
from rostersync.store import store_at

SECRET_ENV = "ROSTERSYNC_BENCH_SECRET"
GENERATOR_PLACES = ("/work/shared/tools/gen_oneroster.py", "../shared/tools/gen_oneroster.py")


def settings(sim: dict[str, str], concurrency: int, page_size: int) -> dict[str, Any]:
    return {"base_url": sim["base_url"], "token_url": sim["token_url"], "client_id": "bench",
            "client_secret": f"env:{SECRET_ENV}", "concurrency": concurrency, "page_size": page_size}


def start_simulator(bundle: Path, latency: float) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """``rostersync simulate`` on a free port; returns the process and its URLs."""
    exe = Path(sys.executable).with_name("rostersync")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "250", "ROSTERSYNC_SIM_SECRET": os.environ[SECRET_ENV]}
    proc = subprocess.Popen([str(exe), "simulate", "--port", "0", "--data", str(bundle), "--client-id", "bench",
                             "--behaviour", f"latency={latency}"], stdout=subprocess.PIPE, text=True, env=env)
    urls: dict[str, str] = {}
    assert proc.stdout is not None
    while len(urls) < 2:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("rostersync simulate stopped before it served")
        if "API: " in line:
            urls["base_url"] = line.split("API: ", 1)[1].strip()
        elif line.startswith("token URL: "):
            urls["token_url"] = line.split(": ", 1)[1].strip()
    return proc, urls


def timed_sync(folder: Path, sim: dict[str, str], concurrency: int, page_size: int) -> tuple[float, int]:
    config = Config.create(folder / "rostersync.toml")
    config.add_school("district", "Synthetic USD", ())
    config.enable("district", "oneroster-api", settings(sim, concurrency, page_size))
    config.save()
    with store_at(config.database) as store, fewer_collections():  # as the CLI runs syncs
        start = time.perf_counter()
        [result] = sync_school(store, config.school("district"))
        elapsed = time.perf_counter() - start
    if not result.ok:
        raise SystemExit(f"sync failed: {result.error}")
    return elapsed, sum(c["fetched"] for c in result.counts.values())


def timed_fetch(sim: dict[str, str], concurrency: int, page_size: int) -> tuple[float, int, int]:
    values = {**settings(sim, concurrency, page_size), "client_secret": SecretRef(f"env:{SECRET_ENV}")}
    options = OneRosterApiSettings(**values)
    start, rows, pages = time.perf_counter(), 0, 0
    with ApiSource(options) as source:
        for endpoint in ENDPOINTS[:-1]:
            for page in source.entity_pages(endpoint, (), {}):
                rows, pages = rows + len(page.rows), pages + 1
    return time.perf_counter() - start, rows, pages


def main() -> None:
    tune()  # the process-wide settings the rostersync command applies at start-up
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every response")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--generator", help="path to gen_oneroster.py")
    args = parser.parse_args()
    generator = args.generator or next((p for p in GENERATOR_PLACES if Path(p).is_file()), None)
    if generator is None:
        raise SystemExit("gen_oneroster.py not found: pass --generator PATH")
    with tempfile.TemporaryDirectory(prefix="rostersync-bench-api-") as tmp:
        work = Path(tmp)
        subprocess.run([sys.executable, generator, str(work / "bundle"), str(args.students)], check=True)
        os.environ[SECRET_ENV] = secrets.token_urlsafe(24)
        proc, sim = start_simulator(work / "bundle", args.latency)
        try:
            print(f"{args.students} students, {args.latency * 1000:g} ms added per request, "
                  f"page size {args.page_size}, concurrency {args.concurrency}")
            seq_fetch, rows, pages = timed_fetch(sim, 1, args.page_size)
            par_fetch, rows2, _ = timed_fetch(sim, args.concurrency, args.page_size)
            assert rows == rows2, (rows, rows2)
            print(f"fetch only ({rows} rows, {pages} pages): sequential {seq_fetch:.1f} s, "
                  f"concurrent {par_fetch:.1f} s, ratio {seq_fetch / par_fetch:.1f}x")
            seq, fetched = timed_sync(work / "sequential", sim, 1, args.page_size)
            par, fetched2 = timed_sync(work / "concurrent", sim, args.concurrency, args.page_size)
            assert fetched == fetched2, (fetched, fetched2)
            print(f"full sync ({fetched} rows): sequential {seq:.1f} s, concurrent {par:.1f} s, "
                  f"ratio {seq / par:.1f}x (target >= 5x)")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
