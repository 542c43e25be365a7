"""Notifications: tell people when a run fails or is held, without anyone watching a terminal.

Operators configure **channels** (``[notify.NAME]`` in rostersync.toml); each is of a **kind** that a
plugin registers (``rostersync_register_notifiers``): ``email`` (SMTP) and ``webhook`` (JSON POST, or
a Slack-compatible payload) are built in. After every run (``sync``, ``run --due``, ``approve``) each
channel whose ``on`` statuses and ``schools`` match gets a :class:`Notification`; a channel with
``digest = true`` gets instead one summary a day (sent by ``run --due`` once its ``digest_at`` time has
passed, or by ``rostersync notify digest`` from cron). ``rostersync notify test [CHANNEL]`` sends a sample.

Statuses: ``ok``, ``held``, ``failed``, ``skipped`` (by a hold still pending, a blackout, or another
process syncing the source) and ``unchanged`` (the source had nothing new). Dry runs notify no one.

A channel that fails never fails the sync: the failure is logged on the run (a warning in its report)
and in the store's notifications log, with secrets redacted; each delivery is logged too. Payloads carry
counts, statuses, errors and the report command, never settings or secrets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from rostersync.errors import ConfigError, RostersyncError
from rostersync.issues import Issue
from rostersync.secrets import redact

if TYPE_CHECKING:
    from rostersync.engine import RunResult
    from rostersync.store.base import Store

STATUSES = ("ok", "held", "failed", "skipped", "unchanged")
DEFAULT_ON = ("failed", "held")
#: send(settings, notification): deliver or raise (a RostersyncError names what failed, never a secret)
Send = Callable[[Any, "Notification"], None]


@attrs.frozen
class Notifier:
    """A kind of channel a plugin provides: its typed ``settings`` class (attrs, as a connector's; secrets
    typed :class:`~rostersync.secrets.SecretRef`) and ``send``. ``package``/``version`` are filled in by the host."""

    kind: str
    title: str
    settings: type
    send: Send
    package: str = ""
    version: str = ""


@attrs.frozen
class Channel:
    """One configured channel: ``[notify.NAME]`` with ``kind``, ``on`` (statuses), ``schools`` (none: every
    school), ``digest`` (one summary a day instead of one message a run, at ``digest_at`` local time)
    and the kind's ``settings``."""

    name: str
    kind: str
    settings: dict[str, Any]
    on: tuple[str, ...] = DEFAULT_ON
    schools: tuple[str, ...] = ()
    digest: bool = False
    digest_at: str = "07:00"

    def wants(self, school: str, status: str) -> bool:
        return status in self.on and (not self.schools or school in self.schools)


@attrs.frozen
class Notification:
    """What a channel sends: a ``subject`` and plain ``text`` for people, ``runs`` for programs (each run's
    id, school, source, status, error or reason, totals and the report command). ``kind``: run | digest | test."""

    kind: str
    subject: str
    text: str
    runs: tuple[dict[str, Any], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "text": self.text, "runs": list(self.runs)}


def parse_channels(table: dict[str, Any], where: str) -> dict[str, Channel]:
    """``[notify]`` as channels, each checked: known keys, statuses, a registered kind, its settings."""
    from rostersync.connector import converter

    out = {}
    for name, entry in table.items():
        here = f"{where}.{name}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{here} must be a table")
        unknown = sorted(set(entry) - {"kind", "on", "schools", "digest", "digest_at", "settings"})
        if unknown:
            raise ConfigError(f"{here}: unknown key(s) {', '.join(unknown)}")
        on = tuple(entry.get("on", DEFAULT_ON))
        bad = [s for s in on if s not in STATUSES]
        if bad:
            raise ConfigError(f"{here}: on {', '.join(map(repr, bad))}: statuses are {', '.join(STATUSES)}")
        digest_at = str(entry.get("digest_at", "07:00"))
        try:
            dt.time.fromisoformat(digest_at)
        except ValueError:
            raise ConfigError(f"{here}: digest_at {digest_at!r} is not a time like 07:00") from None
        channel = Channel(name, str(entry.get("kind", "")), dict(entry.get("settings", {})), on,
                          tuple(entry.get("schools", ())), bool(entry.get("digest", False)), digest_at)
        notifier = notifier_for(channel.kind, here)
        try:
            converter().structure(channel.settings, notifier.settings)
        except Exception as exc:  # cattrs' grouped errors, validators' ValueErrors
            raise ConfigError(f"{here}.settings: {_settings_problem(exc)}") from None
        out[name] = channel
    return out


def _settings_problem(exc: Exception) -> str:
    from rostersync.connector import _leaf_errors

    leaves = _leaf_errors(exc)
    parts = []
    for leaf in leaves:
        note = next((n for n in getattr(leaf, "__notes__", []) if hasattr(n, "name")), None)
        reason = "required setting is missing" if isinstance(leaf, KeyError) else redact(str(leaf))
        parts.append(f"{note.name}: {reason}" if note is not None else reason)
    return "; ".join(parts)


def notifier_for(kind: str, where: str = "notify") -> Notifier:
    from rostersync.plugins import get_notifiers

    notifiers = get_notifiers()
    if kind not in notifiers:
        raise ConfigError(f"{where}: kind {kind!r} is not an installed notifier (installed: {', '.join(notifiers)})")
    return notifiers[kind]


