"""The ``rostersync`` command line. Exit codes: 0 ok, 1 a sync or data error, 2 a usage/config error."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import attrs
import click

from rostersync import __version__
from rostersync.errors import RostersyncError

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


class Ctx:
    """Lazily loaded config and store for the command being run."""

    def __init__(self, config_path: str | None) -> None:
        self._config_path = config_path
        self._config: Any = None

    @property
    def config_path(self) -> Path:
        from rostersync import config  # not at start-up: `connectors list` needs no config (nor tomlkit)

        return config.locate(self._config_path)

    @property
    def config(self) -> Any:
        from rostersync.config import Config

        if self._config is None:
            self._config = Config.load(self.config_path)
        return self._config

    def store(self) -> Any:
        """The database as a context manager (closed on leaving, whatever happens); an older schema is
        upgraded if its backend does that on open (SQLite), a newer or damaged one refused."""
        from rostersync.store import store_at

        return store_at(self.config.database, password=self.config.database_password)


class Group(click.Group):
    """Turns rostersync errors into one clear line and a meaningful exit code (no traceback), and adds
    the commands plugins register (``rostersync_register_commands``) the first time a command is looked up."""

    _plugin_commands_added = False

    def _add_plugin_commands(self) -> None:
        if not Group._plugin_commands_added:
            Group._plugin_commands_added = True
            from rostersync.plugins import load_plugins, pm

            load_plugins()
            pm.hook.rostersync_register_commands(cli=self)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            self._add_plugin_commands()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RostersyncError as exc:
            from rich.markup import escape

            from rostersync.output import err_console
            from rostersync.secrets import redact

            err_console.print(f"[bold red]Error:[/] {escape(redact(str(exc)))}", soft_wrap=True)
            sys.exit(exc.exit_code)


@click.group(cls=Group)
@click.version_option(__version__, prog_name="rostersync")
@click.option("--config", "config_path", metavar="PATH", envvar="ROSTERSYNC_CONFIG",
              help="Config file (default ./rostersync.toml; env ROSTERSYNC_CONFIG).")
@click.option("-v", "--verbose", count=True, help="Log more (-v info, -vv debug); secrets are always redacted.")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """Keep school rosters in sync with student information systems."""
    from rostersync.logs import setup_logging
    from rostersync.process import tune

    tune()
    setup_logging(verbose)
    ctx.obj = Ctx(config_path)


pass_ctx = click.make_pass_decorator(Ctx)


# -- connectors ---------------------------------------------------------------------------------
@main.group()
def connectors() -> None:
    """Installed connectors (one per SIS or source kind)."""


@connectors.command("list")
@json_option
def connectors_list(as_json: bool) -> None:
    """List every installed connector, grouped by kind: what its facts rest on and its package."""
    from rostersync.output import emit
    from rostersync.plugins import get_connectors

    rows = [{"name": c.name, "title": c.title, "kind": c.kind, "basis": c.basis, "version": c.version,
             "package": c.package} for c in get_connectors().values()]
    if as_json:
        emit(rows, [], as_json=True)
        return
    kinds = sorted({r["kind"] for r in rows})
    for kind in kinds:
        emit([r for r in rows if r["kind"] == kind], ["name", "title", "basis", "version", "package"], as_json=False,
             title=f"kind: {kind}")
    if not rows:
        emit([], [], as_json=False, empty="no connectors installed")


@connectors.command("show")
@click.argument("name")
@json_option
def connectors_show(name: str, as_json: bool) -> None:
    """Show a connector's settings (required, default, secret), the addresses it derives, its sources."""
    import attrs
    from rich.markup import escape

    from rostersync.connector import describe_settings, example_urls
    from rostersync.output import console, emit, emit_json
    from rostersync.plugins import get_connector

    connector = get_connector(name)
    settings = [attrs.asdict(s) for s in describe_settings(connector)]
    urls = example_urls(connector)
    sources = [attrs.asdict(s) for s in connector.sources]
    if as_json:
        emit_json({"name": connector.name, "title": connector.title, "kind": connector.kind,
                   "package": connector.package, "version": connector.version, "basis": connector.basis,
                   "homepage": connector.homepage, "setup": connector.setup, "docs": connector.docs,
                   "derived_urls": urls, "quirks": [{"name": q.name, "description": q.description}
                                                    for q in connector.quirks],
                   "settings": settings, "sources": sources})
        return
    console.print(f"[bold]{escape(connector.name)}[/] - {escape(connector.title)}\n"
                  f"kind: {connector.kind}   facts: {connector.basis}   package: {escape(connector.package)} "
                  f"{connector.version}" + (f"\nhomepage: {connector.homepage}" if connector.homepage else "") + "\n")
    if connector.docs:
        console.print(connector.docs + "\n", markup=False)
    if urls:
        console.print("Derived addresses (from the example answers; yours come from your settings):")
        for key, value in urls.items():
            console.print(f"  {key}: {value or '(not public: set it)'}")
        console.print()
    emit(settings, ["name", "type", "required", "default", "secret", "help"], as_json=False, title="Settings",
         empty="no settings")
    if sources:
        emit(sources, ["tag", "where", "fact"], as_json=False, title="Sources")


