"""``rostersync dropbox``: create, list, rotate and remove per-school SFTP drop boxes (a built-in command plugin).

Registered through ``rostersync_register_commands`` like a third party's commands. Changing drop boxes
needs root; the commands say so (and why) before reading anything else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from rostersync import hookimpl

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def _host(ctx: Any, root: Path | None = None) -> Any:
    from rostersync.dropbox.host import DropBoxHost

    return DropBoxHost.from_config(ctx.config, root)


def _require_root(ctx: Any, action: str) -> None:
    """Refuse before anything else when not root, naming the rights needed (the config need not be readable)."""
    from rostersync.dropbox import provision, system
    from rostersync.dropbox.host import DropBoxHost
    from rostersync.errors import RostersyncError

    try:
        host = _host(ctx)
    except RostersyncError:
        host = DropBoxHost()
    system.require_root(action, provision.needs(host))


def _public_key(path: Path | None) -> str | None:
    if path is None:
        return None
    from rostersync.errors import ConfigError

    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the public key {path}: {exc}") from None


def _print_details(details: Any, as_json: bool, verb: str) -> None:
    from rich.markup import escape

    from rostersync.output import console, emit_json

    if as_json:
        emit_json(details.as_json())
        return
    console.print(f"{verb} the drop box of {details.school}. Send the district:")
    width = max(len(label) for label, _ in details.lines())
    for label, value in details.lines():
        console.print(f"  {label + ':':<{width + 1}} {escape(value)}", soft_wrap=True)
    if details.password is not None:
        console.print("The password is shown only now: rostersync keeps no copy (the system keeps its hash). "
                      f"Lost? rostersync dropbox rotate {details.school}")


@click.group("dropbox")
def dropbox() -> None:
    """Per-school SFTP drop boxes on this machine's OpenSSH, for districts that upload their exports."""


@dropbox.command("create")
@click.argument("school_id")
@click.option("--password", "use_password", is_flag=True, help="Log in with a generated password (the default).")
@click.option("--public-key", "public_key", type=click.Path(path_type=Path, dir_okay=False),
              help="Log in with this OpenSSH public key (.pub) instead of a password.")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False),
              help="Folder holding the schools' chroot folders (default: [dropbox] root, /srv/rostersync/dropbox).")
@click.option("--user", "account", metavar="NAME", help="Account name, instead of the one made from the school id.")
@click.option("--connector", default="sftp-dropbox", show_default=True,
              help="The dropbox-kind connector to enable (an SIS's own, e.g. NAME-dropbox).")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="A setting of the connector (format, file_pattern, marker_file, archive...), repeatable.")
@click.option("--schedule", metavar="CRON", help="When `rostersync run --due` imports (default nightly: 0 2 * * *).")
@json_option
@click.pass_obj
def create(ctx: Any, school_id: str, use_password: bool, public_key: Path | None, root: Path | None,
           account: str | None, connector: str, assignments: tuple[str, ...], schedule: str | None,
           as_json: bool) -> None:
    """Create SCHOOL's drop box: an sftp-only account chrooted to its own upload folder, and its connector.

    Prints what to send the district: host, port, username, password (shown once), folder, host key
    and the files to upload.
    """
    from rostersync.connector import parse_setting_value
    from rostersync.dropbox import provision
    from rostersync.errors import ConfigError
    from rostersync.plugins import get_connector

    _require_root(ctx, "rostersync dropbox create")
    if use_password and public_key is not None:
        raise ConfigError("choose --password or --public-key, not both")
    spec = get_connector(connector)
    values: dict[str, Any] = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        if not sep or key.strip() == "path":
            raise ConfigError(f"--set takes KEY=VALUE for any setting but path (the drop box sets it), got {item!r}")
        values[key.strip()] = parse_setting_value(spec, key.strip(), raw)
    request = provision.Request(school_id, connector, _public_key(public_key), account, values, schedule)
    details = provision.create(ctx.config, _host(ctx, root), request)
    _print_details(details, as_json, "Created")


