"""The operators' commands: ``report``, ``notify``, ``periods``, ``people`` and ``schools select``.

Kept apart from :mod:`rostersync.cli` (which imports this module last, to add them to its group); each
is a thin shell over a library function a web view can call as well (:func:`rostersync.report.build_report`,
:mod:`rostersync.notify`, :mod:`rostersync.periods`, :meth:`Store.duplicate_people`).
"""

from __future__ import annotations

import sys
import typing
from typing import Any

import click

from rostersync.cli import Ctx, json_option, main, pass_ctx, schools


# -- the run report ---------------------------------------------------------------------------------
@main.command()
@click.argument("run_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="table for people, csv for a spreadsheet (one line per record), json for programs.")
@pass_ctx
def report(ctx: Ctx, run_id: int, fmt: str) -> None:
    """What a run did: counts per entity and change, then every rejected, skipped, filtered or warned record
    with where it came from and why (sensitive values masked). A held run shows its safeguard's reasons."""
    from rostersync.output import emit_json
    from rostersync.report import build_report, print_report, report_csv

    with ctx.store() as store:
        built = build_report(store, run_id)
    if fmt == "json":
        emit_json(built.as_dict())
    elif fmt == "csv":
        click.echo(report_csv(built), nl=False)
    else:
        print_report(built)


# -- notifications ----------------------------------------------------------------------------------
@main.group()
def notify() -> None:
    """Notification channels: email and webhooks after each run, or a daily digest."""


@notify.command("list")
@json_option
@pass_ctx
def notify_list(ctx: Ctx, as_json: bool) -> None:
    """The configured channels: kind, statuses, schools, digest."""
    from rostersync.output import emit

    rows = [{"name": c.name, "kind": c.kind, "on": ", ".join(c.on) if not as_json else list(c.on),
             "schools": (", ".join(c.schools) or "(all)") if not as_json else list(c.schools),
             "digest": f"daily at {c.digest_at}" if c.digest and not as_json else c.digest}
            for c in ctx.config.channels().values()]
    emit(rows, ["name", "kind", "on", "schools", "digest"], as_json=as_json,
         empty="no channels (rostersync notify add NAME --kind email --set ...)")


@notify.command("add")
@click.argument("name")
@click.option("--kind", required=True, help="email, webhook, or a plugin's kind.")
@click.option("--on", "statuses", multiple=True, metavar="STATUS",
              help="ok, held, failed, skipped, unchanged (repeatable; default failed and held).")
@click.option("--school", "school_ids", multiple=True, metavar="SCHOOL", help="Only these schools (repeatable).")
@click.option("--digest", is_flag=True, help="One summary a day (sent by run --due, or notify digest) instead.")
@click.option("--digest-at", default="07:00", show_default=True, help="Local time of day of the digest.")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="A setting of the kind (repeatable; lists comma-separated; secrets as env:NAME or file:PATH).")
@pass_ctx
def notify_add(ctx: Ctx, name: str, kind: str, statuses: tuple[str, ...], school_ids: tuple[str, ...],
               digest: bool, digest_at: str, assignments: tuple[str, ...]) -> None:
    """Add (or replace) a notification channel."""
    import attrs

    from rostersync.errors import ConfigError
    from rostersync.notify import DEFAULT_ON, notifier_for
    from rostersync.output import console
    from rostersync.secrets import SecretRef

    fields = attrs.fields_dict(attrs.resolve_types(notifier_for(kind).settings))
    settings: dict[str, Any] = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key not in fields:
            raise ConfigError(f"--set {key or item!r}: {kind} has settings {', '.join(fields)}")
        field = fields[key]
        kinds = set(typing.get_args(field.type)) or {field.type}  # int | None: int
        try:
            if field.metadata.get("secret"):
                settings[key] = str(SecretRef(raw))
            elif typing.get_origin(field.type) is tuple:
                settings[key] = [v.strip() for v in raw.split(",") if v.strip()]
            elif int in kinds or float in kinds:
                settings[key] = int(raw) if int in kinds else float(raw)
            else:
                settings[key] = raw  # text, paths, booleans: structured (and checked) from the text
        except ValueError as exc:
            raise ConfigError(f"--set {key}: {exc}") from None
    for school in school_ids:
        ctx.config.school(school)
    entry: dict[str, Any] = {"kind": kind, "on": list(statuses or DEFAULT_ON)}
    if school_ids:
        entry["schools"] = list(school_ids)
    if digest:
        entry["digest"], entry["digest_at"] = True, digest_at
    entry["settings"] = settings
    ctx.config.add_channel(name, entry)
    ctx.config.save()
    console.print(f"Added channel {name} ({kind}). Try it: rostersync notify test {name}")


