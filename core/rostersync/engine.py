"""One sync run: fetch -> map -> (scope) -> stage -> apply, for one source of one school.

The connector's transport fetches and each batch's format maps it, batch by batch. Any failure before
apply commits discards the staging area and records the run as failed with its error; the live roster
is untouched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Callable
from contextlib import closing, nullcontext
from pathlib import Path
from typing import Any

import attrs

from rostersync import schedule
from rostersync.config import EnabledConnector, School
from rostersync.connector import Connector, FetchContext, structure_settings
from rostersync.errors import ConfigError, NothingNew, RostersyncError
from rostersync.formats import map_raw
from rostersync.integrity import CheckPolicy, LiveRoster, verify_references
from rostersync.plugins import get_connector, get_formats, get_transport
from rostersync.scope import Scope
from rostersync.store.base import ApplyPolicy, Store
from rostersync.store.staging import StagingArea

#: progress(entity, rows) is called after each staged batch (rows may be 0 for an empty file).
Progress = Callable[[str, int], None]


@attrs.frozen
class RunResult:
    run_id: int | None
    school: str
    source: str
    status: str  # ok | held | dry-run | skipped | failed
    counts: dict[str, dict[str, int]] = attrs.Factory(dict)
    error: str | None = None
    warnings: int = 0
    preview: list[dict[str, Any]] = attrs.Factory(list)
    #: a run skipped because this earlier run of the source is still held (it needs a person too)
    held_run: int | None = None

    @property
    def ok(self) -> bool:
        """Nothing went wrong: applied, previewed, or rightly skipped. A held run needs a person, and so
        does a source whose syncs are skipped because a run of it is still held."""
        return self.status in ("ok", "dry-run", "skipped") and self.held_run is None


@attrs.frozen
class SyncOptions:
    full: bool = False
    dry_run: bool = False
    preview_limit: int = 0
    only_if_due: dt.datetime | None = None  # `run --due`: sync only when the schedule fired since the last run


def sync_source(store: Store, school: School, enabled: EnabledConnector, options: SyncOptions = SyncOptions(),
                progress: Progress | None = None) -> RunResult | None:
    """Run one sync of ``enabled`` for ``school`` under the source's lock.

    Returns None when ``options.only_if_due`` is set and the source is not due. Raises only for bugs
    and configuration errors; a failed fetch or bad data gives a ``failed`` result.
    """
    connector = get_connector(enabled.name)
    settings = structure_settings(connector, enabled.settings)
    with store.source_lock(school.id, enabled.name) as locked:
        if not locked:
            if options.only_if_due:
                return None
            return _skip(store, school, enabled, "another rostersync process is syncing this source right now")
        store.recover_interrupted(school.id, enabled.name)
        if options.only_if_due:
            last = store.last_started(school.id, enabled.name)
            if not schedule.is_due(enabled.schedule, last, options.only_if_due):
                return None
        today = (options.only_if_due or dt.datetime.now()).date()
        blackout = school.blackout_on(today)
        if blackout and not options.dry_run:
            return _skip(store, school, enabled, f"blackout {blackout}: the roster is kept as it is")
        held = store.pending_hold(school.id, enabled.name)
        if held and not options.dry_run:
            return attrs.evolve(_skip(store, school, enabled, still_held(store, held)), held_run=held)
        return _run(store, school, enabled, connector, settings, options, progress)


def config_digest(school: School, enabled: EnabledConnector) -> str:
    """What in rostersync and its configuration shapes a sync of this source (for unchanged-bundle skips)."""
    from rostersync import __version__

    shape = {"version": __version__, "settings": enabled.settings, "org_ids": school.org_ids, "mode": school.mode}
    return hashlib.sha256(json.dumps(shape, sort_keys=True, default=str).encode()).hexdigest()


def still_held(store: Store, run_id: int) -> str:
    """Why a sync of a source waits: which run is held since when and why, and what to do about it."""
    run = store.run(run_id) or {}
    why = f": {run['error']}" if run.get("error") else ""
    return (f"run {run_id} is still held (since {run.get('finished_at') or run.get('started_at') or '?'}{why}); "
            f"nothing is synced from this source until it is approved or discarded. Review it: rostersync "
            f"changes {run_id}; apply it: rostersync approve {run_id}; drop it: rostersync discard {run_id}")


def _skip(store: Store, school: School, enabled: EnabledConnector, reason: str) -> RunResult:
    run_id = store.begin_run(school.id, enabled.name)
    store.skip_run(run_id, reason)
    return RunResult(run_id, school.id, enabled.name, "skipped", error=reason)


def _run(store: Store, school: School, enabled: EnabledConnector, connector: Connector, settings: Any,
         options: SyncOptions, progress: Progress | None) -> RunResult:
    run_id = store.begin_run(school.id, enabled.name)
    staging = store.staging(run_id)
    try:
        checks = CheckPolicy.from_settings(settings)
        staging.on_duplicate = checks.duplicate
        with tempfile.TemporaryDirectory(prefix=f"rostersync-run{run_id}-") as work:
            context = FetchContext(
                school_id=school.id, source=enabled.name, settings=settings, org_ids=school.org_ids,
                work_dir=Path(work), state=store.last_state(school.id, enabled.name), full=options.full,
                config_digest=config_digest(school, enabled),
            )
            _stage(connector, context, staging, Scope(school.org_ids), progress)
            staging.warn(context.warnings)
            staging.finish()  # index what was staged (duplicates are found here)
            verify_references(staging, checks, LiveRoster(store, school.id, enabled.name)).raise_errors()
            policy = ApplyPolicy(safeguards=school.safeguards, add_only=school.mode == "add-only",
                                 dry_run=options.dry_run, preview_limit=options.preview_limit)
            outcome = store.apply(run_id, school.id, enabled.name, staging, policy, context.next_state)
            after = []
            if outcome.status == "ok":
                after = committed(connector, attrs.evolve(context, state=context.next_state))
            for message in after:
                store.add_warning(run_id, message)
        return RunResult(run_id, school.id, enabled.name, outcome.status, outcome.counts,
                         error="; ".join(outcome.reasons) or None, warnings=outcome.warnings + len(after),
                         preview=outcome.preview)
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


def _stage(connector: Connector, context: FetchContext, staging: StagingArea, scope: Scope,
           progress: Progress | None) -> None:
    """fetch -> map -> scope -> stage, batch by batch, into the run's staging area."""
    formats = get_formats()
    stream = iter(get_transport(connector.kind).fetch(connector, context))
    # closing(): a transport's generator (open files, temporary folders) is finished at once when a
    # batch is refused, rather than whenever the garbage collector gets to it
    with closing(stream) if hasattr(stream, "close") else nullcontext(stream):
        for raw in stream:
            mapped = map_raw(formats, connector.repair(raw))
            mapped.raise_errors()
            mapped = scope.filter(mapped, staging)
            staging.write(mapped)
            if progress:
                progress(mapped.entity, len(mapped.records))