@connectors.command("test")
@click.argument("names", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Test every installed connector.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Connectors tested at once, each in its own process (default: the number of CPUs).")
@json_option
def connectors_test(names: tuple[str, ...], every: bool, jobs: int | None, as_json: bool) -> None:
    """Run the conformance kit on installed connectors: metadata and settings, then a sync from a real
    server imitating the SIS (or an SFTP drop laid out as it lays it out) compared row for row with the
    reference bundle, a re-sync and three faults. Exit 1 when a check fails."""
    import os
    import time

    from rostersync.errors import ConfigError
    from rostersync.output import console, emit
    from rostersync.plugins import get_connector, get_connectors
    from rostersync.testing.kit.runner import check_connectors

    if every == bool(names):
        raise ConfigError("name the connectors to test, or pass --all (not both)")
    chosen = list(get_connectors()) if every else [get_connector(n).name for n in dict.fromkeys(names)]
    started = time.monotonic()
    results = check_connectors(chosen, jobs or os.cpu_count() or 1)
    seconds = time.monotonic() - started
    outcomes = [o for name in chosen for o in results[name]]
    failed = sorted({o.connector for o in outcomes if not o.ok})
    if as_json:
        emit([{"connector": o.connector, "check": o.check, "status": o.status, "ok": o.ok, "detail": o.detail}
              for o in outcomes], [], as_json=True)
    else:
        for name in chosen:
            rows = [{"check": o.check, "ok": {"ok": "ok", "skipped": "skipped"}.get(o.status, "FAILED"),
                     "detail": o.detail} for o in results[name]]
            emit(rows, ["check", "ok", "detail"], as_json=False, title=name)
        verdict = f"{len(failed)} failed: {', '.join(failed)}" if failed else "all passed"
        console.print(f"{len(chosen)} connector(s) tested in {seconds:.1f} s: {verdict}")
    sys.exit(1 if failed else 0)


@connectors.command("new")
@click.argument("name")
@click.option("--kind", type=click.Choice(["oneroster-api", "sftp"]), required=True,
              help="How the SIS delivers rosters: its OneRoster REST API, or files dropped on SFTP.")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the new package (default: ./rostersync-NAME).")
@click.option("--title", help="The SIS as districts name it (default: from NAME).")
def connectors_new(name: str, kind: str, folder: Path | None, title: str | None) -> None:
    """Scaffold a pip-installable connector plugin for a new SIS: pyproject with the rostersync entry
    point, the SIS's profile, a README and a conformance test that pass as generated."""
    from rostersync.output import console
    from rostersync.scaffold import scaffold

    target = folder or Path(f"rostersync-{name}")
    written = scaffold(name, kind, target, title)
    listing = "".join(f"  {p}\n" for p in written)
    console.print(f"Created {target}:\n{listing}Next:\n  cd {target} && pip install -e \".[test]\"\n"
                  f"  rostersync connectors test {name}   # or: pytest\n"
                  f"Then replace the profile's placeholder facts (src/.../__init__.py) with {name}'s own.",
                  highlight=False, markup=False)


@main.command("plugins")
@json_option
def plugins_cmd(as_json: bool) -> None:
    """List loaded plugins, the hooks each implements and the package providing it."""
    from rostersync.output import emit
    from rostersync.plugins import get_plugins

    rows = [{**p, "hooks": ", ".join(p["hooks"])} if not as_json else p for p in get_plugins()]
    emit(rows, ["name", "hooks", "package", "version"], as_json=as_json)


# -- configuration --------------------------------------------------------------------------------
@main.command()
@click.option("--database", metavar="PATH", help="Database path (default rostersync.db next to the config).")
@pass_ctx
def init(ctx: Ctx, database: str | None) -> None:
    """Create a configuration file (and its database) here or at --config."""
    from rostersync.config import Config
    from rostersync.output import console

    config = Config.create(ctx.config_path, database)
    ctx._config = config
    with ctx.store():  # creates the database
        pass
    console.print(f"Created {config.path}\nDatabase: {config.database_path}\n"
                  "Next: rostersync schools add ID --name NAME [--org-id SIS_ORG_ID ...]")


@main.group()
def schools() -> None:
    """Schools and the SIS org ids that belong to them."""


@schools.command("add")
@click.argument("school_id")
@click.option("--name", required=True, help="Display name.")
@click.option("--org-id", "org_ids", multiple=True, metavar="SISID",
              help="SIS org sourcedId belonging to this school (repeatable). None: import everything.")
@pass_ctx
def schools_add(ctx: Ctx, school_id: str, name: str, org_ids: tuple[str, ...]) -> None:
    """Add a school."""
    from rostersync.output import console

    ctx.config.add_school(school_id, name, org_ids)
    ctx.config.save()
    console.print(f"Added school {school_id} ({name}). Next: rostersync enable {school_id} CONNECTOR --set k=v")


@schools.command("set")
@click.argument("school_id")
@click.option("--name", help="Display name.")
@click.option("--mode", type=click.Choice(["mirror", "add-only"]),
              help="mirror: apply deletes; add-only: inserts and updates only (deletes skipped and reported).")
@click.option("--blackout", "blackouts", multiple=True, metavar="START..END",
              help="Skip syncs on these dates, e.g. 2027-06-12..2027-08-20 (repeatable; replaces the list).")
@click.option("--clear-blackouts", is_flag=True, help="Remove every blackout range.")
@click.option("--max-delete-percent", type=float, help="Hold a run deleting more than this % of an entity.")
@click.option("--max-update-percent", type=float, help="Hold a run updating more than this % of an entity.")
@click.option("--min-changes", type=int, help="Never hold for fewer deletes/updates than this.")
@pass_ctx
def schools_set(ctx: Ctx, school_id: str, name: str | None, mode: str | None, blackouts: tuple[str, ...],
                clear_blackouts: bool, max_delete_percent: float | None, max_update_percent: float | None,
                min_changes: int | None) -> None:
    """Change a school's mode, blackout dates or safeguard thresholds."""
    from rostersync.config import Blackout
    from rostersync.output import console

    blackout = [str(Blackout.parse(b)) for b in blackouts] if blackouts else ([] if clear_blackouts else None)
    ctx.config.set_school(school_id, name=name, mode=mode, blackout=blackout,
                          max_delete_percent=max_delete_percent, max_update_percent=max_update_percent,
                          min_changes=min_changes)
    ctx.config.save()
    console.print(f"Updated school {school_id}.")


@schools.command("list")
@json_option
@pass_ctx
def schools_list(ctx: Ctx, as_json: bool) -> None:
    """List configured schools with their org ids and enabled connectors."""
    from rostersync.output import emit

    rows = []
    for school in ctx.config.schools().values():
        rows.append({"id": school.id, "name": school.name,
                     "org_ids": list(school.org_ids) if as_json else ", ".join(school.org_ids) or "(all)",
                     "connectors": list(school.connectors) if as_json else ", ".join(school.connectors)})
    emit(rows, ["id", "name", "org_ids", "connectors"], as_json=as_json, empty="no schools yet")


@main.command()
@click.argument("school_id")
@click.argument("connector")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="A connector setting (repeatable).")
@click.option("--schedule", metavar="CRON", help="When `rostersync run --due` syncs it (default nightly: 0 2 * * *).")
@pass_ctx
def enable(ctx: Ctx, school_id: str, connector: str, assignments: tuple[str, ...], schedule: str | None) -> None:
    """Enable a connector for a school, with its settings (secrets as env:NAME or file:PATH)."""
    from rostersync.connector import parse_setting_value, structure_settings
    from rostersync.errors import ConfigError
    from rostersync.output import console
    from rostersync.plugins import get_connector

    spec = get_connector(connector)
    values: dict[str, Any] = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set takes KEY=VALUE, got {item.split('=')[0]!r}")
        values[key.strip()] = parse_setting_value(spec, key.strip(), raw)
    school = ctx.config.school(school_id)
    merged = {**(school.connectors[connector].settings if connector in school.connectors else {}), **values}
    structure_settings(spec, merged)  # refuse an incomplete or invalid configuration before saving
    ctx.config.enable(school_id, connector, values, schedule)
    ctx.config.save()
    console.print(f"Enabled {connector} for {school_id}. Next: rostersync sync {school_id}")


