"""Helpers for the SFTP tests: drops on the server, enabling sftp-csv, and a TCP proxy that cuts links."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from conftest import edit_csv
from rostersync.demo import sample_bundle
from rostersync.testing.links import CuttingProxy  # noqa: F401 (the resilience tests import it from here)

if TYPE_CHECKING:
    from sftp_fixtures import SshServer

PASSWORD_ENV, PASSPHRASE_ENV = "RS_TEST_SFTP_PASSWORD", "RS_TEST_SFTP_PASSPHRASE"
LINCOLN_USERS = 384


# -- helpers -------------------------------------------------------------------------------------------
def put_bundle(folder: Path, server: SshServer, edit_users=None) -> Path:  # type: ignore[no-untyped-def]
    """Copy the sample district into ``folder`` on the server (optionally editing users.csv)."""
    shutil.copytree(sample_bundle(), folder, dirs_exist_ok=True)
    if edit_users:
        edit_csv(folder / "users.csv", edit_users)
    server.chown(folder)
    return folder


def zip_bundle(target: Path, server: SshServer, edit_users=None, mtime: float | None = None) -> Path:  # type: ignore[no-untyped-def]
    staging = target.parent / f".{target.name}.src"
    put_bundle(staging, server, edit_users)
    zip_folder(staging, target, mtime)
    shutil.rmtree(staging)
    server.chown(target)
    return target


def zip_folder(source: Path, target: Path, mtime: float | None = None) -> Path:
    """The files of ``source`` as the zip ``target`` (modified at ``mtime`` when given)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(source.iterdir()):
            zf.write(path, path.name)
    if mtime is not None:
        os.utime(target, (mtime, mtime))
    return target


@contextmanager
def growing(target: Path, payload: bytes, written: int = 0) -> Iterator[None]:
    """An upload in progress, as an SIS's is: while the block runs ``target`` (holding the first ``written``
    bytes of ``payload``) grows by 64 bytes every 10 ms; it is completed when the block ends."""
    finish = threading.Event()

    def upload_slowly() -> None:
        sent = written
        while not finish.is_set() and sent < len(payload) - 64:
            with target.open("ab") as out:
                out.write(payload[sent:sent + 64])
            sent += 64
            time.sleep(0.01)
        with target.open("ab") as out:
            out.write(payload[sent:])

    writer = threading.Thread(target=upload_slowly)
    writer.start()
    try:
        yield
    finally:
        finish.set()
        writer.join()


def rename_first_student(name: str):  # type: ignore[no-untyped-def]
    def edit(rows):  # type: ignore[no-untyped-def]
        for row in rows:
            if row["sourcedId"] == "le-stu-0001":
                row["familyName"] = name
        return rows
    return edit


def family_name(db: Path, sourced_id: str = "le-stu-0001") -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT family_name FROM users WHERE sourced_id=?", [sourced_id]).fetchone()[0]


def as_json(result) -> object:  # type: ignore[no-untyped-def]
    return json.loads(result.output)


def enable(cli, server: SshServer, remote: Path, *, auth: str = "password", connector: str = "sftp-csv",  # type: ignore[no-untyped-def]
           **extra: object) -> None:
    settings: dict[str, object] = {
        "host": server.host, "port": server.port, "username": server.user, "remote_path": remote,
        "known_hosts": server.known_hosts, "settle_seconds": 0, "retry_wait": 0.05,
    }
    if auth == "password":
        server.require_password()
        settings["password"] = f"env:{PASSWORD_ENV}"
    elif auth == "key":
        settings.update(private_key=f"file:{server.key}", key_passphrase=f"env:{PASSPHRASE_ENV}")
    settings.update(extra)
    args = [part for key, value in settings.items() for part in ("--set", f"{key}={value}")]
    result = cli("enable", "lincoln", connector, *args)
    assert result.exit_code == 0, result.output


def sync(cli, *args: str) -> dict:  # type: ignore[no-untyped-def]
    result = cli("sync", "lincoln", "--json", *args)
    runs = as_json(result)
    assert len(runs) == 1, result.output
    return runs[0]


def warnings_of(cli, run: dict) -> list[str]:  # type: ignore[no-untyped-def]
    return [w["message"] for w in as_json(cli("changes", str(run["run"]), "--warnings", "--json"))]