def committed(connector: Connector, context: FetchContext) -> list[str]:
    """The transport's ``committed`` step for a run whose changes are committed (``context.state``:
    the state the run saved). Its failure cannot undo the run: it comes back as a warning."""
    step = get_transport(connector.kind).committed
    if step is None:
        return []
    try:
        return list(step(connector, context) or ())
    except RostersyncError as exc:
        return [f"after the sync: {exc}"]
    except Exception as exc:
        return [f"after the sync: internal error: {type(exc).__name__}: {exc}"]


def approve_run(store: Store, config: Any, run_id: int) -> RunResult:
    """Apply a held run exactly as it was staged, then do what its transport leaves until a run is
    committed (archiving an SFTP drop...), with the source's current settings. ``config``: the
    :class:`rostersync.config.Config` that says how the run's source is configured."""
    run = store.run(run_id) or {}
    outcome = store.approve(run_id)
    school_id, source = run.get("school", ""), run.get("source", "")
    after: list[str] = []
    if outcome.status == "ok":
        school = config.schools().get(school_id)
        enabled = school.connectors.get(source) if school else None
        if enabled is None:
            after = [f"after the sync: {source} is no longer enabled for {school_id}; what its transport does "
                     f"once a run is committed (e.g. archiving an SFTP drop) was not done"]
        else:
            connector = get_connector(enabled.name)
            context = FetchContext(school_id=school_id, source=source,
                                   settings=structure_settings(connector, enabled.settings), org_ids=school.org_ids,
                                   state=store.last_state(school_id, source))
            after = committed(connector, context)
        for message in after:
            store.add_warning(run_id, message)
    return RunResult(run_id, school_id, source, outcome.status, outcome.counts,
                     warnings=outcome.warnings + len(after))


def check_source(store: Store, school: School, enabled: EnabledConnector) -> list[Any]:
    """Run the connector's checks (reach, auth, required files) without touching the roster."""
    connector = get_connector(enabled.name)
    settings = structure_settings(connector, enabled.settings)
    with tempfile.TemporaryDirectory(prefix="rostersync-check-") as work:
        context = FetchContext(school_id=school.id, source=enabled.name, settings=settings,
                               org_ids=school.org_ids, work_dir=Path(work),
                               state=store.last_state(school.id, enabled.name))
        return list(get_transport(connector.kind).check(connector, context))


def sync_school(store: Store, school: School, options: SyncOptions = SyncOptions(),
                progress_for: Callable[[School, str], Progress | None] | None = None) -> list[RunResult]:
    """Sync every connector enabled for ``school``, one run each (due ones only with ``only_if_due``)."""
    if not school.connectors:
        raise ConfigError(f"school {school.id!r} has no connector enabled (rostersync enable {school.id} ...)")
    results = []
    for enabled in school.connectors.values():
        progress = progress_for(school, enabled.name) if progress_for else None
        result = sync_source(store, school, enabled, options, progress)
        if result is not None:
            results.append(result)
    return results


def summarise(counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Totals over entities, for one-line reports."""
    keys = ("fetched", "inserted", "updated", "restored", "deleted", "unchanged")
    return {k: sum(c.get(k, 0) for c in counts.values()) for k in keys}
