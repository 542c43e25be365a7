"""``rostersync validate PATH``: every check a sync would run, without a database.

The bundle goes through the same reader, format plugins and staging area as a sync (a temporary
staging file, deleted afterwards), so what validate accepts a sync accepts. Unlike a sync, it does
not stop at the first bad row: row errors are collected per (file, column) with a count and the first
few examples; problems with the bundle's make-up (missing files, broken headers) are reported as
they come. References to entities a delta bundle does not carry cannot be checked without the
roster and are counted as unverified. Memory stays bounded: rows stream into the staging file and
each group keeps only its examples.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import attrs

from rostersync.batches import RawBatch
from rostersync.csvbundle import check_format, read_bundle
from rostersync.errors import RostersyncError
from rostersync.formats import Format, map_raw
from rostersync.integrity import CheckPolicy, verify_references
from rostersync.issues import Issue
from rostersync.plugins import get_formats
from rostersync.store.staging import StagingArea

SKIPPED = "skipped: "


@attrs.define
class Group:
    """Problems of one kind in one place: a count and the first few examples."""

    file: str
    column: str
    count: int = 0
    examples: list[dict[str, Any]] = attrs.Factory(list)


@attrs.define
class Grouper:
    limit: int
    groups: dict[tuple[str, str], Group] = attrs.Factory(dict)

    def add(self, issue: Issue, file: str = "") -> None:
        """Count ``issue`` in its (file, column) group (``file`` when it names none), keeping an example."""
        key = (issue.file or file, issue.column or "")
        group = self.groups.setdefault(key, Group(*key))
        group.count += 1
        if len(group.examples) < self.limit:
            group.examples.append({"line": issue.line, "message": issue.message})

    def add_error(self, error: RostersyncError) -> None:
        self.add(Issue.from_error(error), file="bundle")

    def total(self) -> int:
        return sum(g.count for g in self.groups.values())

    def as_list(self) -> list[dict[str, Any]]:
        return [attrs.asdict(g) for g in self.groups.values()]


@attrs.define
class ValidationReport:
    path: str
    format: str | None
    counts: dict[str, dict[str, int]]
    errors: Grouper
    warnings: Grouper
    unverified: int = 0

    @property
    def ok(self) -> bool:
        return self.errors.total() == 0

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "ok": self.ok, "counts": self.counts,
                "errors": self.errors.as_list(), "warnings": self.warnings.as_list(),
                "error_count": self.errors.total(), "warning_count": self.warnings.total(),
                "unverified_references": self.unverified}


def validate_bundle(path: Path, format: str = "auto", policy: CheckPolicy | None = None,
                    examples: int = 5) -> ValidationReport:
    """Read, map, stage and check the bundle at ``path`` (folder or zip) in a temporary staging area."""
    check_format(format)
    formats = get_formats()
    policy = policy or CheckPolicy()
    errors, warnings = Grouper(examples), Grouper(examples)
    detected: str | None = None
    structural = False
    seen_fatal: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="rostersync-validate-") as tmp:
        staging = StagingArea(Path(tmp) / "validate.db", 0)
        staging.on_duplicate = "skip"  # stage the first of each sourcedId, so later checks still run
        try:
            try:
                for raw in read_bundle(path, format, demographics=True):
                    detected = detected or _format_name(raw)
                    structural |= _stage(formats, raw, staging, errors, seen_fatal)
            except RostersyncError as exc:
                errors.add_error(exc)
                structural = True
            if not structural:
                staging.finish()  # index; duplicates beyond the first are skipped and recorded
            counts = _counts(staging)
            unverified = 0
            if not structural:
                report = verify_references(staging, policy, None, on_error=errors.add)
                unverified = report.unverified
                for entity, n in report.skipped.items():
                    counts.setdefault(entity, {"rows": 0, "valid": 0})["skipped"] = n
                    counts[entity]["valid"] -= n
            for issue in staging.issues():
                if policy.duplicate == "error" and issue.code == "duplicate":  # staged with "skip", to go on
                    errors.add(attrs.evolve(issue, level="error", message=issue.message.removeprefix(SKIPPED)))
                else:
                    warnings.add(issue)
        finally:
            staging.discard()
    return ValidationReport(str(path), detected, counts, errors, warnings, unverified)


def _format_name(raw: RawBatch) -> str:
    return {"oneroster-1.1-csv": "oneroster-1.1", "oneroster-1.2-csv": "oneroster-1.2"}.get(
        raw.format, "clever" if raw.format.startswith("clever-csv") else raw.format)


def _stage(formats: dict[str, Format], raw: RawBatch, staging: StagingArea, errors: Grouper,
           seen_fatal: set[str]) -> bool:
    """Map and stage one batch; True when the file itself is unusable (a broken header...)."""
    try:
        mapped = map_raw(formats, raw)
    except RostersyncError as exc:
        if str(exc) not in seen_fatal:  # a header error repeats for every batch of its file
            seen_fatal.add(str(exc))
            errors.add_error(exc)
        return True
    for error in mapped.errors:
        errors.add_error(error)
    staging.write(mapped)
    return False


def _counts(staging: StagingArea) -> dict[str, dict[str, int]]:
    return {entity: {"rows": fetched, "valid": valid} for entity, fetched, valid in staging.summary()}


def print_report(report: ValidationReport) -> None:
    """The human form: counts per entity, then errors and warnings grouped, with examples."""
    from rich.table import Table

    from rostersync.output import console

    verdict = "[green]valid[/]" if report.ok else "[bold red]invalid[/]"
    console.print(f"{report.path}: {report.format or 'unknown format'} bundle, {verdict} - "
                  f"{report.errors.total()} error(s), {report.warnings.total()} warning(s)", soft_wrap=True)
    if report.counts:
        table = Table(title_justify="left")
        for col in ("entity", "rows", "valid", "skipped"):
            table.add_column(col, justify="left" if col == "entity" else "right")
        for entity, c in report.counts.items():
            table.add_row(entity, str(c.get("rows", 0)), str(c.get("valid", 0)), str(c.get("skipped", 0)))
        console.print(table)
    for title, grouper in (("Errors", report.errors), ("Warnings", report.warnings)):
        if not grouper.groups:
            continue
        console.print(f"[bold]{title}[/]")
        for group in grouper.groups.values():
            where = f"{group.file} {group.column}".strip() or "bundle"
            console.print(f"  {where}: {group.count}", soft_wrap=True, highlight=False, markup=False)
            for ex in group.examples:
                line = f"line {ex['line']}: " if ex["line"] else ""
                console.print(f"    {line}{ex['message']}", soft_wrap=True, highlight=False, markup=False)
    if report.unverified:
        console.print(f"{report.unverified} reference(s) point to entities this bundle does not carry "
                      f"(delta/absent): they are checked against the roster when synced (a row whose reference "
                      f"into an absent entity the roster does not hold either is kept, with a warning).")