@notify.command("test")
@click.argument("channel", required=False)
@json_option
@pass_ctx
def notify_test(ctx: Ctx, channel: str | None, as_json: bool) -> None:
    """Send a sample notification through one channel (or all); exit 1 if one fails."""
    from rostersync.errors import ConfigError
    from rostersync.notify import deliver, sample
    from rostersync.output import emit

    channels = ctx.config.channels()
    if channel and channel not in channels:
        raise ConfigError(f"no channel {channel!r} (channels: {', '.join(channels) or 'none'})")
    chosen = [channels[channel]] if channel else list(channels.values())
    rows = []
    with ctx.store() as store:
        for c in chosen:
            problem = deliver(store, c, sample())
            rows.append({"channel": c.name, "kind": c.kind, "sent": problem is None, "detail": problem or "sent"})
    emit(rows, ["channel", "kind", "sent", "detail"], as_json=as_json, empty="no channels configured")
    sys.exit(0 if all(r["sent"] for r in rows) else 1)


@notify.command("digest")
@click.argument("channel", required=False)
@pass_ctx
def notify_digest(ctx: Ctx, channel: str | None) -> None:
    """Send the daily digest now (digest channels, or the one named), for cron instead of run --due."""
    import datetime as dt

    from rostersync.errors import ConfigError
    from rostersync.notify import deliver, digest
    from rostersync.output import console

    channels = {n: c for n, c in ctx.config.channels().items() if c.digest or n == channel}
    if channel and channel not in channels:
        raise ConfigError(f"no channel {channel!r}")
    chosen = [channels[channel]] if channel else list(channels.values())
    failed = 0
    now = dt.datetime.now(dt.UTC)
    with ctx.store() as store:
        for c in chosen:
            problem = deliver(store, c, digest(store, c, now))
            failed += problem is not None
            console.print(f"{c.name}: {'sent' if problem is None else 'failed: ' + problem}", highlight=False)
    sys.exit(1 if failed else 0)


# -- bell-schedule periods --------------------------------------------------------------------------
class _ListByDefault(click.Group):
    """``periods SCHOOL`` means ``periods list SCHOOL``; ``periods map SCHOOL ...`` maps."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@main.group(cls=_ListByDefault)
def periods() -> None:
    """The SIS period codes on a school's classes, and their bell-schedule names.

    `rostersync periods SCHOOL [--term T]` lists them; `rostersync periods map SCHOOL 1="First Period" ...`
    names them (stored in the config; `CODE=` removes a name).
    """


@periods.command("list")
@click.argument("school_id")
@click.option("--term", help="Only classes of this term: a session sourcedId or title, current or next.")
@json_option
@pass_ctx
def periods_list(ctx: Ctx, school_id: str, term: str | None, as_json: bool) -> None:
    """Period codes with their classes per term, and the bell-schedule name each has."""
    from rostersync.output import emit
    from rostersync.periods import period_counts

    school = ctx.config.school(school_id)
    with ctx.store() as store:
        rows = period_counts(store, school, term)
    if not as_json:
        rows = [{**r, "name": r["name"] or "(unmapped)", "term": r["term_title"] or r["term"] or "-"} for r in rows]
    emit(rows, ["period", "name", "term", "classes"], as_json=as_json, empty="no class has a period code")


@periods.command("map")
@click.argument("school_id")
@click.argument("mapping", nargs=-1, required=True, metavar="CODE=NAME...")
@pass_ctx
def periods_map(ctx: Ctx, school_id: str, mapping: tuple[str, ...]) -> None:
    """Name SIS period codes after the school's bell schedule (CODE= removes a name)."""
    from rostersync.output import console
    from rostersync.periods import parse_mapping

    ctx.config.set_periods(school_id, parse_mapping(mapping))
    ctx.config.save()
    school = ctx.config.school(school_id)
    shown = ", ".join(f"{k}={v}" for k, v in school.periods.items()) or "none"
    console.print(f"Bell-schedule periods of {school_id}: {shown}", highlight=False)


