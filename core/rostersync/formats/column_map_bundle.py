"""Reading a bundle described by a column map: the required-files check, then the streams in
dependency order (derived orgs before the users that belong to them, opt-in demographics last).

:func:`plan_column_map` finds each file of the map by its pattern (any case) and reports every
required file that is missing, and every pattern that matches more than one file, together, before
a row is read. :func:`read_column_map` first scans the files that enrich another file or that
records are derived from, copying what it needs into a private temporary SQLite file (indexed by
key: an enrich file's winning row per key, a derived record per distinct sourced_id), then streams
each records file batch by batch, looking up the enrich data of a batch's rows in one indexed query
per 500 keys. Memory is bounded by a batch whatever the district's size, as in the Clever and
OneRoster 1.2 readers (:mod:`.scratch`); the temporary file is removed when reading ends.

A scanned file's problems (a bad date, a row that is too short) are reported with the first batch of
the stream they feed, naming the scanned file's own line and column, so a sync refuses the run and
``rostersync validate`` lists them like any other row error. Every column-map export is a full
snapshot: every stream is ``bulk``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs

from rostersync.batches import RawBatch
from rostersync.bundlefiles import BATCH_ROWS, Bundle, read_csv
from rostersync.errors import DataError
from rostersync.formats import fields as f
from rostersync.formats.column_map import ColumnMap, Derive, FileMap, glob_matches
from rostersync.formats.column_map_rows import (
    DERIVED,
    ENRICHED,
    Compiled,
    compile_fields,
    encode,
    parse_values,
)
from rostersync.formats.columns import Column
from rostersync.formats.oneroster_bundle import BundlePlan, PlannedFile, bundle_incomplete
from rostersync.formats.scratch import ScratchIndex
from rostersync.issues import Issue
from rostersync.model import ENTITIES

#: row errors kept from one scanned file; past this a single line says how many more there were
MAX_FINDINGS = 1000
#: dependency order of the streams
ORDER = {entity: position for position, entity in enumerate(ENTITIES)}


def plan_column_map(cmap: ColumnMap, bundle: Bundle) -> BundlePlan:
    """Every file of the map found, or an error listing every problem with the bundle's make-up."""
    names = bundle.names()
    problems: list[str] = []
    planned: list[PlannedFile] = []
    claimed: dict[str, str] = {}
    for fm in cmap.files:
        found = [n for n in names if fm.matches(n)]
        for name in found:
            if name in claimed:
                problems.append(f"{name} matches both {claimed[name]} and {fm.pattern}: rename it")
            claimed[name] = fm.pattern
        if len(found) > 1:
            problems.append(f"{len(found)} files match {fm.pattern} ({', '.join(found)}): an export has one; "
                            f"remove the older ones")
        elif found:
            planned.append(PlannedFile(fm.name, found[0], cmap.record_type(fm).entity, "bulk"))
        elif fm.required:
            problems.append(f"{fm.pattern} is missing: it holds {fm.purpose}")
    if problems:
        if len(planned) < len(cmap.files):
            problems.append(f"the bundle holds: {', '.join(names) or 'no files'}")
        raise bundle_incomplete(problems, cmap.name, bundle.location)
    warnings = [Issue(f"not imported: {why}", code="not_imported", file=name) for pattern, why in cmap.ignore.items()
                for name in names if name not in claimed and glob_matches(pattern, name)]
    present = {p.name for p in planned}
    warnings += [Issue(f"not read: it completes {fm.enrich.into}, which this bundle lacks", code="not_read",
                       file=p.actual)
                 for p in planned if (fm := cmap.file(p.name)).enrich and fm.enrich.into not in present]
    return BundlePlan(cmap.name, cmap.name, tuple(planned), tuple(warnings))


@attrs.define
class Findings:
    """Row errors and warnings of a scanned file, waiting for the stream they are reported with."""

    errors: list[DataError] = attrs.Factory(list)
    warnings: list[str | Issue] = attrs.Factory(list)
    dropped: int = 0
    file: str = ""

    def add_errors(self, errors: Sequence[DataError], file: str) -> None:
        room = MAX_FINDINGS - len(self.errors)
        self.errors += errors[:max(room, 0)]
        self.dropped += max(len(errors) - max(room, 0), 0)
        self.file = file

    def attach(self, batch: RawBatch) -> RawBatch:
        errors = list(self.errors)
        if self.dropped:
            errors.append(DataError(f"and {self.dropped} more invalid row(s) (rostersync reports the first "
                                    f"{MAX_FINDINGS} of a file it scans)", self.file))
        warnings = self.warnings
        if not errors and not warnings:
            return batch
        self.errors, self.warnings, self.dropped = [], [], 0
        return attrs.evolve(batch, errors=(*errors, *batch.errors), warnings=(*warnings, *batch.warnings))