@main.command()
@click.argument("school_id")
@click.argument("connector")
@pass_ctx
def disable(ctx: Ctx, school_id: str, connector: str) -> None:
    """Disable a connector for a school (its roster rows and history are kept)."""
    from rostersync.output import console

    ctx.config.disable(school_id, connector)
    ctx.config.save()
    console.print(f"Disabled {connector} for {school_id}.")


@main.command("switch-source")
@click.argument("school_id")
@click.argument("old")
@click.argument("new")
@json_option
@pass_ctx
def switch_source(ctx: Ctx, school_id: str, old: str, new: str, as_json: bool) -> None:
    """Hand a school's roster from connector OLD to the enabled connector NEW (e.g. csv-folder to clever),
    then disable OLD. NEW's first sync updates the same records rather than adding everyone again."""
    from rostersync.errors import ConfigError
    from rostersync.output import console, emit_json

    school = ctx.config.school(school_id)
    if new not in school.connectors:
        raise ConfigError(f"enable {new} for {school_id} first (rostersync enable {school_id} {new} --set ...)")
    with ctx.store() as store, store.source_lock(school_id, old) as one, store.source_lock(school_id, new) as other:
        if not (one and other):
            raise ConfigError(f"a sync of {school_id} is running; switch when it has finished")
        moved = store.move_source(school_id, old, new)
    if old in school.connectors:
        ctx.config.disable(school_id, old)
        ctx.config.save()
    if as_json:
        emit_json({"school": school_id, "from": old, "to": new, "moved": moved})
        return
    rows = ", ".join(f"{n} {e}" for e, n in moved.items()) or "no rows"
    console.print(f"Moved {rows} of {school_id} from {old} to {new}; {old} is disabled. "
                  f"Next: rostersync sync {school_id}", highlight=False)