# -- people -----------------------------------------------------------------------------------------
@main.group()
def people() -> None:
    """People: stable person ids, re-keys by the SIS, suspected duplicates."""


@people.command("duplicates")
@click.argument("school_id", required=False)
@json_option
@pass_ctx
def people_duplicates(ctx: Ctx, school_id: str | None, as_json: bool) -> None:
    """Suspected duplicates: one identifier (state id, student number, email...) under two sourcedIds, or
    the same name and birth date twice. Nothing is merged: a person decides."""
    from rostersync.identity import DEFAULT_MATCH
    from rostersync.output import emit

    schools_ = ctx.config.schools()
    keys = ctx.config.school(school_id).identity if school_id else \
        tuple(dict.fromkeys(k for s in schools_.values() for k in s.identity)) or DEFAULT_MATCH
    with ctx.store() as store:
        groups = store.duplicate_people(school_id, keys or DEFAULT_MATCH)
    if as_json:
        emit(groups, [], as_json=True)
        return
    rows = [{"school": g["school"], "reason": g["reason"], "value": g["value"],
             "people": "; ".join(f"{p['source']}/{p['sourced_id']} {p['given_name']} {p['family_name']} ({p['role']}, "
                                 f"person {p['person_id']})" for p in g["people"])} for g in groups]
    emit(rows, ["school", "reason", "value", "people"], as_json=False, empty="no suspected duplicates")


# -- selective sync -----------------------------------------------------------------------------------
def _list_option(name: str, help: str) -> Any:
    return click.option(f"--{name.replace('_', '-')}", name, multiple=True, metavar="VALUE", help=help)


@schools.command("select")
@click.argument("school_id")
@_list_option("grades", "Only users and classes of these grades (CEDS codes, e.g. KG,01; comma list or repeat).")
@_list_option("exclude_grades", "Leave out these grades.")
@_list_option("roles", "Only users of these roles.")
@_list_option("exclude_roles", "Leave out users of these roles.")
@_list_option("courses", "Only courses whose code matches one of these globs (e.g. MATH*).")
@_list_option("exclude_courses", "Leave out courses whose code matches.")
@_list_option("classes", "Only classes whose code matches one of these globs.")
@_list_option("exclude_classes", "Leave out classes whose code matches.")
@_list_option("terms", "Only classes of these terms: current, next, a session sourcedId or title.")
@click.option("--clear", is_flag=True, help="Remove every rule first (the school takes everything again).")
@pass_ctx
def schools_select(ctx: Ctx, school_id: str, clear: bool, **rules: tuple[str, ...]) -> None:
    """Selective sync: which of its records a school takes. Given rules replace those of the same name;
    see the effect first with `rostersync sync SCHOOL --dry-run --show`."""
    from rostersync.output import console

    current = {} if clear else ctx.config.school(school_id).selection.as_dict()
    for key, values in rules.items():
        if values:
            current[key] = [v.strip() for item in values for v in item.split(",") if v.strip()]
    ctx.config.set_selection(school_id, current)
    ctx.config.save()
    shown = "; ".join(f"{k} {', '.join(v)}" for k, v in current.items()) or "none (everything in scope)"
    console.print(f"Selective sync of {school_id}: {shown}\nPreview: rostersync sync {school_id} --dry-run --show",
                  highlight=False)
