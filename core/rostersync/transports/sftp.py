"""Transport for connectors of kind ``sftp``: pull the newest complete roster drop from an SFTP server.

A sync connects (host key verified, see :mod:`.sftp_session`), picks the newest complete drop
(:mod:`.sftp_drops`), skips it when it is the drop the last successful run imported, downloads it
into the run's private work folder (:mod:`.sftp_download`) and hands the folder, or the zip file as
it is, to :func:`rostersync.csvbundle.read_bundle`, like the local-folder transport: a zip is read in
place by the one zip reader (:mod:`rostersync.bundlefiles`), under ``max_unzipped_mb`` and named by
its remote location in messages. The connection is closed before any row is parsed.

With ``archive`` on, the drop is moved into ``archive/`` on the server once the run's changes are
committed: by the transport's ``committed`` step, which the engine calls after a run applies and
after ``rostersync approve`` applies a held one. It finds the drop in the state the run saved (names,
paths, sizes and times, never a secret), so a drop held for a day is archived when it is approved.

Settings: :class:`~rostersync.transports.sftp_settings.SftpSettings` (or a connector's subclass of it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rostersync import hookimpl
from rostersync.connector import CheckStep, Connector, FetchContext
from rostersync.errors import ConfigError, NothingNew, RostersyncError, SourceError
from rostersync.transport import Transport
from rostersync.transports.sftp_archive import archive_drop
from rostersync.transports.sftp_download import download_drop
from rostersync.transports.sftp_drops import REMOTE_FOLDER, Choice, Drop, choose_drop, iso, list_drops
from rostersync.transports.sftp_session import SESSION_STEPS, Session, SftpError, location, open_session
from rostersync.transports.sftp_settings import SftpSettings

if TYPE_CHECKING:
    from rostersync.batches import RawBatch

KIND = "sftp"


MB = 1024 * 1024


def fetch(connector: Connector, context: FetchContext) -> Iterator[RawBatch]:
    settings: SftpSettings = context.settings
    drop, path = pull_drop(context)
    from rostersync.csvbundle import read_bundle  # lazily: plugin modules load on every command

    yield from read_bundle(path, settings.format, demographics=settings.demographics, **_zip_reading(settings, drop))


def _zip_reading(settings: SftpSettings, drop: Drop) -> dict[str, Any]:
    """How the bundle reader opens a zip drop: named by its remote location, under max_unzipped_mb."""
    return {"label": location(settings, drop.path), "max_unzipped": (settings.max_unzipped_mb * MB, "max_unzipped_mb")}


def pull_drop(context: FetchContext) -> tuple[Drop, Path]:
    """Download the drop this run should import: the drop, and the local folder (or zip) holding it.

    Raises :class:`NothingNew` when there is no complete drop newer than the one imported last.
    """
    settings = context.settings
    where = location(settings, settings.remote_path)
    with open_session(settings, context) as session:
        choice = choose_drop(session.sftp, settings, where)
        drop = _refuse_unchanged(choice, context, where)
        files = _download(session, drop, context)
    if choice.unfinished:
        context.warn(f"{where}: {choice.unfinished_note()}")
    context.next_state["drop"] = {**drop.as_state(), "imported_at": _now()}
    return drop, files[0] if drop.kind == "zip" else files[0].parent


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _refuse_unchanged(choice: Choice, context: FetchContext, where: str) -> Drop:
    """The chosen drop, unless it is not newer than the one imported last (``--full`` overrides)."""
    last = context.state.get("drop") or {}
    pending = f"; {choice.unfinished_note()}" if choice.unfinished else ""
    since = (f"no new files since {last.get('name')!r} (modified {iso(int(last.get('mtime', 0)))}) was imported "
             f"at {last.get('imported_at', '?')}") if last else ""
    drop = choice.drop
    if drop is None:
        if choice.unfinished:
            raise NothingNew(f"{where}: {since + ': ' if since else ''}no complete drop yet{pending}")
        if since:
            raise NothingNew(f"{where}: {since}")
        raise SourceError(f"no files matching {context.settings.file_pattern!r} (check remote_path and "
                          "file_pattern)", where)
    if context.full or not last:
        return drop
    if drop.fingerprint == last.get("files") and drop.path == last.get("path"):
        raise NothingNew(f"{where}: {since}{pending} (sync --full imports it again)")
    if drop.mtime < int(last.get("mtime", 0)):
        raise NothingNew(f"{where}: the newest complete drop {drop.name!r} is older than {last.get('name')!r}, "
                         f"imported before; not going back in time (sync --full imports it){pending}")
    return drop


@contextmanager
def _reconnect(context: FetchContext) -> Iterator[Any]:
    with open_session(context.settings, context, reconnecting=True) as session:
        yield session.sftp


def _download(session: Session, drop: Drop, context: FetchContext) -> list[Path]:
    assert context.work_dir is not None, "the engine gives every run a work_dir"
    settings = context.settings
    where = location(settings, drop.path)
    return download_drop(session.sftp, lambda: _reconnect(context), drop, context.work_dir / "download",
                         settings, where, context.warn)


def committed(connector: Connector, context: FetchContext) -> list[str]:
    """After the run importing a drop has committed (at once, or when approved after a hold): with
    ``archive`` on, move the drop into ``archive/``. ``context.state`` is the state the run saved."""
    settings = context.settings
    saved = context.state.get("drop")
    if not settings.archive or not saved:
        return []
    drop = Drop.from_state(saved)
    where = location(settings, settings.remote_path)
    with open_session(settings, context, reconnecting=True) as session:
        notes = archive_drop(session.sftp, drop, settings.remote_path, where)
    return [f"{where}: archive: {note}" for note in notes]


# -- rostersync check -------------------------------------------------------------------------------
STAGES = (*SESSION_STEPS, REMOTE_FOLDER, "drop", "download", "required files")


def check(connector: Connector, context: FetchContext) -> list[CheckStep]:
    steps: list[CheckStep] = []
    try:
        _check(context, steps)
    except SftpError as exc:
        passed = SESSION_STEPS[: SESSION_STEPS.index(exc.step)] if exc.step in SESSION_STEPS else ()
        steps += [CheckStep(name, True, location(context.settings)) for name in passed]
        steps.append(CheckStep(exc.step, False, str(exc)))
    except ConfigError as exc:
        steps.append(CheckStep("settings", False, str(exc)))
    except RostersyncError as exc:  # the stage after the last one that passed
        steps.append(CheckStep(STAGES[min(len(steps), len(STAGES) - 1)], False, str(exc)))
    return steps


def _check(context: FetchContext, steps: list[CheckStep]) -> None:
    """Append a passed step per stage, in :data:`STAGES` order; raise at the first failing one."""
    settings = context.settings
    where = location(settings, settings.remote_path)
    with open_session(settings, context) as session:
        steps += [CheckStep("connect", True, f"{settings.host}:{settings.port}"),
                  CheckStep("host key", True, f"{session.host_key} (verified by {session.verified_by})"),
                  CheckStep("authenticate", True, f"{settings.username} with {session.auth}")]
        drops = list_drops(session.sftp, settings, where)
        steps.append(CheckStep(REMOTE_FOLDER, True, f"{settings.remote_path}: {len(drops)} drop(s) matching "
                                                    f"{settings.file_pattern}"))
        choice = choose_drop(session.sftp, settings, where)
        if choice.drop is None:
            why = choice.unfinished_note() or f"no files matching {settings.file_pattern!r}"
            raise SourceError(f"nothing a sync could import: {why}", where)
        try:
            _refuse_unchanged(choice, context, where)
            verdict = "a sync would import it"
        except NothingNew as exc:
            verdict = f"a sync would skip it: {exc}"
        pending = f"; newer: {choice.unfinished_note()}" if choice.unfinished else ""
        steps.append(CheckStep("drop", True, f"{choice.drop.describe()}; {verdict}{pending}"))
        files = _download(session, choice.drop, context)
    steps.append(CheckStep("download", True, f"{len(files)} file(s), {choice.drop.size:,} bytes into a private "
                                             "temporary folder"))
    from rostersync.csvbundle import describe_bundle
    path = files[0] if choice.drop.kind == "zip" else files[0].parent
    plan = describe_bundle(path, settings.format, **_zip_reading(settings, choice.drop))
    listed = ", ".join(f"{p.actual} ({p.mode})" for p in plan.files)
    steps.append(CheckStep("required files", True, listed or "manifest declares no files"))


@hookimpl
def rostersync_register_transports(register):  # type: ignore[no-untyped-def]
    register(Transport(KIND, "The newest complete drop on an SFTP server (pulled over SSH)", SftpSettings,
                       fetch, check, committed=committed))
