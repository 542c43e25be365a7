"""One sync run: fetch -> map -> (scope) -> load into staging -> apply, for one source of one school.

Hooks are called per batch. Any failure before apply commits discards the staging area and records
the run as failed with its error; the live roster is untouched.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from rostersync.config import EnabledConnector, School
from rostersync.connector import FetchContext, structure_settings
from rostersync.errors import ConfigError, NothingNew, RostersyncError, SourceError
from rostersync.plugins import get_connector, pm
from rostersync.scope import Scope
from rostersync.store.sqlite import Store

#: progress(entity, rows) is called after each staged batch (rows may be 0 for an empty file).
Progress = Callable[[str, int], None]


@attrs.frozen
class RunResult:
    run_id: int
    school: str
    source: str
    status: str
    counts: dict[str, dict[str, int]] = attrs.Factory(dict)
    error: str | None = None
    warnings: int = 0

    @property
    def ok(self) -> bool:
        """The run did what it should: applied, or rightly skipped (nothing new)."""
        return self.status in ("ok", "skipped")


def sync_source(store: Store, school: School, enabled: EnabledConnector, *, full: bool = False,
                progress: Progress | None = None) -> RunResult:
    """Run one sync of ``enabled`` for ``school``. Returns the result; raises only for bugs."""
    connector = get_connector(enabled.name)
    settings = structure_settings(connector, enabled.settings)
    run_id = store.begin_run(school.id, enabled.name)
    staging = store.staging(run_id)
    try:
        with tempfile.TemporaryDirectory(prefix=f"rostersync-run{run_id}-") as work:
            context = FetchContext(
                school_id=school.id, source=enabled.name, settings=settings, org_ids=school.org_ids,
                work_dir=Path(work), state=store.last_state(school.id, enabled.name), full=full,
            )
            batches = pm.hook.rostersync_fetch(connector=connector, context=context)
            if batches is None:
                raise ConfigError(f"no installed transport fetches connectors of kind {connector.kind!r}")
            scope = Scope(school.org_ids)
            for raw in batches:
                mapped = pm.hook.rostersync_map(batch=raw)
                if mapped is None:
                    raise SourceError(f"no installed format plugin reads {raw.format!r}", raw.location)
                mapped = scope.filter(mapped, staging)
                if pm.hook.rostersync_load(staging=staging, batch=mapped) is None:
                    raise ConfigError("no installed destination plugin accepted the batch")
                if progress:
                    progress(mapped.entity, len(mapped.records))
            staging.warn(context.warnings)
            counts = store.apply(run_id, school.id, enabled.name, staging, context.next_state)
            for message in context.run_after_success():
                store.add_warning(run_id, message)
        run = store.run(run_id) or {}
        return RunResult(run_id, school.id, enabled.name, "ok", counts, warnings=run.get("warnings") or 0)
    except NothingNew as exc:
        staging.discard()
        store.skip_run(run_id, str(exc))
        return RunResult(run_id, school.id, enabled.name, "skipped", error=str(exc))
    except RostersyncError as exc:
        staging.discard()
        store.fail_run(run_id, str(exc))
        return RunResult(run_id, school.id, enabled.name, "failed", error=str(exc))
    except BaseException as exc:
        staging.discard()
        store.fail_run(run_id, f"internal error: {type(exc).__name__}: {exc}")
        raise


def check_source(store: Store, school: School, enabled: EnabledConnector) -> list[Any]:
    """Run the connector's checks (reach, auth, required files) without touching the roster."""
    connector = get_connector(enabled.name)
    settings = structure_settings(connector, enabled.settings)
    with tempfile.TemporaryDirectory(prefix="rostersync-check-") as work:
        context = FetchContext(school_id=school.id, source=enabled.name, settings=settings,
                               org_ids=school.org_ids, work_dir=Path(work),
                               state=store.last_state(school.id, enabled.name))
        steps = pm.hook.rostersync_check(connector=connector, context=context)
    if steps is None:
        raise ConfigError(f"no installed transport can check connectors of kind {connector.kind!r}")
    return list(steps)


def sync_school(store: Store, school: School, *, full: bool = False,
                progress_for: Callable[[School, str], Progress | None] | None = None) -> list[RunResult]:
    """Sync every connector enabled for ``school``, one run each."""
    if not school.connectors:
        raise ConfigError(f"school {school.id!r} has no connector enabled (rostersync enable {school.id} ...)")
    results = []
    for enabled in school.connectors.values():
        progress = progress_for(school, enabled.name) if progress_for else None
        results.append(sync_source(store, school, enabled, full=full, progress=progress))
    return results


def summarise(counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Totals over entities, for one-line reports."""
    keys = ("fetched", "inserted", "updated", "restored", "deleted", "unchanged")
    return {k: sum(c.get(k, 0) for c in counts.values()) for k in keys}
