"""Apply one run on PostgreSQL: in one transaction, under the source's advisory lock and the run fence,
COPY its staging in, diff it set-based against the live roster, and write the result with its audit.

The transaction, in order:

1. ``pg_advisory_xact_lock`` on the source: applies of one source queue up behind each other (and the
   lock goes with the transaction, whatever happens to the process).
2. **The fence**: the run's row, locked ``FOR UPDATE``, must still be ``running`` (``held`` for an
   approve), and no other run of the same queued job may be applied already. A stale attempt whose
   run another attempt recovered as interrupted, or a retried job whose first attempt committed,
   stops here having changed nothing.
3. COPY of the run's SQLite staging (text ``write_row``: values are cast by the server) into the
   UNLOGGED ``stage_<entity>`` tables under the run's id. Inside the transaction: a run that fails or
   is rolled back leaves no staged rows; a held run's stay, committed with its hold.
4. Per entity, the diff: one ``INSERT INTO changes ... SELECT`` of the staged rows that are new,
   changed or deleted-and-back (a row-wise ``IS DISTINCT FROM``: NULL equals NULL, and unchanged
   rows are neither audited nor rewritten), with each changed field's ``[before, after]``; one of the
   live rows the run deletes (bulk: missing from staging; delta: sent as ``tobedeleted``).
5. The safeguards read the counts. A hold commits the pending ``changes``, its staged rows and their
   counts (``run_staging``); a dry run rolls back; otherwise the live rows are written, driven by the
   run's ``changes`` rows (soft deletes, then one upsert whose ``ON CONFLICT ... WHERE`` skips rows
   that are the same), the staged rows go, and the run's status commits with everything else.

PostgreSQL 15 is the floor (Debian 12): no ``MERGE ... WHEN NOT MATCHED BY SOURCE`` or ``MERGE ...
RETURNING``, so the diff is ``INSERT ... SELECT`` and ``INSERT ... ON CONFLICT``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from rostersync.issues import COLUMNS
from rostersync.secrets import redact
from rostersync.store.base import ApplyOutcome, ApplyPolicy, ChangeRow, fence_error
from rostersync.store.pg import identity
from rostersync.store.pg.migrations import NEW_PERSON_ID, STAGE_PREFIX
from rostersync.store.schema import TABLES, TableSpec
from rostersync.store.sqlfiles import q
from rostersync.store.sqlite_identity import count_rekeys, unchanged
from rostersync.store.staging import StagingArea

ISSUE_COLUMNS = ", ".join(map(q, COLUMNS))
COUNT_KEYS = ("inserted", "updated", "restored", "deleted", "delete_skipped", "unchanged")
#: ``_deleted`` of a staged row that is only an id whose live row stays (refused as invalid, kept)
KEPT = 2
#: the counts staging made before the diff (``StagingArea.entities``)
BEFORE = ("fetched", "out_of_scope", "filtered")
OUTCOME = COLUMNS.index("outcome")


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def psycopg_rollback() -> BaseException:
    """The exception that leaves a ``with conn.transaction()`` block rolling it back, quietly."""
    from psycopg import Rollback

    return Rollback()


def source_key(school: str, source: str) -> str:
    """The text whose 64-bit hash is the source's advisory lock key."""
    return f"rostersync-source:{school}/{source}"


