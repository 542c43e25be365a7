"""Transport for connectors of kind ``local-folder``: a roster bundle (OneRoster or Clever CSV) in a folder
or .zip on this machine (e.g. where an SFTP server drops a district's files)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from rostersync import hookimpl
from rostersync.connector import CheckStep, Connector, FetchContext, setting
from rostersync.settings import BundleSettings
from rostersync.transport import Transport

if TYPE_CHECKING:
    from rostersync.batches import RawBatch

KIND = "local-folder"


@attrs.frozen
class LocalFolderSettings(BundleSettings):
    """What every ``local-folder`` connector is configured with (an SIS connector may add defaults)."""

    path: Path = setting("Folder (or .zip) holding the roster files, e.g. where an SFTP server drops them")


def fetch(connector: Connector, context: FetchContext) -> Iterator[RawBatch]:
    from rostersync.csvbundle import read_bundle  # lazily: plugin modules load on every command
    from rostersync.unchanged import skip_if_unchanged

    settings: LocalFolderSettings = context.settings
    skip_if_unchanged(context, settings.path)
    yield from read_bundle(settings.path, settings.format, demographics=settings.demographics)


def check(connector: Connector, context: FetchContext) -> list[CheckStep]:
    from rostersync.csvbundle import describe_bundle
    from rostersync.errors import RostersyncError

    settings: LocalFolderSettings = context.settings
    folder = settings.path
    if not folder.exists():
        return [CheckStep("folder", False, f"{folder} is not a folder or zip file (check the path setting)")]
    steps = [CheckStep("folder", True, str(folder))]
    try:
        plan = describe_bundle(folder, settings.format)
    except RostersyncError as exc:
        return [*steps, CheckStep("required files", False, str(exc))]
    files = ", ".join(f"{p.actual} ({p.mode})" for p in plan.files)
    return [*steps, CheckStep("required files", True, f"{plan.format}: {files or 'manifest declares no files'}")]


@hookimpl
def rostersync_register_transports(register):  # type: ignore[no-untyped-def]
    register(Transport(KIND, "A roster bundle (folder or .zip) on this machine", LocalFolderSettings, fetch, check))