# -- syncing --------------------------------------------------------------------------------------
@main.command()
@click.argument("school_id", required=False)
@click.option("--all", "all_schools", is_flag=True, help="Sync every configured school.")
@click.option("--full", is_flag=True, help="Ignore delta cursors and unchanged-drop checks; pull everything.")
@click.option("--dry-run", is_flag=True, help="Fetch, validate and diff, print what would change, commit nothing.")
@click.option("--show", "show", is_flag=True, help="With --dry-run: list the changed records and fields.")
@json_option
@pass_ctx
def sync(ctx: Ctx, school_id: str | None, all_schools: bool, full: bool, dry_run: bool, show: bool,
         as_json: bool) -> None:
    """Sync one school (or --all): fetch, validate, stage, diff and apply in one transaction.

    Exit code 0 when every run applied (or was previewed or rightly skipped), 1 when one failed,
    3 when one was held by a safeguard and waits for `rostersync approve RUN` or `discard RUN`, or
    was skipped because an earlier run of its source still waits so.
    """
    from rostersync.engine import SyncOptions
    from rostersync.errors import ConfigError

    if bool(school_id) == all_schools:
        raise ConfigError("name one SCHOOL or pass --all")
    if show and not dry_run:
        raise ConfigError("--show goes with --dry-run (use rostersync changes RUN after a real sync)")
    schools = list(ctx.config.schools().values()) if all_schools else [ctx.config.school(school_id)]
    schools = [s for s in schools if s.connectors or not all_schools]
    if not schools:
        raise ConfigError("no school has a connector enabled (rostersync enable SCHOOL CONNECTOR ...)")
    for school in schools:
        if not school.connectors:
            raise ConfigError(f"school {school.id!r} has no connector enabled (rostersync enable {school.id} ...)")
    options = SyncOptions(full=full, dry_run=dry_run, preview_limit=50 if show else 0)
    results = run_syncs(ctx, schools, options, as_json=as_json)
    sys.exit(exit_code(results))


def exit_code(results: list[Any]) -> int:
    if any(r.status == "failed" for r in results):
        return 1
    if any(r.status == "held" or r.held_run for r in results):
        return 3
    return 0


