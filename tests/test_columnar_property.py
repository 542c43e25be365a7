"""Property: the column-wise CSV fast path maps every batch exactly as the reference row mapper does.

For each OneRoster file (1.1 and 1.2), hypothesis draws a header (every required column, any optional
ones, in any order, with ``metadata.*`` and ``password`` columns now and then) and rows whose cells mix
each column's valid values with blanks, whitespace, other columns' values and arbitrary text. Both
mappers see the same batch; they must agree on the stored rows, the records a plugin would see, the
lines, the warnings and the errors (message, file, line and column), in order.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rostersync.batches import RawBatch
from rostersync.formats import oneroster12_csv, oneroster_csv
from rostersync.formats.columnar import map_columns
from rostersync.formats.columns import map_rows
from rostersync.store.schema import TABLES, StoredRows

TRICKY = ("", " ", "  ", "a", " a ", "A", "x,y", " x , ,y", ",", "true", "FALSE", " True ", "yes", "2026-01-05",
          " 2026-01-05", "2026-02-30", "01/05/2026", "2026-01-05T10:00:00.000Z", "2026-13-01T00:00:00Z", "student",
          "Teacher", " SCHOOL ", "district", "scheduled", "gradingPeriod", "{LDAP:jdoe}", "{a:b}, {c : d }", "{bad",
          "9", "09", "K", "Kindergarten", "PreK", "13", "99", "9,10", "K, 1 ,X", "1e999", "NaN", "3.5", "-2",
          "active", "INACTIVE", "inactive", "ext:custom", "primary", "fully graded", "=cmd", "é中", "tch-1")

SPECS = [(fmt, entity, spec) for fmt, files in (("1.1", oneroster_csv.FILES), ("1.2", oneroster12_csv.FILES))
         for entity, spec in files.items() if not (fmt == "1.2" and entity == "users") and entity != "line_items"]


def _valid(parse: object) -> list[str]:
    out = []
    for value in TRICKY:
        try:
            parse(value)  # type: ignore[operator]
        except ValueError:
            continue
        if value.strip():
            out.append(value)
    return out


@st.composite
def batches(draw: st.DrawFn, spec: oneroster_csv.FileSpec) -> RawBatch:
    optional = [c for c in spec.columns if not c.required]
    chosen = [c for c in spec.columns if c.required] + draw(st.lists(st.sampled_from(optional), unique=True)
                                                             if optional else st.just([]))
    names = [c.name for c in chosen]
    extras = draw(st.lists(st.sampled_from(("metadata.a", "metadata.b", "password")), unique=True, max_size=2))
    header = draw(st.permutations(names + extras))
    cells = {c.name: st.one_of(st.sampled_from(_valid(c.parse) or TRICKY), st.sampled_from(TRICKY), st.text(max_size=6))
             if c.name != "status" else st.sampled_from(("", "active", "inactive", " Active "))
             for c in chosen}
    free = st.one_of(st.just(""), st.text(max_size=6))
    rows = []
    for n in range(draw(st.integers(1, 12))):
        row = [draw(cells[h]) if h in cells else draw(free) for h in header]
        rows.append((n + 2 + draw(st.integers(0, 1)), row))  # line numbers with gaps (multi-line fields)
    return RawBatch("oneroster-csv", "x", "file.csv", rows, "bulk", tuple(header), ("a reader warning",))


EXAMPLES = max(10, int(os.environ.get("ROSTERSYNC_FUZZ_EXAMPLES", "150")) // 3)


@pytest.mark.parametrize(("fmt", "entity", "spec"), SPECS, ids=[f"{f}-{e}" for f, e, _ in SPECS])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_path_maps_like_the_reference(fmt: str, entity: str, spec: oneroster_csv.FileSpec,
                                           data: st.DataObject) -> None:
    batch = data.draw(batches(spec))
    grades = "grades_raw" in TABLES[entity].columns
    fast = map_columns(batch, spec, grades=grades)
    reference = map_rows(batch, spec, oneroster_csv.grades_finish if grades else None)
    assert fast is not None
    assert isinstance(fast.records, StoredRows)
    assert [(str(e), e.file, e.line, e.field) for e in fast.errors] == \
        [(str(e), e.file, e.line, e.field) for e in reference.errors]
    assert list(fast.warnings) == list(reference.warnings)
    assert list(fast.lines) == list(reference.lines)
    assert list(fast.records.rows()) == [TABLES[entity].to_row(r) for r in reference.records]
    assert list(fast.records) == list(reference.records)


def test_batches_the_fast_path_leaves_to_the_reference() -> None:
    """Delta files and bulk files carrying tobedeleted rows keep the reference mapper's handling."""
    spec = oneroster_csv.FILES["orgs"]
    header = ("sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId")
    row = (2, ["o1", "tobedeleted", "", "North", "school", "", ""])
    assert map_columns(RawBatch("x", "orgs", "orgs.csv", [row], "delta", header), spec) is None
    assert map_columns(RawBatch("x", "orgs", "orgs.csv", [row], "bulk", header), spec) is None
    mapped = oneroster_csv.map_file(RawBatch("x", "orgs", "orgs.csv", [row], "bulk", header), spec)
    assert mapped.records == [] and "tobedeleted in a bulk file" in str(mapped.warnings[0])
    warning = mapped.warnings[0]  # structured: the run report can name the record and its place
    assert (warning.code, warning.file, warning.line, warning.column, warning.sourced_id) == (
        "bulk_tobedeleted", "orgs.csv", 2, "status", "o1")
    assert str(warning).startswith("orgs.csv:2:status: tobedeleted in a bulk file: left out")


@pytest.mark.parametrize("org_ids", [("sch-lincoln",), ("sch-roosevelt",), ("sch-lincoln", "sch-roosevelt"), ("x",)])
def test_scoping_stored_rows_keeps_what_scoping_records_keeps(tmp_path, org_ids) -> None:
    """The scope filter reads the fast path's columns directly; it must keep and drop exactly the rows it
    keeps and drops when handed the same batch as records."""
    from rostersync.csvbundle import read_bundle
    from rostersync.demo import sample_bundle
    from rostersync.scope import Scope
    from rostersync.store.staging import StagingArea

    stored_scope, record_scope = Scope(org_ids), Scope(org_ids)
    stored_area, record_area = StagingArea(tmp_path / "a.db", 1), StagingArea(tmp_path / "b.db", 2)
    for raw in read_bundle(sample_bundle(), "oneroster-1.1"):
        mapped = oneroster_csv.map_batch(raw)
        assert isinstance(mapped.records, StoredRows)
        as_records = mapped.__class__(mapped.entity, mapped.location, list(mapped.records), mapped.mode,
                                      mapped.warnings, mapped.lines, mapped.errors)
        a = stored_scope.filter(mapped, stored_area)
        b = record_scope.filter(as_records, record_area)
        assert list(a.records) == list(b.records) and list(a.lines) == list(b.lines), raw.entity
        for area, batch in ((stored_area, a), (record_area, b)):
            area.write(batch)
    for table in ("_entities", "_out_of_scope"):
        assert stored_area.conn.execute(f"SELECT * FROM {table}").fetchall() == \
            record_area.conn.execute(f"SELECT * FROM {table}").fetchall()
