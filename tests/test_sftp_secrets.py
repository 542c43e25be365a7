"""The SFTP password and key passphrase never reach output, the database or the config file."""

from __future__ import annotations

import secrets
from pathlib import Path

from sftp_helpers import PASSPHRASE_ENV, PASSWORD_ENV, CuttingProxy, put_bundle, zip_bundle

pytest_plugins = ["sftp_fixtures"]  # sshd, sftp_school, drops


def _files_below(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_password_and_passphrase_never_appear_anywhere(run_cli, sshd, drops, project, monkeypatch, tmp_path):
    password = sshd.require_password()
    wrong = "wrong-" + secrets.token_urlsafe(12)
    monkeypatch.setenv(PASSWORD_ENV, password)
    monkeypatch.setenv(PASSPHRASE_ENV, sshd.key_passphrase)
    put_bundle(drops / "folder", sshd)
    zip_bundle(drops / "roster.zip", sshd)
    empty_known_hosts = tmp_path / "known_hosts"
    empty_known_hosts.write_text("")
    link = CuttingProxy(sshd.port, cut_after=40_000, cut_connections=10**6)
    common = [f"host={sshd.host}", f"port={sshd.port}", f"username={sshd.user}",
              f"known_hosts={sshd.known_hosts}", "settle_seconds=0", "retry_wait=0.01"]
    outputs: list[str] = []

    def run(*args: str, code: int = 0) -> None:
        result = run_cli(*args)
        outputs.append(result.stdout + result.stderr)
        assert result.returncode == code, outputs[-1]
        assert "Traceback" not in outputs[-1]

    def enable(school: str, *settings: str) -> None:
        run("enable", school, "sftp-csv", *[x for s in [*common, *settings] for x in ("--set", s)])

    try:
        run("init")
        run("schools", "add", "lincoln", "--name", "Lincoln", "--org-id", "sch-lincoln")
        run("schools", "add", "roosevelt", "--name", "Roosevelt", "--org-id", "sch-roosevelt")
        enable("lincoln", f"password=env:{PASSWORD_ENV}", f"remote_path={drops / 'folder'}")
        enable("roosevelt", f"private_key=file:{sshd.key}", f"key_passphrase=env:{PASSPHRASE_ENV}",
               f"remote_path={drops}", "file_pattern=*.zip", "archive=true")
        run("connectors", "show", "sftp-csv")
        run("check", "lincoln")
        run("check", "roosevelt", "--json")
        run("sync", "--all")
        run("sync", "lincoln", "--json")  # skipped: nothing new
        run("status")
        run("history", "--json")
        run("changes", "1", "--warnings")
        # failures, each with the real secrets configured
        enable("lincoln", f"known_hosts={empty_known_hosts}")
        run("sync", "lincoln", code=1)
        enable("lincoln", f"port={link.port}", f"host_key={sshd.host_fingerprint}", "retries=1")
        run("sync", "lincoln", "--full", code=1)
        enable("lincoln", f"port={sshd.port}", "host_key=", f"known_hosts={sshd.known_hosts}",
               f"remote_path={drops / 'missing'}")
        run("sync", "lincoln", code=1)
        run("check", "lincoln", code=1)
        monkeypatch.setenv(PASSWORD_ENV, wrong)
        run("sync", "lincoln", "--full", code=1)
        run("check", "lincoln", "--json", code=1)
        monkeypatch.setenv(PASSPHRASE_ENV, wrong)
        run("sync", "roosevelt", "--full", code=1)
        run("history")
    finally:
        link.close()

    joined = " ".join(" ".join(outputs).split())  # undo line wrapping
    squeezed = "".join(joined.split())  # a secret split by a wrapped line is still found
    assert "authentication failed" in joined and "host key not known" in joined  # the failures did happen
    assert "cannot unlock private_key" in joined and "connection lost" in joined
    key_text = sshd.key.read_text().splitlines()[1]  # a line of the private key itself
    stored = {p: p.read_bytes() for p in _files_below(project)}
    assert project / "rostersync.db" in stored and project / "rostersync.toml" in stored
    for secret in (password, sshd.key_passphrase, wrong, key_text):
        assert secret not in squeezed
        for path, data in stored.items():
            assert secret.encode() not in data, f"{path.name} holds a secret"
