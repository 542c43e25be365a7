"""Config editing through the CLI: comments kept, settings validated, secrets as references only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rostersync.config import Config
from rostersync.plugins import pm
from test_plugins import PLUGIN_SOURCE


def test_init_add_enable_keeps_comments_and_types(cli, project: Path, bundle: Path):
    assert cli("init").exit_code == 0
    path = project / "rostersync.toml"
    path.write_text(path.read_text() + "\n# my own note\n")
    assert cli("schools", "add", "lincoln", "--name", "Lincoln", "--org-id", "a", "--org-id", "b").exit_code == 0
    assert cli("enable", "lincoln", "csv-folder", "--set", f"path={bundle}", "--set", "demographics=yes").exit_code == 0
    text = path.read_text()
    assert "# my own note" in text and "demographics = true" in text
    school = Config.load(path).school("lincoln")
    assert school.org_ids == ("a", "b")
    assert school.connectors["csv-folder"].settings == {"path": str(bundle), "demographics": True}
    listed = json.loads(cli("schools", "list", "--json").output)
    assert listed == [{"id": "lincoln", "name": "Lincoln", "org_ids": ["a", "b"], "connectors": ["csv-folder"]}]
    assert cli("disable", "lincoln", "csv-folder").exit_code == 0
    assert Config.load(path).school("lincoln").connectors == {}


def test_config_errors_are_one_clear_line_with_exit_code_2(cli, project: Path):
    result = cli("schools", "list")
    assert result.exit_code == 2 and "run `rostersync init`" in result.output
    assert cli("init").exit_code == 0
    assert cli("schools", "add", "x", "--name", "X").exit_code == 0
    bad = cli("enable", "x", "csv-folder", "--set", "paht=/tmp")
    assert bad.exit_code == 2 and "no setting 'paht'" in bad.output
    missing = cli("enable", "x", "csv-folder")
    assert missing.exit_code == 2 and "path: required setting is missing" in missing.output
    unknown = cli("enable", "x", "no-such-connector")
    assert unknown.exit_code == 2 and "rostersync connectors list shows the" in unknown.output
    typo = cli("enable", "x", "csv-foldr")
    assert typo.exit_code == 2 and "did you mean 'csv-folder'?" in typo.output
    assert cli("sync", "x").exit_code == 2


@pytest.fixture
def acme(tmp_path):  # type: ignore[no-untyped-def]
    import importlib.util

    path = tmp_path / "acme_plugin.py"
    path.write_text(PLUGIN_SOURCE)
    spec = importlib.util.spec_from_file_location("acme_plugin", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    pm.register(module, name="acme")
    yield module
    pm.unregister(name="acme")


def test_a_literal_secret_is_refused_and_never_written(cli, project: Path, acme):
    assert cli("init").exit_code == 0
    assert cli("schools", "add", "x", "--name", "X").exit_code == 0
    result = cli("enable", "x", "acme-sis", "--set", "base_url=https://sis.example", "--set",
                 "client_secret=hunter2-SECRET")
    assert result.exit_code == 2
    assert "env:VARIABLE_NAME or file:" in result.output and "hunter2" not in result.output
    assert "hunter2" not in (project / "rostersync.toml").read_text()
    ok = cli("enable", "x", "acme-sis", "--set", "base_url=https://sis.example", "--set", "client_secret=env:ACME")
    assert ok.exit_code == 0
    assert 'client_secret = "env:ACME"' in (project / "rostersync.toml").read_text()


def test_a_literal_secret_typed_into_the_file_is_refused_at_sync(cli, project: Path, acme):
    assert cli("init").exit_code == 0
    assert cli("schools", "add", "x", "--name", "X").exit_code == 0
    path = project / "rostersync.toml"
    path.write_text(path.read_text() + '\n[schools.x.connectors.acme-sis.settings]\n'
                    'base_url = "https://sis.example"\nclient_secret = "hunter2-SECRET"\n')
    result = cli("sync", "x")
    assert result.exit_code == 2
    assert "client_secret: secret settings take a reference" in result.output and "hunter2" not in result.output


def test_secret_refs_resolve_from_env_and_private_files(tmp_path, monkeypatch):
    from rostersync.errors import ConfigError
    from rostersync.secrets import SecretRef

    monkeypatch.setenv("RS_TEST_SECRET", "s3cret")
    assert SecretRef("env:RS_TEST_SECRET").reveal() == "s3cret"
    assert repr(SecretRef("env:RS_TEST_SECRET")) == "env:RS_TEST_SECRET"
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    secret.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        SecretRef(f"file:{secret}").reveal()
    secret.chmod(0o600)
    assert SecretRef(f"file:{secret}").reveal() == "from-file"
    with pytest.raises(ConfigError, match="RS_MISSING is not set"):
        SecretRef("env:RS_MISSING").reveal()


def test_revealed_secrets_are_redacted_from_output_logs_and_stored_errors(tmp_path, monkeypatch, caplog):
    import logging

    from rostersync.logs import RedactingFilter
    from rostersync.secrets import SecretRef, redact

    monkeypatch.setenv("RS_REDACT_ME", "pa55-word-xyz")
    value = SecretRef("env:RS_REDACT_ME").reveal()
    assert redact(f"login failed for {value}!") == "login failed for [REDACTED]!"
    record = logging.LogRecord("paramiko", logging.WARNING, __file__, 1, "auth with %s", (value,), None)
    assert RedactingFilter().filter(record) and record.getMessage() == "auth with [REDACTED]"

    from rostersync.store import open_store

    store = open_store(tmp_path / "x.db")
    run = store.begin_run("s", "src")
    store.fail_run(run, f"server said: bad password {value}")
    store.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("x.db*") if p.is_file())
    assert b"server said: bad password" in stored and b"pa55-word-xyz" not in stored
