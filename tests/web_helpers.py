"""Shared by the web view's tests: a district with held runs, and the view served for real.

``held_district`` syncs the sample district's two schools, then removes 30% of each school's
students from the export, so the next sync of each is held by the delete safeguard. ``serving`` runs
an app under uvicorn on a free loopback port in a thread of the test process (real HTTP, real
sockets, fast to start); the end-to-end tests run ``rostersync serve`` as a subprocess instead.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from click.testing import Result
from conftest import edit_csv

SCHOOLS = {"lincoln": ("Lincoln Elementary", "sch-lincoln"), "roosevelt": ("Roosevelt Middle", "sch-roosevelt")}


def drop_students(bundle: Path, share: float, orgs: tuple[str, ...]) -> set[str]:
    """Remove ``share`` of each org's students (and their enrollments) from the bundle; return their ids."""
    dropped: set[str] = set()

    def users(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        for org in orgs:
            students = [r["sourcedId"] for r in rows if r["role"] == "student" and r["orgSourcedIds"] == org]
            dropped.update(students[: int(len(students) * share)])
        return [r for r in rows if r["sourcedId"] not in dropped]

    edit_csv(bundle / "users.csv", users)
    edit_csv(bundle / "enrollments.csv", lambda rows: [r for r in rows if r["userSourcedId"] not in dropped])
    return dropped


def held_district(cli: Callable[..., Result], bundle: Path) -> dict[str, Any]:
    """Both sample schools synced, then each held (30% of its students gone from the export).
    Returns the held run ids by school and the dropped students."""
    assert cli("init").exit_code == 0
    for school, (name, org) in SCHOOLS.items():
        assert cli("schools", "add", school, "--name", name, "--org-id", org).exit_code == 0
        assert cli("enable", school, "csv-folder", "--set", f"path={bundle}").exit_code == 0
    assert cli("sync", "--all").exit_code == 0
    dropped = drop_students(bundle, 0.30, tuple(org for _, org in SCHOOLS.values()))
    held = cli("sync", "--all", "--json")
    assert held.exit_code == 3, held.output
    runs = {r["school"]: r["run"] for r in json.loads(held.output)}
    return {"held": runs, "dropped": dropped}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a thread; yield its base URL; stop it afterwards."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", proxy_headers=False, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the web view did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
