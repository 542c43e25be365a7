"""Transport for connectors of kind ``local-folder``: a roster bundle (OneRoster or Clever CSV) in a folder
or .zip on this machine (e.g. where an SFTP server drops a district's files)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from rostersync import hookimpl
from rostersync.connector import CheckStep, Connector, FetchContext

if TYPE_CHECKING:
    from rostersync.batches import RawBatch

KIND = "local-folder"


@hookimpl
def rostersync_fetch(connector: Connector, context: FetchContext) -> Iterator[RawBatch] | None:
    if connector.kind != KIND:
        return None
    return _fetch(context)


def _fetch(context: FetchContext) -> Iterator[RawBatch]:
    from rostersync.csvbundle import read_bundle  # lazily: plugin modules load on every command
    from rostersync.unchanged import skip_if_unchanged

    settings = context.settings
    skip_if_unchanged(context, settings.path)
    yield from read_bundle(settings.path, getattr(settings, "format", "auto"),
                           demographics=getattr(settings, "demographics", False))


@hookimpl
def rostersync_check(connector: Connector, context: FetchContext) -> list[CheckStep] | None:
    if connector.kind != KIND:
        return None
    from rostersync.csvbundle import describe_bundle
    from rostersync.errors import RostersyncError

    folder = context.settings.path
    if not folder.exists():
        return [CheckStep("folder", False, f"{folder} is not a folder or zip file (check the path setting)")]
    steps = [CheckStep("folder", True, str(folder))]
    try:
        plan = describe_bundle(folder, getattr(context.settings, "format", "auto"))
    except RostersyncError as exc:
        return [*steps, CheckStep("required files", False, str(exc))]
    files = ", ".join(f"{p.actual} ({p.mode})" for p in plan.files)
    return [*steps, CheckStep("required files", True, f"{plan.format}: {files or 'manifest declares no files'}")]