@main.command("run")
@click.option("--due", is_flag=True, required=True, help="Run every sync whose schedule is due.")
@json_option
@pass_ctx
def run_cmd(ctx: Ctx, due: bool, as_json: bool) -> None:
    """Run every due sync (for cron or a systemd timer). Sources already syncing elsewhere are left alone."""
    import datetime as dt

    from rostersync.engine import SyncOptions
    from rostersync.notify import deliver, digest, due_digests

    now = dt.datetime.now().astimezone()
    options = SyncOptions(only_if_due=now)
    schools = [s for s in ctx.config.schools().values() if s.connectors]
    results = run_syncs(ctx, schools, options, as_json=as_json)
    with ctx.store() as store:  # daily digests, once their time of day has passed
        for channel in due_digests(store, ctx.config.channels().values(), now):
            deliver(store, channel, digest(store, channel, now))
    if not results and not as_json:
        from rostersync.output import console

        console.print("nothing is due")
    sys.exit(exit_code(results))


def run_syncs(ctx: Ctx, schools: list[Any], options: Any, *, as_json: bool) -> list[Any]:
    from rostersync.engine import sync_school
    from rostersync.gcpause import fewer_collections
    from rostersync.notify import after_run
    from rostersync.output import console, emit_json
    from rostersync.progress import entity_progress

    results = []
    channels = list(ctx.config.channels().values())
    with ctx.store() as store, fewer_collections():
        for school in schools:
            for name in school.connectors:
                single = attrs.evolve(school, connectors={name: school.connectors[name]})
                with entity_progress(f"{school.id}/{name}", not as_json and console.is_terminal) as progress:
                    ran = sync_school(store, single, options, progress_for=lambda _s, _n, p=progress: p)
                for result in ran:
                    failed = after_run(store, channels, result)  # a failing channel never fails the sync
                    results.append(attrs.evolve(result, warnings=result.warnings + len(failed)))
    if as_json:
        emit_json([result_json(r) for r in results])
    else:
        for r in results:
            print_result(r)
    return results


def result_json(r: Any) -> dict[str, Any]:
    out = {"run": r.run_id, "school": r.school, "source": r.source, "status": r.status, "counts": r.counts,
           "warnings": r.warnings, "error": r.error}
    if r.preview:
        out["changes"] = r.preview
    if r.held_run:
        out["held_run"] = r.held_run
    return out


def print_result(result: Any) -> None:
    from rich.markup import escape

    from rostersync.output import console, counts_table, err_console
    from rostersync.secrets import redact

    error = escape(redact(result.error or ""))

    label = f"{result.school}/{result.source}: run {result.run_id}"
    if result.status == "skipped":
        if result.held_run:
            err_console.print(f"[bold yellow]{label} skipped, held:[/] {error}", soft_wrap=True)
        else:
            console.print(f"{label} skipped: {error}")
        return
    if result.status == "failed":
        err_console.print(f"[bold red]{label}: sync failed[/]\n{error}\nThe roster was left unchanged. "
                          f"Report: rostersync report {result.run_id}", soft_wrap=True)
        return
    titles = {"ok": "ok", "dry-run": "dry run: nothing was changed",
              "held": "HELD: nothing was changed; the diff waits for approval"}
    cols = ("fetched", "inserted", "updated", "restored", "deleted", "delete_skipped", "unchanged", "out_of_scope",
            "filtered")
    if any(c.get("rekeyed") for c in result.counts.values()):
        cols = (*cols[:4], "rekeyed", *cols[4:])
    console.print(counts_table(f"{label} {titles[result.status]}", result.counts, cols))
    if result.status == "held":
        err_console.print(f"[bold yellow]Held:[/] {error}\nReview: rostersync changes {result.run_id}   "
                          f"Apply: rostersync approve {result.run_id}   Drop: rostersync discard {result.run_id}",
                          soft_wrap=True)
    skipped = sum(c.get("delete_skipped", 0) for c in result.counts.values())
    if skipped:
        console.print(f"add-only: {skipped} delete(s) skipped")
    if result.warnings:
        console.print(f"{result.warnings} warning(s): rostersync changes {result.run_id} --warnings")
    filtered = sum(c.get("filtered", 0) for c in result.counts.values())
    if filtered:
        console.print(f"{filtered} row(s) filtered by the school's selective-sync rules")
    if result.status != "dry-run":
        console.print(f"Report: rostersync report {result.run_id}")
    if result.preview:
        console.print(changes_table(result.preview, title="Changes (first 50 per entity)"))


