"""Helpers for the drop box tests: roster drops written into a local folder, as an uploader leaves them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import edit_csv
from rostersync.demo import sample_bundle
from sftp_helpers import zip_folder


def folder_drop(folder: Path, edit_users=None) -> Path:  # type: ignore[no-untyped-def]
    """The sample district's CSV files directly in ``folder`` (optionally editing users.csv)."""
    shutil.copytree(sample_bundle(), folder, dirs_exist_ok=True)
    if edit_users:
        edit_csv(folder / "users.csv", edit_users)
    return folder


def oneroster_zip(target: Path, edit_users=None, mtime: float | None = None) -> Path:  # type: ignore[no-untyped-def]
    """The sample district as one OneRoster zip at ``target`` (built beside it, then moved in place)."""
    source = folder_drop(target.parent.parent / f".{target.name}.src", edit_users)
    partial = zip_folder(source, target.parent.parent / f".{target.name}.part", mtime)
    shutil.rmtree(source)
    os.replace(partial, target)
    return target


@contextmanager
def district(server, username: str, password: str | None = None, key=None) -> Iterator[tuple[Any, Any]]:  # type: ignore[no-untyped-def]
    """Log in as a district's SIS would (paramiko, host key checked): the SSH client and its SFTP session."""
    import paramiko

    client = paramiko.SSHClient()
    client.load_host_keys(str(server.known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(server.host, port=server.port, username=username, password=password, pkey=key, timeout=10,
                       banner_timeout=10, auth_timeout=10, allow_agent=False, look_for_keys=False)
        yield client, client.open_sftp()
    finally:  # a refused login too: its transport thread would otherwise live on into later tests
        transport = client.get_transport()
        client.close()
        if transport is not None:
            transport.join(10)