def fence(conn: Any, run_id: int, school: str, source: str, expect: str) -> None:
    """Take the source's transaction lock, then refuse (:func:`~rostersync.store.base.fence_error`) a run
    that is not ``expect`` any more or whose job another run already applied."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [source_key(school, source)])
    row = conn.execute("SELECT status, job_id FROM sync_runs WHERE id=%s FOR UPDATE", [run_id]).fetchone()
    status, job = row if row else (None, None)
    done = None
    if job is not None:
        done = conn.execute("SELECT id FROM sync_runs WHERE job_id=%s AND id<>%s AND status IN ('ok', 'held') "
                            "ORDER BY id LIMIT 1", [job, run_id]).fetchone()
    error = fence_error(run_id, status, expect, job, done[0] if done else None)
    if error is not None:
        raise error


def copy_staging(conn: Any, run_id: int, staging: StagingArea) -> list[dict[str, Any]]:
    """COPY the run's staged rows into ``stage_<entity>``, and the ids of rows it keeps (refused as
    invalid: their live rows stay) as rows marked ``_deleted = 2``; return its entities (entity, mode,
    staging's counts, rows put in the database) in dependency order."""
    src = staging.conn
    entities = []
    for entity, mode, before in staging.entities():
        spec = TABLES[entity]
        columns = ["sourced_id", *(c for c in spec.columns if c != "sourced_id")]
        collist = ", ".join(map(q, columns))
        stage = q(STAGE_PREFIX + entity)
        rows = 0
        with conn.cursor().copy(f"COPY {stage} (run_id, _row, {collist}, _deleted) FROM STDIN") as copy:
            for row in src.execute(f"SELECT rowid, {collist}, _deleted FROM {q(entity)} ORDER BY rowid"):
                copy.write_row((run_id, *row))
                rows += 1
        kept = [k for (k,) in src.execute("SELECT sourced_id FROM _kept WHERE entity=?", [entity])]
        if kept:
            rows += conn.execute(f"INSERT INTO {stage} (run_id, _row, sourced_id, _deleted) SELECT %s, 0, k, {KEPT} "
                                 f"FROM unnest(%s::text[]) k ON CONFLICT DO NOTHING", [run_id, kept]).rowcount
        entities.append({"entity": entity, "mode": mode, **before, "rows": rows})
    return entities


def staged_sources(staging: StagingArea) -> dict[str, list[str]]:
    """Entity -> the first files (or URLs) its staged rows came from, for the safeguards' messages."""
    sources: dict[str, list[str]] = {}
    for entity, name in staging.conn.execute("SELECT entity, name FROM _entity_files ORDER BY rowid"):
        sources.setdefault(entity, []).append(name)
    return sources


def staged_issues(staging: StagingArea) -> list[tuple[Any, ...]]:
    return staging.conn.execute(f"SELECT {ISSUE_COLUMNS} FROM _issues ORDER BY rowid").fetchall()


def missing_rows(conn: Any, run_id: int, entities: list[dict[str, Any]]) -> list[str]:
    """Entities of a held run whose staged rows are not all there (a crash empties UNLOGGED tables)."""
    gone = []
    for e in entities:
        sql = f"SELECT count(*) FROM {q(STAGE_PREFIX + e['entity'])} WHERE run_id=%s"
        n = conn.execute(sql, [run_id]).fetchone()[0]
        if n != e["rows"]:
            gone.append(f"{e['entity']} ({n} of {e['rows']} rows)")
    return gone


def drop_staged(conn: Any, run_id: int, entities: list[str] | None = None) -> None:
    """Delete a run's staged rows (every entity unless named) and its staging record."""
    for entity in entities if entities is not None else TABLES:
        conn.execute(f"DELETE FROM {q(STAGE_PREFIX + entity)} WHERE run_id=%s", [run_id])
    conn.execute("DELETE FROM run_staging WHERE run_id=%s", [run_id])


def apply_staged(conn: Any, run_id: int, school: str, source: str, entities: list[dict[str, Any]],
                 policy: ApplyPolicy, issues: list[tuple[Any, ...]] | None,
                 state: dict[str, Any] | None, sources: dict[str, list[str]] | None = None) -> ApplyOutcome:
    """Steps 4-5 of the module's transaction, on staged rows already in ``stage_<entity>``: diff, hold or
    write, and the run's row. ``issues``: the run's warnings to record (None: recorded at its hold);
    ``sources``: where each entity came from, for the safeguards' reasons. The caller commits, or rolls
    back a dry run (whose outcome says ``dry-run``)."""
    conn.execute("DELETE FROM changes WHERE run_id=%s", [run_id])  # a re-applied hold starts afresh
    # diffed in name order (the audit's index appends), counted in dependency order, as SQLite does
    diffed = {e["entity"]: diff_entity(conn, TABLES[e["entity"]], e["mode"], run_id, school, source, policy)
              for e in sorted(entities, key=lambda e: e["entity"])}
    counts = {e["entity"]: {**diffed[e["entity"]], **{k: e.get(k, 0) for k in BEFORE}} for e in entities}
    reasons = policy.safeguards.reasons(counts, sources) if policy.safeguards else []
    # filtered rows are reported, not warned about: a school's own rules left them out
    if issues is None:
        warnings = conn.execute("SELECT count(*) FROM run_issues WHERE run_id=%s AND coalesce(outcome, '') "
                                "!= 'filtered'", [run_id]).fetchone()[0]
    else:
        warnings = sum(1 for row in issues if (row[OUTCOME] or "") != "filtered")
    if policy.dry_run:
        preview = changes_of(conn, run_id, limit_per_entity=policy.preview_limit) if policy.preview_limit else []
        return ApplyOutcome("dry-run", public(counts), reasons, warnings, preview)
    status = "held" if reasons else "ok"
    if status == "ok":
        now = utcnow()
        for e in entities:
            write_entity(conn, TABLES[e["entity"]], run_id, school, source, now, counts[e["entity"]])
        drop_staged(conn, run_id, [e["entity"] for e in entities])
    else:
        conn.execute("INSERT INTO run_staging (run_id, entities) VALUES (%s, %s) ON CONFLICT (run_id) DO NOTHING",
                     [run_id, json.dumps(entities)])
    if issues:
        copy_issues(conn, run_id, issues)
    conn.execute(
        "UPDATE sync_runs SET status=%s, finished_at=%s, counts=%s, state=%s, warnings=%s, error=%s, mode=%s "
        "WHERE id=%s",
        [status, utcnow(), json.dumps(public(counts)), json.dumps(state or {}), warnings,
         redact("; ".join(reasons)) or None, "add-only" if policy.add_only else "mirror", run_id],
    )
    return ApplyOutcome(status, public(counts), reasons, warnings)


def copy_issues(conn: Any, run_id: int, issues: list[tuple[Any, ...]]) -> None:
    """Write a run's issues (stored rows, :data:`~rostersync.issues.COLUMNS` order) with one COPY."""
    with conn.cursor().copy(f"COPY run_issues (run_id, {ISSUE_COLUMNS}) FROM STDIN") as copy:
        for row in issues:
            copy.write_row((run_id, *row))


def _same(a: str, b: str, cols: tuple[str, ...]) -> str:
    """SQL: rows ``a`` and ``b`` hold the same stored values (row-wise, NULL-safe)."""
    return (f"({', '.join(f'{a}.{q(c)}' for c in cols)}) IS NOT DISTINCT FROM "
            f"({', '.join(f'{b}.{q(c)}' for c in cols)})")


def _fields(cols: tuple[str, ...]) -> str:
    """SQL: a changed row's ``{column: [before, after]}`` for each column that differs, in column order
    (``json``, not ``jsonb``, keeps the order), from live row ``l`` to staged row ``s``."""
    pairs = ", ".join(
        f"({n}, '{c}', CASE WHEN s.{q(c)} IS DISTINCT FROM l.{q(c)} THEN json_build_array(l.{q(c)}, s.{q(c)}) END)"
        for n, c in enumerate(cols))
    return (f"(SELECT coalesce(json_object_agg(k, v ORDER BY n), '{{}}') FROM (VALUES {pairs}) d(n, k, v) "
            f"WHERE v IS NOT NULL)::text")


def diff_entity(conn: Any, spec: TableSpec, mode: str, run_id: int, school: str, source: str,
                policy: ApplyPolicy) -> dict[str, int]:
    """Write one ``changes`` row per insert/update/restore/delete/re-key this entity's staging implies."""
    add_only = policy.add_only
    t, stage = q(spec.entity), q(STAGE_PREFIX + spec.entity)
    p = {"run": run_id, "school": school, "source": source, "entity": spec.entity}
    ours = "l.school=%(school)s AND l.source=%(source)s"

    def one(sql: str) -> Any:
        return conn.execute(sql, p).fetchone()[0]

    counts = dict.fromkeys(COUNT_KEYS, 0)
    if spec.entity == "users":
        counts["rekeyed"] = 0
    counts["current"] = one(f"SELECT count(*) FROM {t} l WHERE {ours} AND l.deleted_at IS NULL")
    staged = one(f"SELECT count(*) FROM {stage} WHERE run_id=%(run)s AND _deleted=0")
    counts["staged"], counts["bulk"] = staged, int(mode == "bulk")
    audit = "INSERT INTO changes (run_id, entity, school, source, sourced_id, action, fields) "
    if not one(f"SELECT EXISTS (SELECT 1 FROM {t} l WHERE {ours})"):  # the source's first sync of it
        counts["inserted"] = conn.execute(
            f"{audit} SELECT %(run)s, %(entity)s, %(school)s, %(source)s, s.sourced_id, 'insert', NULL "
            f"FROM {stage} s WHERE s.run_id=%(run)s AND s._deleted=0 ORDER BY s._row", p).rowcount
        return counts

    cols = spec.columns
    found = conn.execute(
        f"WITH d AS ({audit} SELECT %(run)s, %(entity)s, %(school)s, %(source)s, s.sourced_id, "
        f"CASE WHEN l.sourced_id IS NULL THEN 'insert' WHEN l.deleted_at IS NOT NULL THEN 'restore' ELSE 'update' END, "
        f"CASE WHEN l.sourced_id IS NULL THEN NULL ELSE {_fields(cols)} END "
        f"FROM {stage} s LEFT JOIN {t} l ON {ours} AND l.sourced_id = s.sourced_id "
        f"WHERE s.run_id=%(run)s AND s._deleted=0 "
        f"AND (l.sourced_id IS NULL OR l.deleted_at IS NOT NULL OR NOT {_same('s', 'l', cols)}) ORDER BY s._row "
        f"RETURNING action) SELECT action, count(*) FROM d GROUP BY action", p).fetchall()
    for action, n in found:
        counts[{"insert": "inserted", "update": "updated", "restore": "restored"}[action]] = n

    if mode == "bulk":
        gone = f"NOT EXISTS (SELECT 1 FROM {stage} s WHERE s.run_id=%(run)s AND s.sourced_id = l.sourced_id)"
    else:
        gone = (f"EXISTS (SELECT 1 FROM {stage} s WHERE s.run_id=%(run)s AND s.sourced_id = l.sourced_id "
                f"AND s._deleted=1)")
    live = f"{ours} AND l.deleted_at IS NULL AND {gone}"
    if add_only:
        counts["delete_skipped"] = one(f"SELECT count(*) FROM {t} l WHERE {live}")
    else:
        counts["deleted"] = conn.execute(
            f"{audit} SELECT %(run)s, %(entity)s, %(school)s, %(source)s, l.sourced_id, 'delete', NULL FROM {t} l "
            f"WHERE {live} ORDER BY l.sourced_id", p).rowcount
    if spec.entity == "users" and policy.identity and counts["inserted"]:
        count_rekeys(counts, identity.rekey(conn, p, gone, policy.identity, _fields(cols)), add_only)
    counts["unchanged"] = unchanged(counts, staged)
    return counts


def write_entity(conn: Any, spec: TableSpec, run_id: int, school: str, source: str, now: str,
                 counts: dict[str, int]) -> None:
    """Apply an entity's staging to its live table as the diff recorded it in ``changes``: soft-delete
    the rows it deletes, upsert the rows it inserts, updates, restores or re-keys (never an unchanged
    row), then close the rows re-keyed away, their person going on under the new sourcedId."""
    p = {"run": run_id, "school": school, "source": source, "now": now, "entity": spec.entity}
    ours = "SELECT c.sourced_id FROM changes c WHERE c.run_id=%(run)s AND c.entity=%(entity)s AND c.action"
    if counts["deleted"]:
        conn.execute(f"UPDATE {q(spec.entity)} SET deleted_at=%(now)s, deleted_run=%(run)s WHERE school=%(school)s "
                     f"AND source=%(source)s AND sourced_id IN ({ours} = 'delete')", p)
    rekeyed = counts.get("rekeyed", 0)
    written = sum(counts[k] for k in ("inserted", "updated", "restored")) + rekeyed
    if written:  # a first sync writes every staged row: no need to look each up in changes
        every = written == counts["staged"]
        _upsert(conn, spec, p, "" if every else f" AND s.sourced_id IN ({ours} IN "
                                                 f"('insert', 'update', 'restore', 'rekey'))")
    if rekeyed:
        identity.finish_rekeys(conn, p)


def _upsert(conn: Any, spec: TableSpec, p: dict[str, Any], only: str) -> None:
    """Insert the run's staged rows (``only``: which) or update the live ones that differ or are deleted;
    a new users row gets a new person id."""
    t, cols = q(spec.entity), spec.columns
    person = ("", "") if spec.entity != "users" else (", person_id", f", {NEW_PERSON_ID}")
    conn.execute(
        f"INSERT INTO {t} (school, source, {', '.join(map(q, cols))}, created_run, updated_run{person[0]}) "
        f"SELECT %(school)s, %(source)s, {', '.join('s.' + q(c) for c in cols)}, %(run)s, %(run)s{person[1]} "
        f"FROM {q(STAGE_PREFIX + spec.entity)} s WHERE s.run_id=%(run)s AND s._deleted=0{only} "
        f"ON CONFLICT (school, source, sourced_id) DO UPDATE SET {', '.join(f'{q(c)}=EXCLUDED.{q(c)}' for c in cols)}, "
        f"updated_run=%(run)s, deleted_at=NULL, deleted_run=NULL "
        f"WHERE NOT {_same(t, 'EXCLUDED', cols)} OR {t}.deleted_at IS NOT NULL", p)


def changes_of(conn: Any, run_id: int, entity: str | None = None, limit_per_entity: int = 0) -> list[ChangeRow]:
    """A run's audited changes in the order written (at most ``limit_per_entity`` per entity if set)."""
    where, params = "run_id=%s", [run_id]
    if entity:
        where, params = where + " AND entity=%s", [run_id, entity]
    names = ("id", "run_id", "entity", "school", "source", "sourced_id", "action", "fields")
    sql = f"SELECT {', '.join(names)} FROM changes WHERE {where}"
    if limit_per_entity:
        sql = (f"SELECT {', '.join(names)} FROM (SELECT *, row_number() OVER (PARTITION BY entity ORDER BY id) "
               f"AS n FROM changes WHERE {where}) c WHERE n <= %s")
        params = [*params, limit_per_entity]
    out = []
    for row in conn.execute(sql + " ORDER BY id", params):
        change = dict(zip(names, row, strict=True))
        change["fields"] = json.loads(change["fields"]) if change["fields"] else None
        out.append(change)
    return out  # type: ignore[return-value]


def public(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Counts as reported: without the internal staged/bulk markers."""
    return {e: {k: v for k, v in c.items() if k not in ("staged", "bulk")} for e, c in counts.items()}
