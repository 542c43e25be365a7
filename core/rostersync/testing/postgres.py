"""A private PostgreSQL server on 127.0.0.1 for tests and benchmarks, from the Debian packages.

``initdb`` and ``pg_ctl`` refuse to run as root, and CI runs as root: as root the server's files
belong to the ``postgres`` system user (which the Debian package creates) and both programs run as
that user through ``runuser``; as anyone else they run as the current user. The cluster lives in a
fresh temporary folder, listens on a free port on 127.0.0.1 only (and a Unix socket in the same
folder), trusts loopback connections except for members of the ``password_login`` role, who must
give a password (scram-sha-256), and trades durability for speed (``fsync=off``): it holds test data.

One server serves a whole test session; each test gets a database of its own
(:meth:`LocalPostgres.create_database`, optionally a copy of a template database).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

#: the server's superuser (trusted on loopback)
SUPERUSER = "rostersync"
#: members of this role log in with a password, for the tests of password handling
PASSWORD_ROLE = "password_login"

SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",  # test data: a crash of the machine may lose it
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "'128MB'",
    "log_min_messages": "warning",
}


class Unavailable(RuntimeError):
    """PostgreSQL's server programs are not installed (or cannot run here)."""


def server_bindir() -> Path:
    """The folder holding ``initdb``/``pg_ctl`` of the newest installed PostgreSQL server."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise Unavailable("PostgreSQL's server is not installed (apt-get install postgresql-15)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalPostgres:
    """A PostgreSQL server of our own in a temporary folder: :meth:`start`, use :meth:`url`, :meth:`stop`."""

    def __init__(self, *, durable: bool = False) -> None:
        """``durable``: PostgreSQL's own defaults for fsync and commits (benchmarks), not the tests' speed-ups."""
        self.durable = durable
        self.bindir = server_bindir()
        self.as_root = os.geteuid() == 0
        self.folder = Path(tempfile.mkdtemp(prefix="rostersync-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = free_port()

    # -- running the server programs -----------------------------------------------------------
    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / program), *args]
        if self.as_root:  # initdb and pg_ctl refuse root: run them as the packaged postgres user
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise Unavailable(f"{program} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result

    def start(self) -> LocalPostgres:
        if self.as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C",
                  "--no-sync")
        settings = {k: v for k, v in SETTINGS.items()
                    if not self.durable or k not in ("fsync", "synchronous_commit", "full_page_writes")}
        conf = "".join(f"{key} = {value}\n" for key, value in settings.items())
        conf += f"port = {self.port}\nunix_socket_directories = '{self.folder}'\n"
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as handle:
            handle.write(conf)
        (self.data / "pg_hba.conf").write_text(
            f"local all all trust\n"
            f"host all +{PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
            f"host all all 127.0.0.1/32 trust\n", encoding="utf-8")
        self._pg_ctl_start()
        self.execute(f"CREATE ROLE {PASSWORD_ROLE} NOLOGIN")
        return self

    def _pg_ctl_start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def restart(self, mode: str = "fast") -> None:
        """Stop and start the server; ``mode="immediate"`` is a crash (no shutdown checkpoint): it
        empties every UNLOGGED table, as a real crash would."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        self._pg_ctl_start()

    def stop(self) -> None:
        with contextlib.suppress(Unavailable):
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- using it ------------------------------------------------------------------------------
    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str, database: str = "postgres") -> list[tuple]:
        """Run one statement as the superuser (autocommit: CREATE DATABASE needs it)."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cursor = conn.execute(sql)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def create_database(self, name: str, template: str = "template0") -> str:
        """A new database copied from ``template`` (an empty one by default); its URL."""
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
