"""``rostersync demo``: a first sync of the sample district that ships inside the package."""

from __future__ import annotations

import tempfile
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from rostersync.config import Config
from rostersync.engine import sync_school
from rostersync.output import console, emit, emit_json
from rostersync.progress import entity_progress
from rostersync.store import store_at

if TYPE_CHECKING:
    from rostersync.store.base import Store

SCHOOLS = (("lincoln", "Lincoln Elementary", "sch-lincoln"), ("roosevelt", "Roosevelt Middle", "sch-roosevelt"))


def sample_bundle() -> Path:
    """The sample OneRoster bundle inside the installed package."""
    return Path(str(resources.files("rostersync") / "data" / "sample"))


def run_demo(folder: Path | None, *, as_json: bool = False) -> int:
    folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="rostersync-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    config = Config.create(folder / "rostersync.toml")
    for school_id, name, org_id in SCHOOLS:
        config.add_school(school_id, name, (org_id,))
        config.enable(school_id, "csv-folder", {"path": str(sample_bundle())})
    config.save()
    report = []
    ok = True
    with store_at(config.database, password=config.database_password) as store:
        for school in config.schools().values():
            with entity_progress(school.id, not as_json and console.is_terminal) as progress:
                results = sync_school(store, school, progress_for=lambda _s, _n, p=progress: p)
            ok = ok and all(r.ok for r in results)
            row = {"school": school.id, "name": school.name, "run": results[0].run_id,
                   "status": results[0].status, "error": results[0].error}
            row.update(_people(store, school.id))
            report.append(row)
    if as_json:
        emit_json({"folder": str(folder), "config": str(config.path), "database": str(config.database),
                   "schools": report})
        return 0 if ok else 1
    emit(report, ["school", "name", "status", "students", "teachers", "parents", "classes", "enrollments"],
         as_json=False, title="Demo sync of the sample district")
    console.print(f"\nDemo folder: {folder}\n"
                  f"Try:  cd {folder} && rostersync status && rostersync history && rostersync changes 1 | head")
    return 0 if ok else 1


def _people(store: Store, school: str) -> dict[str, int]:
    roles = Counter(role for (role,) in store.live_rows(school, "users", ["role"]))
    live = store.live_counts(school)
    return {
        "students": roles["student"],
        "teachers": roles["teacher"],
        "parents": roles["parent"] + roles["guardian"],
        "classes": live["classes"],
        "enrollments": live["enrollments"],
    }
