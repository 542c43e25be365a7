"""``rostersync serve``, registered like any plugin's command (``rostersync_register_commands``).

This module is loaded with every command, so it imports nothing of the web stack: Starlette,
Jinja2, uvicorn and argon2 are imported when ``serve`` runs, and a missing ``web`` extra is a clear
error then, not an import failure of the whole command line.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import click

from rostersync import hookimpl
from rostersync.errors import ConfigError

EXTRA = "pip install 'rostersync[web]'"


def require_web_stack() -> None:
    """Refuse clearly when the ``web`` extra is not installed."""
    import importlib.util

    missing = [m for m in ("starlette", "jinja2", "uvicorn", "argon2", "multipart", "itsdangerous")
               if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(f"rostersync serve needs the web extra ({', '.join(missing)} missing): {EXTRA}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs a password or --proxy-header.")
@click.option("--port", default=8080, show_default=True, help="Port (0: any free port; the URL is printed).")
@click.option("--set-password", "set_password", is_flag=True,
              help="Set --user's password (asked twice; stored as an argon2id hash in the config), then exit.")
@click.option("--user", default="admin", show_default=True, help="With --set-password: whose password.")
@click.option("--proxy-header", metavar="HEADER",
              help="Trust a reverse proxy to name the signed-in user in HEADER (e.g. X-Forwarded-User).")
@click.option("--proxy-address", "proxy_addresses", multiple=True, metavar="ADDRESS",
              help="With --proxy-header: the proxy's address (repeatable; default 127.0.0.1 and ::1).")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="A host name browsers use to reach the view (repeatable; default: loopback names when "
                   "bound to loopback, else any). Required with --proxy-header.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, set_password: bool, user: str, proxy_header: str | None,
          proxy_addresses: tuple[str, ...], allowed_hosts: tuple[str, ...]) -> None:
    """Serve the operator's web view: dashboard, runs and their reports, holds to approve or discard,
    connectors and people. Bound to 127.0.0.1 unless told otherwise; see the README's security model."""
    import attrs

    require_web_stack()
    from rostersync.output import console
    from rostersync.web.settings import web_settings

    config = ctx.obj.config
    if set_password:
        _set_password(config, user)
        return
    settings = web_settings(config)
    if proxy_header:
        settings = attrs.evolve(settings, proxy_user_header=proxy_header)
    if proxy_addresses:
        settings = attrs.evolve(settings, proxy_addresses=proxy_addresses)
    if allowed_hosts:
        settings = attrs.evolve(settings, allowed_hosts=allowed_hosts)
    from rostersync.store import store_at
    from rostersync.web.security import access_for

    access = access_for(host, settings)
    with store_at(config.database, password=config.database_password):  # upgrade (SQLite) or refuse it now
        pass
    run_server(config.path, access, host, port, announce=lambda url: console.print(
        f"rostersync web view on {url} ({access.mode} access); Ctrl-C stops.", highlight=False))


def _set_password(config: Any, user: str) -> None:
    from rostersync.output import console
    from rostersync.web.settings import set_password

    password = click.prompt(f"New password for {user}", hide_input=True, confirmation_prompt=True)
    set_password(config, user, password)
    config.save()
    console.print(f"Password set for {user}: stored as an argon2id hash in {config.path} [web.users].",
                  highlight=False)


def run_server(config_path: Any, access: Any, host: str, port: int, announce: Any) -> None:
    """Bind, print the URL (with the port actually bound), and serve until interrupted."""
    import socket

    import uvicorn

    from rostersync.web.app import create_app

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)  # connections queue from now on: the printed URL answers at once
    bound = sock.getsockname()[1]
    # proxy_headers off: the client address is the connection's; only a configured proxy is believed
    app = create_app(config_path, access)
    app.state.web.configs.schools()  # parse the config now: the first page should not wait for it
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning",
                                           proxy_headers=False, server_header=False, access_log=False))
    announce(f"http://{'[' + host + ']' if ':' in host else host}:{bound}/")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn stopped gracefully, then re-raised Ctrl-C
        server.run(sockets=[sock])


@hookimpl
def rostersync_register_commands(cli: click.Group) -> None:
    cli.add_command(serve)
