"""The ``[dropbox]`` table of rostersync.toml: where drop boxes live and how this machine's sshd is reached.

Every value has a default that fits a Debian or Ubuntu server; an operator changes one with
``rostersync dropbox configure --set KEY=VALUE`` (or by hand). Tests point them at a test sshd of
their own (its config, its ``sshd_config.d``, its pid file) and never at the system's.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import attrs

from rostersync.connector import setting

TABLE = "dropbox"
PREFIX = re.compile(r"^[a-z_][a-z0-9_-]{0,15}$")
UNSAFE_IN_PATHS = re.compile(r"[\s\"'%\\#]")  # sshd_config quoting and %-tokens (ChrootDirectory expands %h, %u)


def _prefix(_instance: object, _attribute: attrs.Attribute, value: str) -> None:
    if not PREFIX.match(value):
        raise ValueError(f"prefix {value!r}: 1 to 16 of a-z, 0-9, '_' and '-', starting with a letter or '_' (it "
                         "starts every drop box account's name)")


def _root(_instance: object, _attribute: attrs.Attribute, value: Path) -> None:
    if not value.is_absolute() or UNSAFE_IN_PATHS.search(str(value)) or ".." in value.parts:
        raise ValueError(f"root {str(value)!r}: an absolute path without spaces, quotes, '%', '#' or '..' (sshd "
                         "reads it in ChrootDirectory)")


def _default_sshd() -> str:
    return shutil.which("sshd") or "/usr/sbin/sshd"


@attrs.frozen
class DropBoxHost:
    """Where drop boxes are made, and the sshd that serves them."""

    root: Path = setting("Folder holding one chroot folder per school", default=Path("/srv/rostersync/dropbox"),
                         validator=_root)
    prefix: str = setting("Start of every drop box account's name (recognisable, e.g. in ps and logs)",
                          default="rsdrop-", validator=_prefix)
    host: str = setting("Host name districts connect to (default: this machine's fully qualified name)",
                        default="")
    port: int = setting("Port districts connect to (default: the Port sshd listens on)", default=0)
    group: str = setting("Group that may read uploads besides root (a non-root sync user's group); default the "
                         "account's own", default="")
    sshd: str = setting("sshd binary, run as sshd -t / -T to validate", default=attrs.Factory(_default_sshd))
    sshd_config: Path = setting("sshd's main configuration file", default=Path("/etc/ssh/sshd_config"))
    sshd_config_dir: Path = setting("Folder sshd_config includes (Include .../*.conf); one file per drop box",
                                    default=Path("/etc/ssh/sshd_config.d"))
    reload: str = setting("Command that reloads sshd; empty: send SIGHUP to the pid in pid_file", default="")
    pid_file: Path = setting("sshd's PidFile", default=Path("/run/sshd.pid"))

    @classmethod
    def from_config(cls, config: Any, root: Path | None = None) -> DropBoxHost:
        """The ``[dropbox]`` table of ``config`` (a :class:`rostersync.config.Config`), ``root`` overriding."""
        from rostersync.connector import structure_as

        table = dict(config.doc.get(TABLE, {}))
        if root is not None:
            table["root"] = str(root)
        return structure_as(cls, table, f"{config.path}: [{TABLE}]")
