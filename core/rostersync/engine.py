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
from rostersync.faults import fault_point
from rostersync.formats import map_raw
from rostersync.integrity import CheckPolicy, LiveRoster, verify_references
from rostersync.issues import Issue
from rostersync.plugins import get_connector, get_formats, get_transport
from rostersync.rules import apply_rules
from rostersync.scope import Scope
from rostersync.selection import Filter
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
    #: why a skipped run did nothing: hold (a run of the source waits for approval), blackout, busy (another
    #: process syncs the source) or unchanged (the source has nothing new)
    skipped_by: str | None = None

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
    #: the queued job making this sync (``rostersync worker``): its runs carry it, and a job that already
    #: applied (its earlier attempt committed before its worker died) does nothing more
    job: str | None = None


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
            return _skip(store, school, enabled, "another rostersync process is syncing this source right now", "busy",
                         options.job)
        store.recover_interrupted(school.id, enabled.name)
        if options.job:
            done = store.job_run(options.job)
            if done is not None:
                return RunResult(done["id"], school.id, enabled.name, "skipped",
                                 error=f"job {options.job} was already applied by run {done['id']}")
        if options.only_if_due:
            last = store.last_started(school.id, enabled.name)
            if not schedule.is_due(enabled.schedule, last, options.only_if_due):
                return None
        today = (options.only_if_due or dt.datetime.now()).date()  # blackouts and "the current term"
        blackout = school.blackout_on(today)
        if blackout and not options.dry_run:
            return _skip(store, school, enabled, f"blackout {blackout}: the roster is kept as it is", "blackout",
                         options.job)
        held = store.pending_hold(school.id, enabled.name)
        if held and not options.dry_run:
            skipped = _skip(store, school, enabled, still_held(store, held), "hold", options.job)
            return attrs.evolve(skipped, held_run=held)
        return _run(store, school, enabled, connector, settings, options, progress, today)


def config_digest(school: School, enabled: EnabledConnector) -> str:
    """What in rostersync and its configuration shapes a sync of this source (for unchanged-bundle skips)."""
    from rostersync import __version__

    shape = {"version": __version__, "settings": enabled.settings, "org_ids": school.org_ids, "mode": school.mode,
             "select": school.selection.as_dict(), "rules": [r.describe() for r in school.rules],
             "identity": school.identity}
    if school.selection.terms:  # "current" means another term tomorrow: never skip an unchanged bundle for it
        shape["today"] = dt.date.today().isoformat()
    return hashlib.sha256(json.dumps(shape, sort_keys=True, default=str).encode()).hexdigest()


def still_held(store: Store, run_id: int) -> str:
    """Why a sync of a source waits: which run is held since when and why, and what to do about it."""
    run = store.run(run_id) or {}
    why = f": {run['error']}" if run.get("error") else ""
    return (f"run {run_id} is still held (since {run.get('finished_at') or run.get('started_at') or '?'}{why}); "
            f"nothing is synced from this source until it is approved or discarded. Review it: rostersync "
            f"changes {run_id}; apply it: rostersync approve {run_id}; drop it: rostersync discard {run_id}")


def _skip(store: Store, school: School, enabled: EnabledConnector, reason: str, why: str,
          job: str | None = None) -> RunResult:
    run_id = store.begin_run(school.id, enabled.name, job)
    store.skip_run(run_id, reason)
    return RunResult(run_id, school.id, enabled.name, "skipped", error=reason, skipped_by=why)


#: how many refused rows a failed run keeps for its report (the first; validate lists them all)
REFUSED_KEPT = 1000