def changes_table(rows: list[dict[str, Any]], title: str | None = None) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for col in ("entity", "sourced_id", "action", "fields"):
        table.add_column(col.replace("_", " "), overflow="fold")
    for r in rows:
        fields = "; ".join(f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in (r["fields"] or {}).items())
        table.add_row(r["entity"], r["sourced_id"], r["action"], fields)
    return table


@main.command()
@json_option
@pass_ctx
def holds(ctx: Ctx, as_json: bool) -> None:
    """Runs held by a safeguard, waiting for approve or discard."""
    from rostersync.output import emit

    with ctx.store() as store:
        rows = store.holds()
    emit(rows, ["id", "school", "source", "started_at", "error"], as_json=as_json, empty="no held runs")


@main.command()
@click.argument("run_id", type=int)
@json_option
@pass_ctx
def approve(ctx: Ctx, run_id: int, as_json: bool) -> None:
    """Apply a held run exactly as it was staged, then finish what its source leaves until a run is
    committed (e.g. archiving an SFTP drop). Recorded in the audit log with your user name."""
    from rostersync import review
    from rostersync.output import emit_json

    with ctx.store() as store:
        result = review.approve(store, ctx.config, run_id, review.cli_actor())
    if as_json:
        emit_json(result_json(result))
    else:
        print_result(result)


@main.command()
@click.argument("run_id", type=int)
@pass_ctx
def discard(ctx: Ctx, run_id: int) -> None:
    """Drop a held run; the roster stays as it is and the next sync starts afresh (audited like approve)."""
    from rostersync import review
    from rostersync.output import console

    with ctx.store() as store:
        review.discard(store, run_id, review.cli_actor())
    console.print(f"Discarded run {run_id}; the roster was not changed.")


@main.command()
@click.argument("school_id")
@json_option
@pass_ctx
def check(ctx: Ctx, school_id: str, as_json: bool) -> None:
    """Check each source of a school (reach, auth, required files) without touching the roster."""
    from rostersync.engine import check_source
    from rostersync.errors import ConfigError
    from rostersync.output import emit

    school = ctx.config.school(school_id)
    if not school.connectors:
        raise ConfigError(f"school {school_id!r} has no connector enabled")
    rows = []
    with ctx.store() as store:
        for enabled in school.connectors.values():
            for step in check_source(store, school, enabled):
                rows.append({"source": enabled.name, "step": step.name, "ok": step.ok, "detail": step.detail})
    emit(rows, ["source", "step", "ok", "detail"], as_json=as_json)
    sys.exit(0 if all(r["ok"] for r in rows) else 1)


@main.command()
@json_option
@pass_ctx
def status(ctx: Ctx, as_json: bool) -> None:
    """Per school and source: the last run, its result and what the roster holds now."""
    from rostersync.output import emit
    from rostersync.periods import unmapped

    with ctx.store() as store:
        latest = {(r["school"], r["source"]): r for r in store.latest_runs()}
        rows = []
        for school in ctx.config.schools().values():
            live = store.live_counts(school.id)
            missing = unmapped(store, school) if school.periods else []
            periods = (f"{len(school.periods)} mapped" + (f", unmapped: {', '.join(missing)}" if missing else "")
                       if school.periods else "not mapped")
            for source in school.connectors or {"-": None}:
                run = latest.get((school.id, source), {})
                rows.append({"school": school.id, "source": source, "last_run": run.get("id"),
                             "finished": run.get("finished_at"), "status": run.get("status", "never run"),
                             "users": live["users"], "classes": live["classes"],
                             "enrollments": live["enrollments"], "periods": periods, "error": run.get("error")})
    emit(rows, ["school", "source", "last_run", "finished", "status", "users", "classes", "enrollments", "periods",
                "error"], as_json=as_json, empty="no schools yet")


