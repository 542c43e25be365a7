"""The store interface: everything the engine, the CLI, export, scope and integrity ask of a database.

A store keeps the live roster (one table per entity, rows keyed by school, source and sourcedId, soft
deleted), the history of sync runs with their counts, warnings (:class:`~rostersync.issues.Issue`) and
per-change audit, and the runs held by a safeguard. SQLite implements it
(:class:`rostersync.store.sqlite.SqliteStore`); a PostgreSQL store implements the same protocol and runs
the same contract tests (``tests/store_contract.py``). Code outside ``rostersync.store`` talks to a
store only through this protocol, and gets one from :func:`rostersync.store.open_store`.

A run's fetched rows never go to the store directly: they are staged in a private SQLite file per run
(:class:`~rostersync.store.staging.StagingArea`, whatever the store) and :meth:`Store.apply` diffs
that against the live roster and writes the result in one transaction. The guarantees a store gives,
each one relied on by the engine and checked by the contract tests:

* **Apply is all or nothing.** Inserts, updates, restores and soft deletes, one ``changes`` row per
  change and the run's final status commit together; a failure, a dry run or a hold leaves the live
  rows exactly as they were (a held run keeps its pending ``changes`` and its staging for approve).
* **Deletes are soft.** A deleted row keeps its values with ``deleted_at``/``deleted_run``; a row that
  comes back is restored on the same key and logged as a restore.
* **One sync per source at a time**, across processes: :meth:`Store.source_lock`. A lock dies with its
  process, so a crash leaves a ``running`` row that :meth:`Store.recover_interrupted` marks failed.
* **Schema versions are explicit.** A store knows its schema version and the newest its code knows;
  :func:`~rostersync.store.open_store` upgrades an older database (or asks for ``rostersync db
  upgrade``, as the backend prefers) and refuses a newer or a damaged one with a clear
  :class:`~rostersync.errors.ConfigError`.

Runs and changes are plain dicts (JSON-ready, what ``--json`` prints); their keys are :class:`RunRow`
and :class:`ChangeRow`.

The operator's web view (``rostersync serve``) reads through the same protocol. Every list it shows is
a **page**: at most ``limit`` rows, the next one asked for by a cursor (``after``/``before`` an id) or an
``offset``, so a page costs the same in a roster of a million people as in one of a hundred; the
backend keeps an index behind each (SQLite: migration 3). Approve and discard are recorded in an
**audit log** of operator actions (:meth:`Store.record_action`): who, from where, when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

import attrs

from rostersync.errors import NothingNew, RostersyncError
from rostersync.safeguards import Safeguards

if TYPE_CHECKING:
    from rostersync.issues import Issue
    from rostersync.secrets import SecretRef
    from rostersync.store.staging import StagingArea


class RunRow(TypedDict):
    """A sync run as :meth:`Store.run` and the run listings return it."""

    id: int
    school: str
    source: str
    started_at: str  # UTC, ISO 8601 with microseconds and Z
    finished_at: str | None
    status: str  # running | ok | held | dry-run | skipped | failed | discarded
    counts: dict[str, dict[str, int]]  # per entity: fetched, inserted, updated, restored, deleted...
    error: str | None  # a failed run's error; why a run was skipped or held
    warnings: int | None
    mode: str | None  # mirror | add-only
    approved_at: str | None


class ChangeRow(TypedDict):
    """One audited change of a run (``fields``: ``{column: [before, after]}`` for updates and restores)."""

    id: int
    run_id: int
    entity: str
    school: str
    source: str
    sourced_id: str
    action: str  # insert | update | restore | delete | rekey (users: ``fields`` has ``sourced_id`` [old, new])
    fields: dict[str, list[Any]] | None


class PersonRow(TypedDict):
    """A person as the people search lists them (a ``users`` row, live or soft-deleted)."""

    school: str
    source: str
    sourced_id: str
    role: str
    given_name: str
    family_name: str
    preferred_given_name: str | None
    identifier: str | None
    email: str | None
    username: str | None
    status: str | None
    deleted_at: str | None


class EnrollmentRow(TypedDict):
    """One enrollment of a person with its class (``class_title`` etc. None when the class is not in the
    roster); ``periods`` as stored (JSON text); ``created_run``/``deleted_run``: the runs that added and
    removed it."""

    sourced_id: str
    class_sourced_id: str
    class_title: str | None
    class_code: str | None
    periods: str | None
    role: str
    primary: int | None
    begin_date: str | None
    end_date: str | None
    status: str | None
    deleted_at: str | None
    created_run: int | None
    deleted_run: int | None


class ActionRow(TypedDict):
    """An operator's action in the audit log (``approve``, ``discard``): who (``actor``), from where
    (``origin``: ``cli on HOST`` or ``web from ADDRESS``), when (UTC, like run times) and on what."""

    id: int
    at: str
    action: str
    run_id: int | None
    school: str | None
    source: str | None
    actor: str
    origin: str
    detail: str | None


class NotificationRow(TypedDict):
    """One delivery of a notification (``kind``: run | digest | test) to a channel, or its failure."""

    id: int
    run_id: int | None
    channel: str
    kind: str
    status: str  # sent | failed
    detail: str | None  # why it failed (secrets redacted), or what was sent
    at: str  # UTC, ISO 8601 with Z


class StaleRun(RostersyncError):
    """The run lost its source to another attempt (which recovered it as interrupted): nothing applied."""


class AlreadyApplied(NothingNew):
    """Another run of the same queued job is applied already: this attempt does nothing (skipped)."""


def fence_error(run_id: int, status: str | None, expect: str, job: str | None, applied_by: int | None
                ) -> RostersyncError | None:
    """What the apply fence refuses (see :meth:`Store.apply`), given the run's status read inside the
    apply transaction and the other run of its job already applied, if any; None: apply."""
    if status != expect:
        return StaleRun(f"run {run_id} is {status or 'missing'}, not {expect}: another attempt of this sync took "
                        f"the source over; nothing was applied")
    if applied_by is not None:
        return AlreadyApplied(f"job {job} was already applied by run {applied_by}; nothing was applied twice")
    return None


@attrs.frozen
class ApplyPolicy:
    """How to apply a run: which safeguards hold it, add-only (no deletes), or a dry run."""

    safeguards: Safeguards | None = attrs.Factory(Safeguards)
    add_only: bool = False
    dry_run: bool = False
    preview_limit: int = 0  # dry runs: how many changes per entity to return for display
    #: identity continuity (:mod:`rostersync.identity`): the identifier keys, in precedence order, that pair a
    #: leaving user with a new one as one person re-keyed by the SIS; empty: no re-keying
    identity: tuple[str, ...] = ()


@attrs.frozen
class ApplyOutcome:
    """What :meth:`Store.apply` did: ``ok`` (applied), ``held`` (safeguards refused, nothing applied,
    ``reasons`` say why) or ``dry-run``; counts per entity, the run's warning count, and for a dry run
    asking for it, a preview of the changes."""

    status: str  # ok | held | dry-run
    counts: dict[str, dict[str, int]]
    reasons: list[str] = attrs.Factory(list)
    warnings: int = 0
    preview: list[dict[str, Any]] = attrs.Factory(list)


@attrs.frozen
class SchemaVersion:
    """A database's schema version and the newest this code knows (0: no schema yet)."""

    current: int
    latest: int

    @property
    def pending(self) -> int:
        """How many migrations an upgrade would apply (negative: the database is newer than the code)."""
        return self.latest - self.current


