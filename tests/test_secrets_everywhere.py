"""A secret never surfaces: not in any line of output (stdout and stderr, with ``-vv`` debug logging, with
``--json``), not in the database, the config, or the staging files, whatever path it takes.

The connector is a throwaway third-party plugin, installed for real (a module plus a ``.dist-info`` with
its entry point on ``PYTHONPATH``), so it runs in the installed ``rostersync`` script like any plugin. It
reads its token from an ``env:`` reference and then does what careless code and chatty libraries do:
logs the token at debug and info level (as ``httpx`` logs a URL), logs an exception whose message and
traceback quote it, passes it to a run warning, puts it in an error message and its location, shows it
in a check step, and, as a bug would, raises a plain exception quoting it (the traceback Python prints).
The same project also syncs through csv-folder, so the shared code paths run with the secret revealed.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

from conftest import rostersync_exe
from plugin_helpers import install_plugin

CORPUS_BASELINE = Path(__file__).parent / "corpus" / "_baseline"
TOKEN_ENV = "RS_THROWAWAY_TOKEN"

PLUGIN = '''
"""A throwaway connector that leaks its token everywhere it can."""
import logging
from pathlib import Path

import attrs
from rostersync import hookimpl
from rostersync.connector import CheckStep, Connector, setting
from rostersync.errors import SourceError
from rostersync.secrets import SecretRef
from rostersync.settings import ReferenceCheckSettings
from rostersync.transport import Transport

log = logging.getLogger("httpx")  # where a real HTTP client would log


@attrs.frozen
class Settings(ReferenceCheckSettings):
    path: Path = setting("bundle folder")
    token: SecretRef = setting("API token", secret=True)
    fail: str = setting("'', 'error' or 'bug'", default="")


LEAKY = Connector(name="leaky-sis", title="Leaky SIS", kind="leaky", settings=Settings)


@hookimpl
def rostersync_register_connectors(register):
    register(LEAKY)


@hookimpl
def rostersync_register_transports(register):
    register(Transport("leaky", "A transport that leaks its token", Settings, fetch, check))


def fetch(connector, context):
    token = context.settings.token.reveal()
    log.debug("request headers: {'authorization': 'Bearer %s'}", token)
    log.info("HTTP Request: GET https://sis.example/users?access_token=%s", token)
    context.warn(f"the server echoed our token {token}")
    try:
        raise ValueError(f"token {token} looks expired")
    except ValueError:
        log.exception("refreshing token %s", token)
    if context.settings.fail == "error":
        raise SourceError(f"401 Unauthorized for token {token}", f"https://sis.example/users?access_token={token}")
    if context.settings.fail == "bug":
        raise RuntimeError(f"unexpected state with token {token}")
    from rostersync.csvbundle import read_bundle

    yield from read_bundle(context.settings.path)


def check(connector, context):
    token = context.settings.token.reveal()
    log.warning("check with token %s", token)
    return [CheckStep("authenticate", False, f"token {token} was refused")]
'''


def test_a_revealed_secret_appears_in_no_output_log_traceback_or_file(tmp_path: Path) -> None:
    token = "tok-" + secrets.token_urlsafe(18)
    site = install_plugin(tmp_path / "site", "rs_leaky", PLUGIN, "rs-leaky", "leaky")
    project = tmp_path / "project"
    project.mkdir()
    shutil.copytree(CORPUS_BASELINE, project / "drop")
    env = {k: v for k, v in os.environ.items() if k != "ROSTERSYNC_CONFIG"}
    env.update(PYTHONPATH=str(site), **{TOKEN_ENV: token})
    outputs: list[str] = []

    def run(*args: str, code: int = 0) -> str:
        result = subprocess.run([rostersync_exe(), "-vv", *args], cwd=project, env=env, capture_output=True,
                                text=True, timeout=120)
        text = result.stdout + result.stderr
        outputs.append(text)
        assert result.returncode == code, text
        return text

    run("init")
    run("connectors", "show", "leaky-sis", "--json")
    run("schools", "add", "hill", "--name", "Hill", "--org-id", "sch-1")
    run("enable", "hill", "csv-folder", "--set", "path=drop")
    run("enable", "hill", "leaky-sis", "--set", "path=drop", "--set", f"token=env:{TOKEN_ENV}")
    run("check", "hill", code=1)
    run("check", "hill", "--json", code=1)
    ok = run("sync", "hill", "--json")
    run("sync", "hill")
    run("history", "--json")
    run("status", "--json")
    run("changes", "2", "--warnings")
    run("changes", "2", "--warnings", "--json")
    run("enable", "hill", "leaky-sis", "--set", "fail=error")
    failed = run("sync", "hill", code=1)
    run("sync", "hill", "--json", code=1)
    run("history")
    run("enable", "hill", "leaky-sis", "--set", "fail=bug")
    bug = run("sync", "hill", code=1)
    run("history", "--json")

    # the leaks did happen, each redacted where it surfaced
    assert '"status": "ok"' in ok and "[REDACTED]" in ok
    assert "DEBUG httpx: request headers" in ok and "INFO httpx: HTTP Request: GET" in ok
    assert "ValueError: token [REDACTED] looks expired" in ok  # the logged traceback
    assert "401 Unauthorized for token [REDACTED]" in failed and "access_token=[REDACTED]" in failed
    assert "Traceback" in bug and "RuntimeError: unexpected state with token [REDACTED]" in bug
    assert "token [REDACTED] was refused" in "".join(outputs)
    assert "the server echoed our token [REDACTED]" in "".join(outputs)  # the stored run warning
    everything = "".join(outputs)
    assert token not in everything and token not in "".join(everything.split())  # even across wrapped lines
    for path in project.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path
    assert f"env:{TOKEN_ENV}" in (project / "rostersync.toml").read_text()
