"""Transport for connectors of kind ``sftp``: pull the newest complete roster drop from an SFTP server.

A sync connects (host key verified, see :mod:`.sftp_session`), picks the newest complete drop by
the drop rules (:mod:`.sftp_drops`, shared with the ``dropbox`` kind), skips it when it is the drop
the last successful run imported (or holds the same bytes), downloads it into the run's private
work folder (:mod:`.sftp_download`) and hands the folder, or the zip file as it is, to
:func:`rostersync.csvbundle.read_bundle`, like the local-folder transport: a zip is read in place by
the one zip reader (:mod:`rostersync.bundlefiles`), under ``max_unzipped_mb`` and named by its
remote location in messages. The connection is closed before any row is parsed.

With ``archive`` on, the drop is moved into ``archive/`` on the server once the run's changes are
committed: by the transport's ``committed`` step, which the engine calls after a run applies and
after ``rostersync approve`` applies a held one. It finds the drop in the state the run saved (names,
paths, sizes and times, never a secret), so a drop held for a day is archived when it is approved.

Settings: :class:`~rostersync.transports.sftp_settings.SftpSettings` (or a connector's subclass of it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rostersync import hookimpl
from rostersync.connector import CheckStep, Connector, FetchContext
from rostersync.errors import ConfigError, RostersyncError
from rostersync.transport import Transport
from rostersync.transports.sftp_archive import archive_drop, saved_drop
from rostersync.transports.sftp_download import download_drop
from rostersync.transports.sftp_drops import REMOTE_FOLDER, Drop, check_drop, drop_path, take_drop, zip_reading
from rostersync.transports.sftp_session import SESSION_STEPS, Session, SftpError, location, open_session
from rostersync.transports.sftp_settings import SftpSettings

if TYPE_CHECKING:
    from rostersync.batches import RawBatch

KIND = "sftp"


def fetch(connector: Connector, context: FetchContext) -> Iterator[RawBatch]:
    settings: SftpSettings = context.settings
    drop, path = pull_drop(context)
    from rostersync.csvbundle import read_bundle  # lazily: plugin modules load on every command

    yield from read_bundle(path, settings.format, demographics=settings.demographics,
                           **zip_reading(settings, location(settings, drop.path)))


def pull_drop(context: FetchContext) -> tuple[Drop, Path]:
    """Download the drop this run should import: the drop, and the local folder (or zip) holding it.

    Raises :class:`NothingNew` when there is no complete drop newer than the one imported last.
    """
    settings = context.settings
    where = location(settings, settings.remote_path)
    with open_session(settings, context) as session:
        drop, files = take_drop(session.sftp, settings.remote_path, where, context,
                                lambda drop: _download(session, drop, context))
    return drop, drop_path(drop, files)


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
    drop = saved_drop(context)
    if drop is None:
        return []
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
    with open_session(settings, context) as session:
        steps += [CheckStep("connect", True, f"{settings.host}:{settings.port}"),
                  CheckStep("host key", True, f"{session.host_key} (verified by {session.verified_by})"),
                  CheckStep("authenticate", True, f"{settings.username} with {session.auth}")]
        check_drop(session.sftp, settings.remote_path, lambda path: location(settings, path), context,
                   lambda drop: _download(session, drop, context), steps, folder_step=REMOTE_FOLDER,
                   fetch_step="download")


@hookimpl
def rostersync_register_transports(register):  # type: ignore[no-untyped-def]
    register(Transport(KIND, "The newest complete drop on an SFTP server (pulled over SSH)", SftpSettings,
                       fetch, check, committed=committed))
