"""``rostersync simulate-clever``: the loopback Clever Data API from the command line (demos, manual tests).

Registered through ``rostersync_register_commands`` like any plugin's commands, so the core CLI does
not import the testing kit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from rostersync import hookimpl


@click.command("simulate-clever")
@click.option("--data", "bundle", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder holding a Clever CSV bundle (schools.csv, students.csv, ...) to serve.")
@click.option("--generate", "students", type=click.IntRange(1), help="Serve a generated district of this many "
              "students instead (written to a temporary folder).")
@click.option("--then", "later", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A later snapshot of the district: press Enter to move to it (its changes become events).")
@click.option("--port", default=8010, show_default=True, help="Port on 127.0.0.1 (0: any free port).")
@click.option("--normalise", is_flag=True, help="Rewrite grades, subjects and section names as Clever does.")
@click.option("--token", envvar="ROSTERSYNC_SIM_TOKEN", help="District token (default: env ROSTERSYNC_SIM_TOKEN, "
              "or random).")
def simulate_clever(bundle: Path | None, students: int | None, later: tuple[Path, ...], port: int, normalise: bool,
                    token: str | None) -> None:
    """Serve a Clever CSV bundle (or a generated district) as Clever's Data API (v3.0 and v3.1) on 127.0.0.1."""
    import tempfile

    from rostersync.errors import ConfigError
    from rostersync.testing.clever_district import write_clever_district
    from rostersync.testing.clever_server import Behaviour, CleverServer

    if (bundle is None) == (students is None):
        raise ConfigError("give --data FOLDER or --generate STUDENTS")
    with tempfile.TemporaryDirectory(prefix="rostersync-clever-") as tmp:
        if students is not None:
            bundle = write_clever_district(Path(tmp), students)
        assert bundle is not None
        _serve(CleverServer(bundle, behaviour=Behaviour(normalise=normalise), port=port, token=token), later,
               shown="(from ROSTERSYNC_SIM_TOKEN)" if token else None)


def _serve(server: Any, later: tuple[Path, ...], shown: str | None) -> None:
    from rostersync.output import console

    server.start()
    console.print(f"Clever Data API: {server.base_url} (v3.0 and v3.1)\ndistrict token: {shown or server.token}\n"
                  f"token list: {server.token_url} (client id {server.client_id}, secret {server.client_secret})",
                  highlight=False)
    try:
        for snapshot in later:
            input(f"Enter: move the district to {snapshot} ")
            events = server.advance(snapshot)
            console.print(f"{len(events)} events added to /v3.0/events", highlight=False)
        console.print("Ctrl-C stops.")
        while True:
            input()
    except (KeyboardInterrupt, EOFError):
        pass
    finally:
        server.stop()


@hookimpl
def rostersync_register_commands(cli):  # type: ignore[no-untyped-def]
    cli.add_command(simulate_clever)