class Store(Protocol):
    """A rostersync database. Open one with :func:`rostersync.store.open_store`; close it with :meth:`close`."""

    # -- schema ------------------------------------------------------------------------------
    def schema_version(self) -> SchemaVersion:
        """The database's schema version and the newest this code knows."""
        ...

    def upgrade(self) -> list[int]:
        """Apply the pending migrations in order, each in its own transaction; return their numbers.
        Refuses (ConfigError) a database newer than the code."""
        ...

    def verify_schema(self) -> None:
        """Raise ConfigError naming what is missing when the database lacks a table or column its
        schema version has (a damaged database), rather than failing later in the middle of a run."""
        ...

    def close(self) -> None:
        ...

    # -- runs and their log ------------------------------------------------------------------
    def begin_run(self, school: str, source: str, job: str | None = None) -> int:
        """Record a new ``running`` run; return its id (ids increase). ``job``: the queued job making it
        (its id), which :meth:`apply` then applies at most once, whatever its attempts."""
        ...

    def fail_run(self, run_id: int, error: str, counts: dict[str, Any] | None = None) -> None:
        """Mark a run failed with its error (secrets redacted); the roster is untouched."""
        ...

    def skip_run(self, run_id: int, reason: str) -> None:
        """A run that rightly did nothing (no new data, blackout, a hold pending...)."""
        ...

    def add_warning(self, run_id: int, issue: Issue | str) -> None:
        """A warning about a run that has already finished (e.g. from work done after it committed)."""
        ...

    def add_issues(self, run_id: int, issues: Iterable[Issue]) -> None:
        """Record issues about a run in one transaction (a failed run's refused rows, for its report),
        each counted in the run's warnings; values masked and secrets redacted as staging does
        (:func:`rostersync.store.staging.stored_issue`)."""
        ...

    def last_state(self, school: str, source: str) -> dict[str, Any]:
        """What the newest successful (``ok``) run of this source left for the next (delta cursors...)."""
        ...

    def last_started(self, school: str, source: str) -> dt.datetime | None:
        """When the newest run of this source started, any outcome (``run --due`` compares it to cron)."""
        ...

    def run(self, run_id: int) -> RunRow | None:
        ...

    def runs(self, school: str | None = None, limit: int = 50) -> list[RunRow]:
        """Runs newest first, of one school or all."""
        ...

    def latest_runs(self) -> list[RunRow]:
        """The newest run of every (school, source), ordered by school and source."""
        ...

    def job_run(self, job: str) -> RunRow | None:
        """The run that applied (``ok``) or held a queued job, if one has: a retried job does nothing more."""
        ...

    def changes(self, run_id: int, entity: str | None = None, limit_per_entity: int = 0) -> list[ChangeRow]:
        """A run's audited changes in the order written (at most ``limit_per_entity`` per entity if set)."""
        ...

    def issues(self, run_id: int) -> list[Issue]:
        """A run's warnings, in the order recorded, with their ``value`` and ``outcome``."""
        ...

    def live_counts(self, school: str) -> dict[str, int]:
        """Live (not deleted) rows per entity of a school, every entity listed."""
        ...

    # -- holds -------------------------------------------------------------------------------
    def holds(self) -> list[RunRow]:
        """Runs held by a safeguard, oldest first."""
        ...

    def pending_hold(self, school: str, source: str) -> int | None:
        """The newest held run of this source, if any (a sync waits for it to be approved or discarded)."""
        ...

    def approve(self, run_id: int, identity: tuple[str, ...] = ()) -> ApplyOutcome:
        """Apply a held run exactly as it was staged (its own mode, safeguards off, re-keying by
        ``identity``). Refused with a ConfigError for a run that is not held, whose staging is gone, or
        when a later run of the same source was applied since (its diff is stale)."""
        ...

    def discard(self, run_id: int) -> None:
        """Drop a held run: its pending changes and staging go, the roster stays as it is."""
        ...

    # -- handing a roster to another source -------------------------------------------------
    def move_source(self, school: str, old: str, new: str) -> dict[str, int]:
        """Hand every roster row ``old`` holds for ``school`` (soft-deleted ones too, so they can still be
        restored) to source ``new`` in one transaction; return the rows moved per entity.

        For a school changing how the same district reaches it (Clever CSV to the Clever API): when both
        sources key records alike, the new source's first sync finds them and changes only what differs,
        instead of inserting everyone again beside the old rows. Run history stays with ``old``. Refused
        (ConfigError, nothing moved) when ``new`` already has runs or rows for the school or ``old`` has
        a held run. Call it holding both sources' locks.
        """
        ...

    # -- one sync per source -----------------------------------------------------------------
    def source_lock(self, school: str, source: str) -> AbstractContextManager[bool]:
        """A context manager yielding True while holding this source's lock, or False at once when
        another process holds it. The lock dies with its process."""
        ...

    def recover_interrupted(self, school: str, source: str) -> list[int]:
        """Mark the source's ``running`` runs failed (call it holding the source lock: their process is
        gone) and drop their staging; return their ids."""
        ...

    # -- staging and apply -------------------------------------------------------------------
    def staging(self, run_id: int) -> StagingArea:
        """A new, empty staging area for the run."""
        ...

    def apply(self, run_id: int, school: str, source: str, staging: StagingArea, policy: ApplyPolicy,
              state: dict[str, Any] | None = None) -> ApplyOutcome:
        """Diff ``staging`` against the school's live rows from ``source`` and, in one transaction, write
        one ``changes`` row per insert/update/restore/delete, then (unless the safeguards hold the run
        or it is a dry run) the live rows, and the run's status, counts, issues, warnings (the number of
        its issues other than filtered rows) and ``state``.

        **The fence**: the run must still be ``running`` (no other attempt recovered it as interrupted:
        StaleRun, nothing applied), and no other run of its job applied already (AlreadyApplied, a
        NothingNew: the run is skipped). Checked inside the transaction, so two attempts of one job
        cannot both apply, whichever commits first.

        A bulk entity is the whole truth (a live row it lacks is deleted, unless add-only), except rows
        staging marks as kept (:meth:`StagingArea.keep`: refused as invalid, left as they are); a delta
        entity changes only what it carries (tombstones delete). A dry run rolls everything back; a
        held run commits only its pending ``changes`` and keeps ``staging`` for approve/discard; any other
        outcome discards ``staging``. Set-based: no per-row work in Python but the audit of changed rows.

        Counts per entity: the diff's (inserted, updated, restored, deleted, delete_skipped, unchanged,
        current), plus what staging counted before it (:meth:`StagingArea.entities`: fetched,
        out_of_scope, filtered). Users: a new row inserted gets a new ``person_id``; with
        ``policy.identity``, a leaving live user and a new staged user that are one person by those keys
        (the first key both have is equal, same role, the pair unambiguous) are one ``rekey`` change
        (counted ``rekeyed``, not inserted nor deleted): the old row is closed (soft-deleted, ``rekeyed_to``
        the new sourcedId) and the new row keeps its ``person_id``.
        """
        ...

    def live_ids(self, school: str, source: str, entity: str, ids: Sequence[str], *,
                 schools_only: bool = False) -> set[str]:
        """Which of ``ids`` (a chunk of at most a few thousand) are live rows of ``entity`` of this school
        and source; with ``schools_only``, orgs of type ``school`` only. The reference checks' rule 3."""
        ...

    # -- reading the roster ------------------------------------------------------------------
    def live_rows(self, school: str, entity: str, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """Stream the stored values of ``columns`` (lists as JSON text, booleans as 0/1, ``extra`` as a
        JSON object) of a school's live rows of ``entity``, every source, ordered by source and sourcedId.
        Users also have ``person_id`` (:data:`rostersync.store.schema.IDENTITY_COLUMNS`)."""
        ...

    # -- people ------------------------------------------------------------------------------
    def duplicate_people(self, school: str | None, keys: Sequence[str]) -> list[dict[str, Any]]:
        """Suspected duplicates among a school's (or every school's) live users, for a person to decide:
        the same identifier (each of ``keys``, :mod:`rostersync.identity`) under two rows, and the same
        given name, family name and birth date (from demographics) under two rows. One dict per group:
        ``school``, ``reason`` (``same state_id``, ``same name and birth date``...), ``value`` (the shared
        identifier; a birth date masked), ``people`` (each ``source``, ``sourced_id``, ``person_id``, ``role``,
        ``given_name``, ``family_name``), ordered by school, reason and value."""
        ...

    # -- notifications -----------------------------------------------------------------------
    def record_notification(self, channel: str, kind: str, status: str, detail: str | None = None,
                            run_id: int | None = None) -> None:
        """Log one delivery (``status`` sent) or failure (failed, ``detail`` the reason, secrets redacted)."""
        ...

    def notifications(self, channel: str | None = None, kind: str | None = None, run_id: int | None = None,
                      limit: int = 100) -> list[NotificationRow]:
        """Logged deliveries, newest first, optionally of one channel, kind or run."""
        ...

    def extra_keys(self, school: str, entity: str) -> list[str]:
        """The distinct keys of ``extra`` (columns the source sent that the model does not map) over a
        school's live rows of ``entity``, sorted."""
        ...

    # -- pages for the web view (each an index lookup or range, whatever the database's size) ---------
    def run_page(self, *, school: str | None = None, source: str | None = None, status: str | None = None,
                 before: int | None = None, limit: int = 50) -> list[RunRow]:
        """Runs newest first, of one school (and source) or all, of one status if given, with ids below
        ``before`` if given (the dashboard asks a source's last ``ok`` run this way)."""
        ...

    def change_page(self, run_id: int, *, entity: str | None = None, action: str | None = None,
                    after: int = 0, limit: int = 50) -> list[ChangeRow]:
        """A run's changes with ids above ``after``, in id order; of one entity and/or action if given."""
        ...

    def issue_page(self, run_id: int, *, offset: int = 0, limit: int = 50) -> list[Issue]:
        """A run's warnings in the order recorded, ``limit`` of them from ``offset``."""
        ...

    def find_people(self, text: str, *, school: str | None = None, offset: int = 0,
                    limit: int = 50) -> list[PersonRow]:
        """People (``users`` rows, soft-deleted ones too) matching ``text``, ignoring case: exactly by
        sourcedId, identifier or email; by name when ``text`` has two characters or more: the start of
        the family or given name, ``Given Family`` (the starts of both) or ``Family, Given``. Ordered by
        family name, given name, school, source, sourcedId; of one school if given."""
        ...

    def person(self, school: str, source: str, sourced_id: str) -> dict[str, Any] | None:
        """A ``users`` row, live or soft-deleted, with every stored column (lists as JSON text) and its
        bookkeeping (``created_run``, ``updated_run``, ``deleted_at``, ``deleted_run``)."""
        ...

    def person_enrollments(self, school: str, source: str, sourced_id: str, *, offset: int = 0,
                           limit: int = 50) -> list[EnrollmentRow]:
        """A person's enrollments with their classes, live ones first, then by class title (enrollments in a
        class the roster lacks after the others) and sourcedId."""
        ...

    def person_changes(self, school: str, source: str, sourced_id: str, *, before: int | None = None,
                       limit: int = 50) -> list[ChangeRow]:
        """The audited changes of a person's ``users`` row, newest first (ids below ``before`` if given),
        held runs' pending changes included (their run says so)."""
        ...

    # -- the audit log of operator actions --------------------------------------------------------
    def record_action(self, action: str, *, actor: str, origin: str, run_id: int | None = None,
                      detail: str | None = None) -> None:
        """Append an operator's action to the audit log (the run's school and source are looked up)."""
        ...

    def actions(self, *, run_id: int | None = None, before: int | None = None, limit: int = 50) -> list[ActionRow]:
        """The audit log newest first, of one run if given (ids below ``before`` if given)."""
        ...


#: connect(target, password): a store for a URL or path of the backend's scheme (``password``: the
#: configured secret reference, or None); schema work is left to open_store
Connect = Callable[[str, "SecretRef | None"], Store]


@attrs.frozen
class StoreBackend:
    """A kind of database rostersync can keep its roster in, chosen by the URL scheme of the configured
    database (``sqlite``: a file path or ``sqlite:///path``; ``postgresql://...``).

    ``upgrades_on_open``: whether :func:`~rostersync.store.open_store` applies pending migrations itself
    (SQLite: one process owns the file) or refuses until an operator runs ``rostersync db upgrade``
    (PostgreSQL: many workers share the database; one upgrade, deliberately).
    ``package``/``version`` are filled in by the host from the plugin that registered it.
    """

    scheme: str
    title: str
    connect: Connect
    upgrades_on_open: bool = True
    package: str = ""
    version: str = ""