@main.command()
@click.argument("school_id", required=False)
@click.option("--limit", default=20, show_default=True, help="How many runs to show.")
@json_option
@pass_ctx
def history(ctx: Ctx, school_id: str | None, limit: int, as_json: bool) -> None:
    """Past runs, newest first: status, counts and errors."""
    from rostersync.engine import summarise
    from rostersync.output import emit

    with ctx.store() as store:
        runs = store.runs(school_id, limit)
    if not as_json:
        # "error" holds a failed run's error, and the reason a run was skipped or held: "detail" for people
        runs = [{**r, **summarise(r["counts"]), "detail": r["error"]} for r in runs]
    emit(runs, ["id", "school", "source", "started_at", "finished_at", "status", "fetched", "inserted", "updated",
                "deleted", "detail"], as_json=as_json, empty="no runs yet")


@main.command()
@click.argument("run_id", type=int)
@click.option("--entity", help="Only this entity (users, classes, enrollments...).")
@click.option("--warnings", "show_warnings", is_flag=True, help="Show the run's warnings instead.")
@json_option
@pass_ctx
def changes(ctx: Ctx, run_id: int, entity: str | None, show_warnings: bool, as_json: bool) -> None:
    """Every insert, update, restore and delete a run applied (updates with before -> after)."""
    from rostersync.errors import ConfigError
    from rostersync.output import emit

    with ctx.store() as store:
        if store.run(run_id) is None:
            raise ConfigError(f"no run {run_id} (see rostersync history)")
        if show_warnings:
            emit([issue_json(i) for i in store.issues(run_id)], ["level", "message"], as_json=as_json,
                 empty="no warnings")
            return
        rows = store.changes(run_id, entity)
    if as_json or not rows:
        emit(rows, ["entity", "sourced_id", "action", "fields"], as_json=as_json, empty="no changes")
    else:
        from rostersync.output import console

        console.print(changes_table(rows))


def issue_json(issue: Any) -> dict[str, Any]:
    """A run's warning for ``--json``: ``message`` as printed (``file:line:column: reason``), and each
    part on its own (``reason`` is the message without its location)."""
    return {"level": issue.level, "message": str(issue), "code": issue.code or None, "entity": issue.entity,
            "sourced_id": issue.sourced_id, "file": issue.file, "line": issue.line, "column": issue.column,
            "reason": issue.message, "value": issue.value, "outcome": issue.outcome or None}


@main.command()
@click.argument("school_id")
@click.option("--out", "folder", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the OneRoster CSV files into.")
@click.option("--raw", is_flag=True, help="Do not defuse formula-like cells (=, +, -, @) for spreadsheets.")
@json_option
@pass_ctx
def export(ctx: Ctx, school_id: str, folder: Path, raw: bool, as_json: bool) -> None:
    """Write a school's current roster as a OneRoster 1.1 CSV bundle."""
    from rostersync.export import export_school
    from rostersync.output import emit

    school = ctx.config.school(school_id)
    with ctx.store() as store:
        written = export_school(store, school_id, folder, raw=raw, periods=school.periods)
    emit([{"file": name, "rows": n} for name, n in written.items()], ["file", "rows"], as_json=as_json,
         title=f"Exported {school_id} to {folder}", empty="the school's roster is empty")


@main.group()
def db() -> None:
    """The database's schema: which version it has, and upgrading it to this rostersync's.

    Each rostersync release knows the schema versions up to its own. SQLite databases are upgraded
    when a command opens them; stores shared by many workers (PostgreSQL) wait for `db upgrade`.
    """


@db.command("version")
@json_option
@pass_ctx
def db_version(ctx: Ctx, as_json: bool) -> None:
    """Show the database's schema version and the newest this rostersync knows."""
    from rostersync.output import emit
    from rostersync.store import inspect_store, shown

    with inspect_store(ctx.config.database, ctx.config.database_password) as store:
        version = store.schema_version()
    state = ("up to date" if not version.pending else "older: rostersync db upgrade" if version.pending > 0
             else "newer than this rostersync: upgrade rostersync")
    emit([{"database": shown(ctx.config.database), "version": version.current, "latest": version.latest,
           "state": state}], ["database", "version", "latest", "state"], as_json=as_json)


@db.command("upgrade")
@json_option
@pass_ctx
def db_upgrade(ctx: Ctx, as_json: bool) -> None:
    """Apply the pending schema migrations, each in its own transaction (back up the database first)."""
    from rostersync.output import console, emit_json
    from rostersync.store import inspect_store, shown

    with inspect_store(ctx.config.database, ctx.config.database_password) as store:
        before = store.schema_version()
        applied = store.upgrade()
        store.verify_schema()
    where = shown(ctx.config.database)
    if as_json:
        emit_json({"database": where, "from": before.current, "to": before.latest, "applied": applied})
    elif applied:
        console.print(f"{where}: upgraded from schema version {before.current} to {before.latest} "
                      f"(migrations {', '.join(map(str, applied))})", highlight=False)
    else:
        console.print(f"{where}: schema version {before.latest}, up to date", highlight=False)


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", default="auto", show_default=True, metavar="FORMAT",
              help="auto, oneroster-1.1, oneroster-1.2, clever, or an installed column map (e.g. tyler-sis-dw).")