def deliver(store: Store | None, channel: Channel, notification: Notification, run_id: int | None = None) -> str | None:
    """Send ``notification`` through ``channel``; log it. Returns None when sent, else why it failed
    (secrets redacted). Never raises for a failing channel."""
    from rostersync.connector import converter

    try:
        notifier = notifier_for(channel.kind)
        notifier.send(converter().structure(channel.settings, notifier.settings), notification)
        problem = None
    except RostersyncError as exc:
        problem = redact(str(exc))
    except Exception as exc:  # a plugin's bug must not fail the sync either
        problem = redact(f"internal error: {type(exc).__name__}: {exc}")
    if store is not None:
        store.record_notification(channel.name, notification.kind, "failed" if problem else "sent",
                                  problem or notification.subject, run_id)
    return problem


def status_of(result: RunResult) -> str | None:
    """The status channels filter on, or None for a run no one is told about (a dry run)."""
    if result.status == "dry-run":
        return None
    if result.status == "skipped" and result.skipped_by in (None, "unchanged"):
        return "unchanged"
    return result.status


def summary(result: RunResult) -> dict[str, Any]:
    """A run as notifications carry it: JSON-ready, no settings, no secrets."""
    totals: dict[str, int] = {}
    for counts in result.counts.values():
        for key in ("fetched", "inserted", "updated", "restored", "deleted", "rekeyed", "filtered"):
            totals[key] = totals.get(key, 0) + counts.get(key, 0)
    return {"run": result.run_id, "school": result.school, "source": result.source, "status": status_of(result),
            "error": redact(result.error) if result.error else None, "warnings": result.warnings,
            "totals": totals, "report": f"rostersync report {result.run_id}" if result.run_id else None}


def run_text(run: dict[str, Any]) -> str:
    """One run in words, for the plain-text body."""
    line = f"{run['school']}/{run['source']}: run {run['run']} {run['status']}"
    totals = run.get("totals") or {}
    changed = ", ".join(f"{v} {k}" for k, v in totals.items() if v and k != "fetched")
    parts = [line + (f" ({changed})" if changed else "")]
    if run.get("error"):
        parts.append(f"  {run['error']}")
    if run.get("report"):
        parts.append(f"  Report: {run['report']}")
    return "\n".join(parts)


def for_run(result: RunResult) -> Notification:
    run = summary(result)
    subject = f"[rostersync] {result.school}/{result.source}: run {result.run_id} {run['status']}"
    return Notification("run", subject, run_text(run) + "\n", (run,))


def after_run(store: Store, channels: Iterable[Channel], result: RunResult) -> list[str]:
    """Notify every non-digest channel that wants this run; failures become warnings of the run.
    Returns the failures (``channel: why``)."""
    status = status_of(result)
    if status is None or result.run_id is None:
        return []
    failures = []
    for channel in channels:
        if channel.digest or not channel.wants(result.school, status):
            continue
        problem = deliver(store, channel, for_run(result), result.run_id)
        if problem:
            failures.append(f"{channel.name}: {problem}")
            store.add_warning(result.run_id, Issue(f"notification to channel {channel.name} ({channel.kind}) failed: "
                                                   f"{problem}", code="notify"))
    return failures


def sample() -> Notification:
    """What ``rostersync notify test`` sends."""
    run = {"run": 0, "school": "example", "source": "csv-folder", "status": "failed",
           "error": "users.csv:7:role: 'wizard' is not one of: administrator, aide, ...", "warnings": 0,
           "totals": {"fetched": 0}, "report": "rostersync report RUN"}
    return Notification("test", "[rostersync] test notification",
                        "This is a test from rostersync notify test: the channel works.\n\n" + run_text(run) + "\n",
                        (run,))


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def digest(store: Store, channel: Channel, now: dt.datetime) -> Notification:
    """The runs finished since this channel's last digest (at most a day back when it has none)."""
    sent = [n for n in store.notifications(channel.name, "digest") if n["status"] == "sent"]
    since = _parse_time(sent[0]["at"]) if sent else now - dt.timedelta(days=1)
    runs = [r for r in store.runs(limit=10_000) if r["finished_at"] and _parse_time(r["finished_at"]) > since
            and r["status"] != "dry-run" and (not channel.schools or r["school"] in channel.schools)]
    by_status: dict[str, int] = {}
    for r in runs:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    listed = [{"run": r["id"], "school": r["school"], "source": r["source"], "status": r["status"],
               "error": r["error"], "warnings": r["warnings"] or 0, "totals": {},
               "report": f"rostersync report {r['id']}"} for r in reversed(runs) if r["status"] in channel.on]
    counted = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items())) or "no runs"
    text = f"rostersync daily digest: {counted} since {since:%Y-%m-%d %H:%M} UTC.\n"
    if listed:
        text += f"\nRuns {'/'.join(channel.on)}:\n" + "\n".join(run_text(r) for r in listed) + "\n"
    return Notification("digest", f"[rostersync] digest: {counted}", text, tuple(listed))


def due_digests(store: Store, channels: Iterable[Channel], now: dt.datetime) -> list[Channel]:
    """Digest channels whose time of day has passed today (local time) and that have not sent one today."""
    local = now.astimezone()
    due = []
    for channel in channels:
        if not channel.digest or local.time() < dt.time.fromisoformat(channel.digest_at):
            continue
        sent = [n for n in store.notifications(channel.name, "digest") if n["status"] == "sent"]
        if sent and _parse_time(sent[0]["at"]).astimezone().date() >= local.date():
            continue
        due.append(channel)
    return due
