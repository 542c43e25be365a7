"""The ``rostersync`` command line. Exit codes: 0 ok, 1 a sync or data error, 2 a usage/config error."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from rostersync import __version__
from rostersync.errors import RostersyncError

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


class Ctx:
    """Lazily loaded config and store for the command being run."""

    def __init__(self, config_path: str | None) -> None:
        from rostersync import config

        self.config_path = config.locate(config_path)
        self._config: Any = None

    @property
    def config(self) -> Any:
        from rostersync.config import Config

        if self._config is None:
            self._config = Config.load(self.config_path)
        return self._config

    def store(self) -> Any:
        from rostersync.store.sqlite import open_store

        return open_store(self.config.database_path)


class Group(click.Group):
    """Turns rostersync errors into one clear line and a meaningful exit code (no traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RostersyncError as exc:
            from rostersync.output import err_console

            err_console.print(f"[bold red]Error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
            sys.exit(exc.exit_code)


@click.group(cls=Group)
@click.version_option(__version__, prog_name="rostersync")
@click.option("--config", "config_path", metavar="PATH", envvar="ROSTERSYNC_CONFIG",
              help="Config file (default ./rostersync.toml; env ROSTERSYNC_CONFIG).")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """Keep school rosters in sync with student information systems."""
    ctx.obj = Ctx(config_path)


pass_ctx = click.make_pass_decorator(Ctx)


# -- connectors ---------------------------------------------------------------------------------
@main.group()
def connectors() -> None:
    """Installed connectors (one per SIS or source kind)."""


@connectors.command("list")
@json_option
def connectors_list(as_json: bool) -> None:
    """List every installed connector with the package that provides it."""
    from rostersync.output import emit
    from rostersync.plugins import get_connectors

    rows = [{"name": c.name, "title": c.title, "kind": c.kind, "version": c.version, "package": c.package}
            for c in get_connectors().values()]
    emit(rows, ["name", "title", "kind", "version", "package"], as_json=as_json, empty="no connectors installed")


@connectors.command("show")
@click.argument("name")
@json_option
def connectors_show(name: str, as_json: bool) -> None:
    """Show a connector's settings (required, default, secret) and documentation."""
    import attrs

    from rostersync.connector import describe_settings
    from rostersync.output import console, emit, emit_json
    from rostersync.plugins import get_connector

    connector = get_connector(name)
    settings = [attrs.asdict(s) for s in describe_settings(connector)]
    if as_json:
        emit_json({"name": connector.name, "title": connector.title, "kind": connector.kind,
                   "package": connector.package, "version": connector.version, "docs": connector.docs,
                   "settings": settings})
        return
    console.print(f"[bold]{connector.name}[/] - {connector.title}\n"
                  f"kind: {connector.kind}   package: {connector.package} {connector.version}\n")
    if connector.docs:
        console.print(connector.docs + "\n")
    emit(settings, ["name", "type", "required", "default", "secret", "help"], as_json=False, title="Settings",
         empty="no settings")


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
    ctx.store().close()
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
@pass_ctx
def enable(ctx: Ctx, school_id: str, connector: str, assignments: tuple[str, ...]) -> None:
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
    ctx.config.enable(school_id, connector, values)
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


# -- syncing --------------------------------------------------------------------------------------
@main.command()
@click.argument("school_id", required=False)
@click.option("--all", "all_schools", is_flag=True, help="Sync every configured school.")
@click.option("--full", is_flag=True, help="Ignore delta cursors and pull everything.")
@json_option
@pass_ctx
def sync(ctx: Ctx, school_id: str | None, all_schools: bool, full: bool, as_json: bool) -> None:
    """Sync one school (or --all): fetch, validate, stage, diff and apply in one transaction."""
    from rostersync.errors import ConfigError

    if bool(school_id) == all_schools:
        raise ConfigError("name one SCHOOL or pass --all")
    schools = list(ctx.config.schools().values()) if all_schools else [ctx.config.school(school_id)]
    schools = [s for s in schools if s.connectors or not all_schools]
    if not schools:
        raise ConfigError("no school has a connector enabled (rostersync enable SCHOOL CONNECTOR ...)")
    for school in schools:
        if not school.connectors:
            raise ConfigError(f"school {school.id!r} has no connector enabled (rostersync enable {school.id} ...)")
    results = run_syncs(ctx, schools, full=full, as_json=as_json)
    sys.exit(0 if all(r.ok for r in results) else 1)


def run_syncs(ctx: Ctx, schools: list[Any], *, full: bool, as_json: bool) -> list[Any]:
    from rostersync.engine import sync_school
    from rostersync.output import console, emit_json
    from rostersync.progress import entity_progress

    store = ctx.store()
    results = []
    try:
        for school in schools:
            for name in school.connectors:
                single = type(school)(school.id, school.name, school.org_ids, {name: school.connectors[name]})
                with entity_progress(f"{school.id}/{name}", not as_json and console.is_terminal) as progress:
                    results += sync_school(store, single, full=full, progress_for=lambda _s, _n, p=progress: p)
    finally:
        store.close()
    if as_json:
        emit_json([{"run": r.run_id, "school": r.school, "source": r.source, "status": r.status,
                    "counts": r.counts, "warnings": r.warnings, "error": r.error} for r in results])
    else:
        for r in results:
            print_result(r)
    return results


def print_result(result: Any) -> None:
    from rich.table import Table

    from rostersync.output import console, err_console

    if result.status == "skipped":
        console.print(f"{result.school}/{result.source}: run {result.run_id} skipped: {result.error}")
        return
    if not result.ok:
        err_console.print(f"[bold red]{result.school}/{result.source}: sync failed (run {result.run_id})[/]\n"
                          f"{result.error}\nThe roster was left unchanged.", soft_wrap=True)
        return
    table = Table(title=f"{result.school}/{result.source}: run {result.run_id} ok", title_justify="left")
    cols = ("fetched", "inserted", "updated", "restored", "deleted", "unchanged", "out_of_scope")
    table.add_column("entity")
    for c in cols:
        table.add_column(c.replace("_", " "), justify="right")
    for entity, counts in result.counts.items():
        table.add_row(entity, *(str(counts.get(c, 0)) for c in cols))
    console.print(table)
    if result.warnings:
        console.print(f"{result.warnings} warning(s): rostersync changes {result.run_id} --warnings")


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
    store = ctx.store()
    rows = []
    try:
        for enabled in school.connectors.values():
            for step in check_source(store, school, enabled):
                rows.append({"source": enabled.name, "step": step.name, "ok": step.ok, "detail": step.detail})
    finally:
        store.close()
    emit(rows, ["source", "step", "ok", "detail"], as_json=as_json)
    sys.exit(0 if all(r["ok"] for r in rows) else 1)


@main.command()
@json_option
@pass_ctx
def status(ctx: Ctx, as_json: bool) -> None:
    """Per school and source: the last run, its result and what the roster holds now."""
    from rostersync.output import emit

    with_store = ctx.store()
    try:
        latest = {(r["school"], r["source"]): r for r in with_store.latest_runs()}
        rows = []
        for school in ctx.config.schools().values():
            live = with_store.live_counts(school.id)
            for source in school.connectors or {"-": None}:
                run = latest.get((school.id, source), {})
                rows.append({"school": school.id, "source": source, "last_run": run.get("id"),
                             "finished": run.get("finished_at"), "status": run.get("status", "never run"),
                             "users": live["users"], "classes": live["classes"],
                             "enrollments": live["enrollments"], "error": run.get("error")})
    finally:
        with_store.close()
    emit(rows, ["school", "source", "last_run", "finished", "status", "users", "classes", "enrollments", "error"],
         as_json=as_json, empty="no schools yet")


@main.command()
@click.argument("school_id", required=False)
@click.option("--limit", default=20, show_default=True, help="How many runs to show.")
@json_option
@pass_ctx
def history(ctx: Ctx, school_id: str | None, limit: int, as_json: bool) -> None:
    """Past runs, newest first: status, counts and errors."""
    from rostersync.engine import summarise
    from rostersync.output import emit

    store = ctx.store()
    try:
        runs = store.runs(school_id, limit)
    finally:
        store.close()
    if not as_json:
        runs = [{**r, **summarise(r["counts"])} for r in runs]
    emit(runs, ["id", "school", "source", "started_at", "finished_at", "status", "fetched", "inserted", "updated",
                "deleted", "error"], as_json=as_json, empty="no runs yet")


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

    store = ctx.store()
    try:
        if store.run(run_id) is None:
            raise ConfigError(f"no run {run_id} (see rostersync history)")
        if show_warnings:
            emit(store.issues(run_id), ["level", "message"], as_json=as_json, empty="no warnings")
            return
        rows = store.changes(run_id, entity)
    finally:
        store.close()
    if not as_json:
        rows = [{**r, "fields": "; ".join(f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in (r["fields"] or {}).items())}
                for r in rows]
    emit(rows, ["entity", "sourced_id", "action", "fields"], as_json=as_json, empty="no changes")


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
    """Serve a OneRoster CSV bundle as a OneRoster REST API on 127.0.0.1 (for tests and demos)."""
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
    console.print(f"OneRoster {api_version} API: {sim.base_url}\ntoken URL: {sim.token_url}\n"
                  f"client id: {client_id}\nclient secret: {shown}\nCtrl-C stops.", highlight=False)
    try:
        sim.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sim.server.server_close()