class MapIndex(ScratchIndex):
    """What the streams need from the scanned files: an enrich file's winning row per key, and the
    derived records (first row per sourced_id, in file order)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, """
            CREATE TABLE enriched (file TEXT, key TEXT, sort TEXT, line INTEGER, data TEXT, notes TEXT,
                                   PRIMARY KEY (file, key)) WITHOUT ROWID;
            CREATE TABLE derived (derive INTEGER, key TEXT, line INTEGER, data TEXT, UNIQUE (derive, key));
        """)

    def enrich(self, rows: list[tuple], latest: bool) -> None:
        """(file, key, sort, line, data, notes) rows: per key, the latest sort (then line) wins, or the first."""
        if latest:
            self.insert("INSERT INTO enriched VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (file, key) DO UPDATE SET "
                        "sort = excluded.sort, line = excluded.line, data = excluded.data, notes = excluded.notes "
                        "WHERE (excluded.sort, excluded.line) > (enriched.sort, enriched.line)", rows)
        else:
            self.insert("INSERT OR IGNORE INTO enriched VALUES (?, ?, ?, ?, ?, ?)", rows)

    def derive(self, rows: list[tuple]) -> None:
        """(derive, key, line, data) rows: the first of each key wins."""
        self.insert("INSERT OR IGNORE INTO derived VALUES (?, ?, ?, ?)", rows)

    def notes(self, file: str) -> list[str]:
        """Warnings of the winning rows of an enrich file (a superseded row's do not matter)."""
        rows = self.conn.execute("SELECT notes FROM enriched WHERE file = ? AND notes != '' ORDER BY line "
                                 "LIMIT ?", [file, MAX_FINDINGS])
        return [note for (text,) in rows for note in text.split("\n")]

    def data(self, file: str, keys: list[str]) -> dict[str, str]:
        """key -> the enrich file's fields for it (JSON), for the keys it has."""
        return dict(self.lookup("SELECT key, data FROM enriched WHERE file = ? AND key IN ({})", keys, file))

    def derived(self, derive: int) -> Iterator[list[tuple[int, list[str]]]]:
        cursor = self.conn.execute("SELECT line, data FROM derived WHERE derive = ? ORDER BY rowid", [derive])
        while True:
            chunk = cursor.fetchmany(BATCH_ROWS)
            yield [(line, [data]) for line, data in chunk]
            if len(chunk) < BATCH_ROWS:
                return



class ColumnMapReader:
    """One read of one bundle: scan what needs scanning, then stream."""

    def __init__(self, cmap: ColumnMap, bundle: Bundle, plan: BundlePlan, index: MapIndex) -> None:
        self.cmap, self.bundle, self.index = cmap, bundle, index
        self.actual = {p.name: p.actual for p in plan.files}
        self.pending: dict[str, Findings] = {}  # stream -> findings reported with its first batch

    def read(self, fm: FileMap, entity: str, mode: str = "bulk") -> Iterator[RawBatch]:
        return read_csv(self.bundle, self.actual[fm.name], format=self.cmap.name, entity=entity, mode=mode)

    def findings(self, stream: str) -> Findings:
        return self.pending.setdefault(stream, Findings())

    # -- scans --------------------------------------------------------------------------------------
    def scan(self, fm: FileMap) -> None:
        """One pass over a file that enriches another or that records are derived from."""
        derives = [(i, d) for i, d in enumerate(self.cmap.derive) if d.source == fm.name]
        enrich = fm.enrich if fm.enrich and fm.enrich.into in self.actual else None
        if not enrich and not derives:
            return
        compiled: dict[tuple[str, ...], list[Compiled]] = {}
        # "delta": a scan is not the file's own stream, so no "a bulk file without rows" warning from it
        for batch in self.read(fm, self.cmap.record_type(fm).entity, mode="delta"):
            if not fm.entity and enrich:  # read only here: its reader's findings are reported from here
                found = self.findings(enrich.into)
                found.add_errors(batch.errors, batch.location)
                found.warnings += batch.warnings
            specs = compiled.get(batch.header)
            if specs is None:
                specs = compiled[batch.header] = self._compile(fm, [d for _i, d in derives], batch)
            if enrich:
                self._scan_enrich(fm, batch, specs[0])
            for (i, _derive), spec in zip(derives, specs[1 if enrich else 0:], strict=True):
                self._scan_derive(i, batch, spec)
        if enrich:
            self.findings(enrich.into).warnings += self.index.notes(fm.name)

    def _compile(self, fm: FileMap, derives: list[Derive], batch: RawBatch) -> list[Compiled]:
        specs = []
        if fm.enrich and fm.enrich.into in self.actual:
            enrich = fm.enrich
            keys = [Column(enrich.key, "_key", f.ident, required=True)]
            if enrich.latest:
                keys.append(Column(enrich.latest, "_sort", enrich.latest_parse, required=True))
            specs.append(compile_fields(fm.fields, self.cmap.record_type(fm), batch.header, final=False, extra=keys,
                                        extra_only=frozenset()))
        for derive in derives:
            fields = tuple(attrs.evolve(field, required=False) if field.attr == "sourced_id" else field
                           for field in derive.fields)
            specs.append(compile_fields(fields, ENTITIES[derive.entity], batch.header, extra_only=frozenset()))
        return specs

    def _scan_enrich(self, fm: FileMap, batch: RawBatch, compiled: Compiled) -> None:
        assert fm.enrich is not None
        errors: list[DataError] = []
        rows = []
        for line, values, notes in parse_values(batch, compiled, errors):
            key, sort = values.pop("_key"), values.pop("_sort", "")
            rows.append((fm.name, key, sort, line, encode(values), "\n".join(notes)))
        self.index.enrich(rows, latest=bool(fm.enrich.latest))
        self.findings(fm.enrich.into).add_errors(errors, batch.location)

    def _scan_derive(self, i: int, batch: RawBatch, compiled: Compiled) -> None:
        errors: list[DataError] = []
        rows = []
        for line, values, notes in parse_values(batch, compiled, errors):
            if values.get("sourced_id"):
                rows.append((i, values["sourced_id"], line, encode(values)))
                self.findings(f"derive:{i}").warnings += notes
        self.index.derive(rows)
        self.findings(f"derive:{i}").add_errors(errors, batch.location)

    # -- streams -----------------------------------------------------------------------------------
    def streams(self, demographics: bool) -> Iterator[RawBatch]:
        """Every stream, in dependency order (derived records before the files' own)."""
        planned: list[tuple[int, Iterator[RawBatch]]] = []
        for i, derive in enumerate(self.cmap.derive):
            if derive.source in self.actual:
                planned.append((ORDER[derive.entity], self._derived(i, derive)))
        for fm in self.cmap.files:
            if fm.entity and fm.name in self.actual:
                planned.append((ORDER[fm.entity], self._records(fm)))
                if fm.demographics and demographics:
                    planned.append((ORDER["demographics"], self._quiet(self.read(fm, "demographics"))))
        for _order, stream in sorted(planned, key=lambda p: p[0]):
            yield from stream

    def _derived(self, i: int, derive: Derive) -> Iterator[RawBatch]:
        location = self.actual[derive.source]
        found = self.findings(f"derive:{i}")
        for rows in self.index.derived(i):
            yield found.attach(RawBatch(self.cmap.name, derive.entity, location, rows, "bulk", DERIVED))

    def _records(self, fm: FileMap) -> Iterator[RawBatch]:
        enrichers = [e for e in self.cmap.files if e.enrich and e.enrich.into == fm.name and e.name in self.actual]
        found = self.findings(fm.name)
        for batch in self.read(fm, fm.entity):
            for enricher in enrichers:
                batch = self._enriched(batch, enricher)
            yield found.attach(batch)

    def _enriched(self, batch: RawBatch, enricher: FileMap) -> RawBatch:
        """The batch with one more column: the enrich file's fields for each row, as JSON."""
        assert enricher.enrich is not None
        match = enricher.enrich.match
        at = next((i for i, h in enumerate(batch.header) if h.lower() == match.lower()), None)
        if at is None:
            raise DataError(f"header lacks column {match} ({self.actual[enricher.name]} is matched to this file "
                            f"by it)", batch.location, 1, match)
        found = self.index.data(enricher.name, [row[at].strip() for _line, row in batch.rows])
        rows = [(line, [*row, found.get(row[at].strip(), "")]) for line, row in batch.rows]
        return attrs.evolve(batch, rows=rows, header=(*batch.header, f"{ENRICHED}{enricher.name}"))

    @staticmethod
    def _quiet(batches: Iterator[RawBatch]) -> Iterator[RawBatch]:
        """A second read of a file: its reader's findings were reported by the first."""
        for batch in batches:
            yield attrs.evolve(batch, warnings=(), errors=())


def read_column_map(cmap: ColumnMap, bundle: Bundle, plan: BundlePlan, *, demographics: bool) -> Iterator[RawBatch]:
    """The raw batches of a bundle in ``cmap``'s layout (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="rostersync-colmap-") as tmp:
        index = MapIndex(Path(tmp) / "index.db")
        try:
            reader = ColumnMapReader(cmap, bundle, plan, index)
            for fm in cmap.files:
                if fm.name in reader.actual:
                    reader.scan(fm)
            yield from reader.streams(demographics)
        finally:
            index.close()