@dropbox.command("rotate")
@click.argument("school_id")
@click.option("--password", "use_password", is_flag=True, help="A new generated password (the default for password "
                                                              "accounts; switches a key account to a password).")
@click.option("--public-key", "public_key", type=click.Path(path_type=Path, dir_okay=False),
              help="A new OpenSSH public key (.pub): the old key, or the password, stops working.")
@json_option
@click.pass_obj
def rotate(ctx: Any, school_id: str, use_password: bool, public_key: Path | None, as_json: bool) -> None:
    """New credentials for SCHOOL's drop box; the old ones stop working and open sessions are ended."""
    from rostersync.dropbox import provision
    from rostersync.errors import ConfigError

    _require_root(ctx, "rostersync dropbox rotate")
    if use_password and public_key is not None:
        raise ConfigError("choose --password or --public-key, not both")
    details = provision.rotate(ctx.config, _host(ctx), school_id, _public_key(public_key), use_password)
    _print_details(details, as_json, "New credentials for")


@dropbox.command("remove")
@click.argument("school_id")
@click.option("--purge", is_flag=True, help="Also delete the account and every file uploaded to it.")
@click.pass_obj
def remove(ctx: Any, school_id: str, purge: bool) -> None:
    """Close SCHOOL's drop box: lock the account, end its sessions, remove its sshd settings, disable its
    connector. Uploaded files and the (locked) account are kept unless --purge."""
    from rostersync.dropbox import provision
    from rostersync.output import console

    _require_root(ctx, "rostersync dropbox remove")
    for note in provision.remove(ctx.config, _host(ctx), school_id, purge):
        console.print(note, soft_wrap=True)


@dropbox.command("list")
@json_option
@click.pass_obj
def list_cmd(ctx: Any, as_json: bool) -> None:
    """Every drop box: school, account, how it logs in, folder, sshd settings, account state, connector."""
    import attrs

    from rostersync.dropbox import provision
    from rostersync.output import emit

    rows = [attrs.asdict(row) for row in provision.listing(ctx.config, _host(ctx))]
    if not as_json:
        rows = [{**row, "sshd": "yes" if row["sshd"] else "no", "connectors": ", ".join(row["connectors"]) or "-"}
                for row in rows]
    emit(rows, ["school", "account", "auth", "folder", "sshd", "login", "connectors"], as_json=as_json,
         empty="no drop boxes (rostersync dropbox create SCHOOL)")


@dropbox.command("configure")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="A [dropbox] setting: root, prefix, host, port, group, sshd, sshd_config, sshd_config_dir, "
                   "reload, pid_file (repeatable).")
@json_option
@click.pass_obj
def configure(ctx: Any, assignments: tuple[str, ...], as_json: bool) -> None:
    """Show the [dropbox] settings, or change them with --set (validated before saving)."""
    import attrs
    import tomlkit

    from rostersync.dropbox.host import TABLE, DropBoxHost
    from rostersync.errors import ConfigError
    from rostersync.output import emit

    fields = attrs.fields_dict(DropBoxHost)
    if assignments:
        table = ctx.config.doc.setdefault(TABLE, tomlkit.table())
        for item in assignments:
            key, sep, raw = item.partition("=")
            key = key.strip()
            if not sep or key not in fields:
                raise ConfigError(f"--set takes KEY=VALUE with KEY one of {', '.join(fields)}, got {item!r}")
            table[key] = int(raw) if fields[key].type in (int, "int") and raw.strip().isdigit() else raw
        _host(ctx)  # refuse an invalid value before saving
        ctx.config.save()
    host = attrs.asdict(_host(ctx))
    emit([{"setting": k, "value": str(v), "help": fields[k].metadata["help"]} for k, v in host.items()],
         ["setting", "value", "help"], as_json=as_json)


@hookimpl
def rostersync_register_commands(cli):  # type: ignore[no-untyped-def]
    cli.add_command(dropbox)