@click.option("--policy", "policies", multiple=True, metavar="CHECK=error|skip",
              help="Policy of a check (duplicate, dangling, no_school); repeatable. "
                   "Defaults: duplicate=error, dangling=skip, no_school=skip.")
@click.option("--org-types-as-school", "as_school", multiple=True, metavar="TYPE",
              help="Treat orgs of this type (e.g. department) as schools, like the connector setting; repeatable.")
@click.option("--examples", default=5, show_default=True, help="Examples shown per group of problems.")
@json_option
def validate(path: Path, fmt: str, policies: tuple[str, ...], as_school: tuple[str, ...], examples: int,
             as_json: bool) -> None:
    """Check a roster bundle (folder or .zip) without a database: every check a sync runs.

    Prints counts per entity and errors and warnings grouped by file and column, with the first
    examples of each. Exit 1 when there are errors.
    """
    from rostersync.integrity import CheckPolicy
    from rostersync.output import emit_json
    from rostersync.validate import print_report, validate_bundle

    types = tuple(t for item in as_school for t in item.split(","))
    policy = attrs.evolve(CheckPolicy.parse(policies), org_types_as_school=types)
    report = validate_bundle(path, fmt, policy, examples)
    if as_json:
        emit_json(report.as_dict())
    else:
        print_report(report)
    sys.exit(0 if report.ok else 1)


@main.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the demo's config and database (default: a new temporary folder).")
@json_option
def demo(folder: Path | None, as_json: bool) -> None:
    """Sync the embedded sample district (2 schools, ~300 students) into a fresh database."""
    from rostersync.demo import run_demo

    sys.exit(run_demo(folder, as_json=as_json))


@main.command()
@click.option("--data", "bundle", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder holding a OneRoster CSV bundle (manifest.csv + files) to serve.")
@click.option("--port", default=8000, show_default=True, help="Port on 127.0.0.1 (0: any free port).")
@click.option("--version", "api_version", type=click.Choice(["1.1", "1.2"]), default="1.1", show_default=True)
@click.option("--behaviour", "behaviours", multiple=True, metavar="KEY=VALUE",
              help="A habit of real servers, e.g. page_clamp=50, latency=0.02, forbidden=demographics (repeatable).")
@click.option("--client-id", default="rostersync-demo", show_default=True)
@click.option("--client-secret", envvar="ROSTERSYNC_SIM_SECRET", help="Default: env ROSTERSYNC_SIM_SECRET, or random.")
def simulate(bundle: Path, port: int, api_version: str, behaviours: tuple[str, ...], client_id: str,
             client_secret: str | None) -> None:
    """Serve a OneRoster CSV bundle as a spec-exact OneRoster REST API on 127.0.0.1 (for tests and demos):
    every rostering endpoint, gradebook and resources reads, filters, sort, fields, imsx errors."""
    from rostersync.errors import ConfigError
    from rostersync.output import console
    from rostersync.testing.simulator import Behaviour, Simulator

    try:
        behaviour = Behaviour.parse(behaviours)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"--behaviour: {exc}") from None
    sim = Simulator(bundle, version=api_version, behaviour=behaviour, port=port, client_id=client_id,
                    client_secret=client_secret)
    shown = "(from ROSTERSYNC_SIM_SECRET)" if client_secret else sim.client_secret
    services = "".join(f"{name} service: {sim.service_url(name)}\n" for name in ("gradebook", "resources")
                       if sim.service_url(name) != sim.base_url)
    console.print(f"OneRoster {api_version} API: {sim.base_url}\ntoken URL: {sim.token_url}\n{services}"
                  f"client id: {client_id}\nclient secret: {shown}\nCtrl-C stops.", highlight=False)
    try:
        sim.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sim.server.server_close()


from rostersync import cli_operators  # noqa: E402, F401 - adds report, notify, periods, people, schools select
