"""File-based roster bundles: the one entry point for every transport that delivers files.

:func:`read_bundle` takes a folder or a .zip (from a local folder, an SFTP drop...), works out the
format (OneRoster 1.1 or 1.2 CSV by manifest.csv, Clever CSV by its file names) unless told (a
vendor's own layout, described by an installed column map, is always named, never detected), checks
that every required file is there (reporting all that are missing at once, before anything is
read), and yields :class:`~rostersync.batches.RawBatch` objects in dependency order, streamed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from rostersync.batches import RawBatch
from rostersync.bundlefiles import BATCH_ROWS, Bundle, ZipLimit, open_bundle, read_csv_batches
from rostersync.errors import ConfigError, SourceError
from rostersync.formats.clever_bundle import plan_clever, read_clever
from rostersync.formats.oneroster_bundle import (
    ONEROSTER_FILES,
    BundlePlan,
    plan_oneroster,
    read_manifest,
    read_oneroster,
)
from rostersync.formats.oneroster_csv import ONEROSTER_11
from rostersync.settings import BUNDLE_FORMATS, bundle_reader

if TYPE_CHECKING:
    from rostersync.formats import BundleReader

__all__ = ["BATCH_ROWS", "FORMATS", "ONEROSTER_11", "ONEROSTER_FILES", "bundle_plan", "plan_bundle",
           "read_bundle", "read_csv_batches", "read_manifest"]

#: the built-in formats a connector's ``format`` setting may say (or an installed column map's name)
FORMATS = BUNDLE_FORMATS


def _reader(format: str) -> BundleReader | None:
    """None for a built-in format; the reader of a column map's format; ConfigError for anything else."""
    try:
        return bundle_reader(format)
    except ValueError as exc:
        raise ConfigError(f"unknown bundle format: {exc}") from None


def check_format(format: str) -> str:
    _reader(format)
    return format


def plan_bundle(bundle: Bundle, format: str = "auto") -> BundlePlan:
    """Detect (``auto``) or confirm the format and check the bundle's make-up; nothing is read yet."""
    layout = _reader(format)
    if layout is not None:
        return layout.plan(bundle)
    if format == "auto":
        format = _detect(bundle)
    return plan_clever(bundle) if format == "clever" else plan_oneroster(bundle, format)


#: Files only one of the two families has; enrollments.csv, courses.csv (sent with a Clever drop when a
#: vendor asks for one) and demographics.csv can be in both.
CLEVER_ONLY = ("schools.csv", "students.csv", "teachers.csv", "sections.csv", "staff.csv")
SHARED = ("enrollments.csv", "demographics.csv", "courses.csv")


def _detect(bundle: Bundle) -> str:
    """``clever`` when the bundle has Clever's own files and none of OneRoster's, else OneRoster
    (1.1 or 1.2, told apart by the manifest), so a OneRoster bundle that lost its manifest is
    reported as exactly that rather than as an incomplete Clever drop."""
    oneroster = bundle.find("manifest.csv") or any(
        bundle.find(n) for n in ONEROSTER_FILES if n not in SHARED)
    clever = any(bundle.find(n) for n in CLEVER_ONLY)
    if clever and not oneroster:
        return "clever"
    if oneroster:
        return "auto"  # plan_oneroster tells 1.1 from 1.2 by the manifest
    raise SourceError(
        "no roster files found: expected a OneRoster bundle (manifest.csv, orgs.csv, users.csv...) or "
        "Clever files (schools.csv, students.csv, teachers.csv, sections.csv, enrollments.csv)",
        bundle.location,
    )


def read_bundle(folder: Path, format: str = "auto", *, demographics: bool = False, label: str | None = None,
                max_unzipped: ZipLimit | None = None) -> Iterator[RawBatch]:
    """The one entry point for file-based transports (local folder, SFTP drop, zip): the roster files of
    ``folder`` (a folder or a .zip, read in place) in ``format`` as raw batches. Demographics are skipped
    unless asked for (opt-in). ``label`` and ``max_unzipped``: see :func:`~rostersync.bundlefiles.open_bundle`."""
    layout = _reader(format)
    with open_bundle(Path(folder), label=label, max_unzipped=max_unzipped) as bundle:
        plan = plan_bundle(bundle, format)
        reader = layout.read if layout else read_clever if plan.format == "clever" else read_oneroster
        pending = plan.warnings
        for batch in reader(bundle, plan, demographics=demographics):
            if pending:
                batch = attrs.evolve(batch, warnings=(*pending, *batch.warnings))
                pending = ()
            yield batch


def describe_bundle(folder: Path, format: str = "auto", *, label: str | None = None,
                    max_unzipped: ZipLimit | None = None) -> BundlePlan:
    """The plan of a bundle without reading any rows (``rostersync check``)."""
    with open_bundle(Path(folder), label=label, max_unzipped=max_unzipped) as bundle:
        return plan_bundle(bundle, format)


def bundle_plan(folder: Path, format: str = "auto") -> list[tuple[str, str, str]]:
    """(file name, entity, mode) for each file to read, in dependency order."""
    return [(p.name, p.entity, p.mode) for p in describe_bundle(folder, format).files]
