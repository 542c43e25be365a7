"""The run report: what a run did and, record by record, what it left out or warned about and why.

Built from what the store keeps with every run (:class:`~rostersync.store.base.Store`: the run, its
counts, its structured issues, its audited changes, its notifications), so a report reads the same
weeks later and from any process: ``rostersync report RUN`` prints it, and a web view calls
:func:`build_report` (and :meth:`RunReport.as_dict`) directly.

* **counts** per entity and change type: fetched, inserted, updated, restored, re-keyed, deleted,
  unchanged, out of scope (other schools' rows, counted only: a district run would otherwise list the
  whole district), filtered, rejected, skipped, warned;
* **records**, one line each: *rejected* (a bad value, left out under ``on_invalid = "skip"``; a failed
  run's refused rows), *skipped* (a check's ``skip`` policy: dangling reference, no school, duplicate),
  *filtered* (the school's selective-sync rules), *warned* (kept, with a warning): entity, sourcedId,
  where it came from (``file:line`` or the request URL), field, value (sensitive values masked when they
  were recorded, see :mod:`rostersync.masking`) and reason;
* a **held** run: the safeguard's reasons and its largest pending changes, entity by entity;
* **people**: new, re-keyed and leaving people (identity continuity);
* **notifications** sent for the run, and failures.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

import attrs

from rostersync.errors import ConfigError

if TYPE_CHECKING:
    from rostersync.issues import Issue
    from rostersync.store.base import Store

KINDS = {"rejected": "rejected", "skipped": "skipped", "filtered": "filtered", "": "warned"}
COUNT_KEYS = ("fetched", "inserted", "updated", "restored", "rekeyed", "deleted", "delete_skipped", "unchanged",
              "out_of_scope", "filtered", "rejected", "skipped", "warned")
LINE_KEYS = ("kind", "entity", "sourced_id", "location", "field", "value", "reason")
#: how many pending changes of each entity a held run's report shows
LARGEST = 20


@attrs.frozen
class ReportLine:
    kind: str  # rejected | skipped | filtered | warned
    entity: str | None
    sourced_id: str | None
    location: str  # file:line, or the request URL
    field: str | None
    value: str | None
    reason: str
    code: str = ""
    level: str = "warning"

    @classmethod
    def of(cls, issue: Issue) -> ReportLine:
        where = issue.file or ""
        if issue.line is not None:
            where = f"{where}:{issue.line}"
        kind = KINDS.get(issue.outcome, "warned")
        return cls(kind, issue.entity, issue.sourced_id, where, issue.column, issue.value, issue.message,
                   issue.code, issue.level)


@attrs.frozen
class RunReport:
    run: dict[str, Any]
    counts: dict[str, dict[str, int]]
    lines: list[ReportLine]
    held: dict[str, Any] | None
    people: dict[str, int]
    notifications: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"run": self.run, "counts": self.counts, "records": [attrs.asdict(line) for line in self.lines],
                "held": self.held, "people": self.people, "notifications": self.notifications}


def build_report(store: Store, run_id: int) -> RunReport:
    """The report of run ``run_id`` (ConfigError when there is no such run)."""
    run = store.run(run_id)
    if run is None:
        raise ConfigError(f"no run {run_id} (see rostersync history)")
    lines = [ReportLine.of(issue) for issue in store.issues(run_id)]
    counts: dict[str, dict[str, int]] = {e: dict(c) for e, c in run["counts"].items()}
    for line in lines:
        if line.entity and line.kind != "filtered":  # filtered rows are counted by the run itself
            entity = counts.setdefault(line.entity, {})
            entity[line.kind] = entity.get(line.kind, 0) + 1
    users = counts.get("users", {})
    people = {"new": users.get("inserted", 0), "rekeyed": users.get("rekeyed", 0), "left": users.get("deleted", 0)}
    held = None
    if run["status"] == "held":
        reasons = [r for r in (run["error"] or "").split("; ") if r]
        size = {e: c.get("deleted", 0) + c.get("updated", 0) + c.get("inserted", 0) + c.get("rekeyed", 0)
                for e, c in counts.items()}
        pending = store.changes(run_id, limit_per_entity=LARGEST)
        largest = [{"entity": e, "changes": n, **{k: counts[e].get(k, 0) for k in ("inserted", "updated", "deleted")},
                    "examples": [{"sourced_id": c["sourced_id"], "action": c["action"], "fields": c["fields"]}
                                 for c in pending if c["entity"] == e]}
                   for e, n in sorted(size.items(), key=lambda kv: -kv[1]) if n]
        held = {"reasons": reasons, "largest": largest, "approve": f"rostersync approve {run_id}",
                "discard": f"rostersync discard {run_id}"}
    notifications = [{"channel": n["channel"], "kind": n["kind"], "status": n["status"], "detail": n["detail"],
                      "at": n["at"]} for n in reversed(store.notifications(run_id=run_id))]
    return RunReport(dict(run), counts, lines, held, people, notifications)


def report_csv(report: RunReport) -> str:
    """The record lines as CSV (a per-record error file for a spreadsheet: formula cells defused)."""
    from rostersync.export import escape_formula

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LINE_KEYS)
    for line in report.lines:
        writer.writerow([escape_formula(str(getattr(line, k) or "")) for k in LINE_KEYS])
    return out.getvalue()


def print_report(report: RunReport) -> None:
    """The report as tables for a person."""
    from rich.markup import escape
    from rich.table import Table

    from rostersync.output import console, counts_table

    run = report.run
    console.print(f"[bold]Run {run['id']}[/] {escape(run['school'])}/{escape(run['source'])}: {run['status']} "
                  f"(started {run['started_at']}, finished {run['finished_at'] or '-'}, mode {run['mode'] or '-'})")
    if run["error"] and run["status"] != "held":
        console.print(f"{'Reason' if run['status'] == 'skipped' else 'Error'}: {escape(run['error'])}", soft_wrap=True)
    if report.counts:
        shown = [k for k in COUNT_KEYS if any(c.get(k) for c in report.counts.values()) or k == "fetched"]
        console.print(counts_table("Counts", report.counts, shown))
    if report.people["rekeyed"]:
        p = report.people
        console.print(f"People: {p['new']} new, {p['rekeyed']} re-keyed (same person, new sourcedId), {p['left']} left")
    if report.held:
        console.print("[bold yellow]Held by a safeguard:[/]")
        for reason in report.held["reasons"]:
            console.print(f"  {escape(reason)}", soft_wrap=True)
        for item in report.held["largest"]:
            console.print(f"  {item['entity']}: {item['changes']} change(s) ({item['inserted']} inserted, "
                          f"{item['updated']} updated, {item['deleted']} deleted), e.g. "
                          + ", ".join(f"{e['action']} {e['sourced_id']}" for e in item["examples"][:5]))
        console.print(f"  Apply: {report.held['approve']}   Drop: {report.held['discard']}")
    if report.lines:
        table = Table(title=f"Records ({len(report.lines)})", title_justify="left")
        for key in LINE_KEYS:
            table.add_column(key.replace("_", " "), overflow="fold")
        for line in report.lines:
            table.add_row(*(escape(str(getattr(line, k) or "")) for k in LINE_KEYS))
        console.print(table)
    else:
        console.print("No record was rejected, skipped, filtered or warned about.")
    for n in report.notifications:
        console.print(f"Notification to {n['channel']} ({n['kind']}): {n['status']}"
                      + (f": {escape(n['detail'])}" if n["status"] == "failed" and n["detail"] else ""))