def _run(store: Store, school: School, enabled: EnabledConnector, connector: Connector, settings: Any,
         options: SyncOptions, progress: Progress | None, today: dt.date) -> RunResult:
    run_id = store.begin_run(school.id, enabled.name, options.job)
    staging = store.staging(run_id)
    refused: list[Issue] = []
    try:
        checks = CheckPolicy.from_settings(settings)
        staging.on_duplicate = checks.duplicate
        selection = Filter(school.selection, staging, store, school.id, today) if school.selection else None
        with tempfile.TemporaryDirectory(prefix=f"rostersync-run{run_id}-") as work:
            context = FetchContext(
                school_id=school.id, source=enabled.name, settings=settings, org_ids=school.org_ids,
                work_dir=Path(work), state=store.last_state(school.id, enabled.name), full=options.full,
                config_digest=config_digest(school, enabled),
            )
            _stage(connector, context, staging, Scope(school.org_ids), progress, selection, checks.invalid, refused)
            staging.warn(context.warnings)
            staging.finish()  # index what was staged (duplicates are found here)
            if school.rules:
                apply_rules(school.rules, staging, store, school.id)
            verify_references(staging, checks, LiveRoster(store, school.id, enabled.name)).raise_errors()
            fault_point("staged")
            policy = ApplyPolicy(safeguards=school.safeguards, add_only=school.mode == "add-only",
                                 dry_run=options.dry_run, preview_limit=options.preview_limit,
                                 identity=school.identity)
            outcome = store.apply(run_id, school.id, enabled.name, staging, policy, context.next_state)
            fault_point("committed")
            after: list[Any] = []
            if outcome.status == "ok":
                after = committed(connector, attrs.evolve(context, state=context.next_state))
            if outcome.status == "ok" and school.periods:
                after += unmapped_warning(store, school)
            for message in after:
                store.add_warning(run_id, message)
        return RunResult(run_id, school.id, enabled.name, outcome.status, outcome.counts,
                         error="; ".join(outcome.reasons) or None, warnings=outcome.warnings + len(after),
                         preview=outcome.preview)
    except NothingNew as exc:
        staging.discard()
        store.skip_run(run_id, str(exc))
        return RunResult(run_id, school.id, enabled.name, "skipped", error=str(exc), skipped_by="unchanged")
    except RostersyncError as exc:
        staging.discard()
        store.fail_run(run_id, str(exc))
        kept = refused[:REFUSED_KEPT]
        store.add_issues(run_id, kept)  # the refused rows, for the failed run's report
        return RunResult(run_id, school.id, enabled.name, "failed", error=str(exc), warnings=len(kept))
    except BaseException as exc:
        staging.discard()
        store.fail_run(run_id, f"internal error: {type(exc).__name__}: {exc}")
        raise


def _stage(connector: Connector, context: FetchContext, staging: StagingArea, scope: Scope,
           progress: Progress | None, selection: Filter | None = None, invalid: str = "error",
           refused: list[Issue] | None = None) -> None:
    """fetch -> map -> (invalid rows) -> scope -> selection -> stage, batch by batch, into the run's
    staging area. Invalid rows fail the run (their issues go to ``refused``, for its report) or, with the
    ``skip`` policy, are left out as *rejected*, their live rows kept as they are."""
    formats = get_formats()
    stream = iter(get_transport(connector.kind).fetch(connector, context))
    # closing(): a transport's generator (open files, temporary folders) is finished at once when a
    # batch is refused, rather than whenever the garbage collector gets to it
    with closing(stream) if hasattr(stream, "close") else nullcontext(stream):
        for raw in stream:
            mapped = map_raw(formats, connector.repair(raw))
            if mapped.errors:
                issues = [rejected(error, mapped.entity) for error in mapped.errors]
                if invalid != "skip":
                    if refused is not None:
                        refused.extend(issues[:REFUSED_KEPT - len(refused)])
                    mapped.raise_errors()
                staging.declare(mapped.entity, mapped.mode, mapped.location)
                staging.warn(attrs.evolve(i, level="warning", message=f"{i.message}; row rejected") for i in issues)
                staging.keep(mapped.entity, [i.sourced_id for i in issues if i.sourced_id])
            mapped = scope.filter(mapped, staging)
            if selection is not None:
                mapped = selection.filter(mapped)
            staging.write(mapped)
            fault_point("fetch")
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
    school_id, source = run.get("school", ""), run.get("source", "")
    school = config.schools().get(school_id)
    outcome = store.approve(run_id, identity=school.identity if school else ())
    after: list[str] = []
    if outcome.status == "ok":
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


def rejected(error: RostersyncError, entity: str) -> Issue:
    """A refused row as a report line: its place, sourcedId and (masked on writing) value, outcome rejected."""
    return attrs.evolve(Issue.from_error(error), entity=entity, outcome="rejected")


def unmapped_warning(store: Store, school: School) -> list[Issue]:
    """After a sync of a school with a bell-schedule map: the period codes its classes use that the map
    lacks (one warning, so the operator adds them with ``rostersync periods map``)."""
    from rostersync.periods import unmapped

    codes = unmapped(store, school)
    if not codes:
        return []
    shown = ", ".join(codes)
    return [Issue(f"period code(s) {shown} on this school's classes have no bell-schedule name: "
                  f"rostersync periods map {school.id} {codes[0]}=NAME ...", code="unmapped_period",
                  entity="classes", column="periods", value=shown)]


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
