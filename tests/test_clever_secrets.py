"""The Clever district token and the app's client secret never surface: not in any output of the installed
``rostersync`` script (with ``-vv`` debug logging, ``--json``, failures), not in the database, the config,
staging or lock files, whether the token is configured or looked up, accepted or refused."""

from __future__ import annotations

import os
import secrets

from clever_helpers import DISTRICT
from rostersync.testing.clever_server import Behaviour

pytest_plugins = ("clever_fixtures",)


def test_the_token_and_client_secret_appear_in_no_output_or_file(run_cli, project, clever, tmp_path):
    token = "tok-" + secrets.token_hex(16)
    wrong = "wrong-" + secrets.token_hex(8)
    server = clever(DISTRICT, behaviour=Behaviour(rotate_at=(7,)), token=token)
    env = {k: v for k, v in os.environ.items() if k != "ROSTERSYNC_CONFIG"}
    env.update(CLEVER_TOKEN=token, CLEVER_SECRET=server.client_secret)
    outputs: list[str] = []

    def run(*args: str, code: int = 0, **extra: str) -> str:
        result = run_cli("-vv", *args, env={**env, **extra})
        text = result.stdout + result.stderr
        outputs.append(text)
        assert result.returncode == code, text
        return text

    run("init")
    run("schools", "add", "hill", "--name", "Hill")
    run("enable", "hill", "clever", "--set", "token=env:CLEVER_TOKEN", "--set", f"base_url={server.base_url}",
        "--set", "backoff=0.01", "--set", "delta=true")
    run("check", "hill")
    run("sync", "hill", "--json", code=1)  # the token rotates mid-sync: a configured token is not looked up
    run("sync", "hill", code=1, CLEVER_TOKEN=server.token + "x")  # refused
    run("history", "--json")
    run("disable", "hill", "clever")
    run("enable", "hill", "clever", "--set", f"client_id={server.client_id}", "--set",
        "client_secret=env:CLEVER_SECRET", "--set", f"token_url={server.token_url}", "--set",
        f"base_url={server.base_url}", "--set", "backoff=0.01")
    ok = run("sync", "hill", "--json")  # looked up (the rotated token)
    run("check", "hill", "--json")
    run("sync", "hill", code=1, CLEVER_SECRET=wrong)
    run("sync", "hill", "--json", code=1, CLEVER_SECRET=wrong)
    run("history")
    run("status", "--json")

    assert '"status": "ok"' in ok
    everything = "".join(outputs)
    squeezed = "".join(everything.split())  # a secret split by a wrapped line is still found
    for secret in (token, server.token, server.client_secret, wrong):
        assert secret not in squeezed
        for path in project.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), f"{path.name} holds a secret"
    assert "HTTP 401" in everything  # the failures did happen, and were reported
    assert "env:CLEVER_TOKEN" in (project / "rostersync.toml").read_text() or \
        "env:CLEVER_SECRET" in (project / "rostersync.toml").read_text()
