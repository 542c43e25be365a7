"""Transport for connectors of kind ``dropbox``: the newest complete drop in a folder on this machine.

The receiving side of SFTP: a district's SIS uploads its export into a school's drop box (an
sftp-only, chrooted account on this machine's OpenSSH, made by ``rostersync dropbox create``) and
this kind imports it with exactly the drop rules of the ``sftp`` kind (:mod:`.sftp_drops`): the
newest complete drop (marker file, or sizes and times that settle), a zip (read in place) or a
folder or dated sub-folders, an unchanged drop or the same bytes again skipped, ``archive/`` once
the run is committed (its ``committed`` step, so also when a held run is approved).

The folder is read through :class:`~rostersync.transports.local_files.LocalFiles`, which never follows
a symbolic link the uploader may have left, and the drop is copied into the run's private work
folder (sizes and times checked before and after, as a download is) before a row is read, so an
upload that starts during the sync cannot change what is imported. Being the server has one more
advantage: a file an upload still holds open for writing is seen in /proc
(:mod:`.open_uploads`), so a stalled upload is not mistaken for a finished one.

Works for any folder other people fill (another SFTP or FTPS server's upload folder too), not only
a drop box made by rostersync.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from rostersync import hookimpl
from rostersync.connector import CheckStep, Connector, FetchContext, setting
from rostersync.errors import RostersyncError
from rostersync.transport import Transport
from rostersync.transports.drop_settings import DropSettings

if TYPE_CHECKING:
    from rostersync.batches import RawBatch
    from rostersync.transports.local_files import LocalFiles
    from rostersync.transports.sftp_drops import Drop

KIND = "dropbox"
STAGES = ("folder", "drop", "copy", "required files")


@attrs.frozen
class DropBoxSettings(DropSettings):
    """What every ``dropbox`` connector is configured with; an SIS connector subclasses it for its own defaults."""

    path: Path = setting("Folder the drops arrive in, e.g. a school's drop box upload folder (rostersync dropbox "
                         "create sets it)")


def fetch(connector: Connector, context: FetchContext) -> Iterator[RawBatch]:
    from rostersync.csvbundle import read_bundle  # lazily: plugin modules load on every command
    from rostersync.transports.sftp_drops import zip_reading

    settings: DropBoxSettings = context.settings
    drop, path = receive_drop(context)
    yield from read_bundle(path, settings.format, demographics=settings.demographics,
                           **zip_reading(settings, drop.path))


def receive_drop(context: FetchContext) -> tuple[Drop, Path]:
    """Copy the drop this run should import into the work folder: the drop, and the local folder (or zip)
    holding the copy.

    Raises :class:`~rostersync.errors.NothingNew` when there is no complete drop newer than the one
    imported last.
    """
    from rostersync.transports.local_files import LocalFiles
    from rostersync.transports.open_uploads import open_for_writing
    from rostersync.transports.sftp_drops import drop_path, take_drop

    settings: DropBoxSettings = context.settings
    files, root = LocalFiles(settings.path), str(settings.path)
    drop, local = take_drop(files, root, root, context, lambda drop: _copy(files, drop, context),
                            writing=lambda: open_for_writing(root))
    return drop, drop_path(drop, local)


def committed(connector: Connector, context: FetchContext) -> list[str]:
    """After the run importing a drop has committed (at once, or when approved after a hold): with
    ``archive`` on, move the drop into ``archive/``, from the state the run saved."""
    from rostersync.transports.local_files import LocalFiles
    from rostersync.transports.sftp_archive import archive_drop, saved_drop

    drop = saved_drop(context)
    if drop is None:
        return []
    root = str(context.settings.path)
    return [f"{root}: archive: {note}" for note in archive_drop(LocalFiles(root), drop, root, root)]


def _copy(files: LocalFiles, drop: Drop, context: FetchContext) -> list[Path]:
    from rostersync.transports.sftp_download import download_file

    assert context.work_dir is not None, "the engine gives every run a work_dir"
    dest = context.work_dir / "download"
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    for file in drop.files:
        download_file(files, file, dest / file.name, str(context.settings.path), context.warn)
    return [dest / file.name for file in drop.files]


def check(connector: Connector, context: FetchContext) -> list[CheckStep]:
    from rostersync.transports.local_files import LocalFiles
    from rostersync.transports.open_uploads import open_for_writing
    from rostersync.transports.sftp_drops import check_drop

    settings: DropBoxSettings = context.settings
    files, root = LocalFiles(settings.path), str(settings.path)
    steps: list[CheckStep] = []
    try:
        check_drop(files, root, str, context, lambda drop: _copy(files, drop, context), steps,
                   folder_step="folder", fetch_step="copy", writing=lambda: open_for_writing(root))
    except RostersyncError as exc:  # the stage after the last one that passed
        steps.append(CheckStep(STAGES[min(len(steps), len(STAGES) - 1)], False, str(exc)))
    return steps


@hookimpl
def rostersync_register_transports(register):  # type: ignore[no-untyped-def]
    register(Transport(KIND, "The newest complete drop in a folder on this machine (an SFTP drop box)",
                       DropBoxSettings, fetch, check, committed=committed))
