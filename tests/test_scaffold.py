"""``rostersync connectors new``: the scaffolded plugin installs into a fresh virtualenv beside rostersync, is
listed with its own package and version, passes ``rostersync connectors test``, and its own tests pass.

The fresh venv shares this environment's installed packages through a ``.pth`` file (so nothing is
downloaded but the build backend, from pip's cache) instead of ``--system-site-packages``: the
dependencies live in this test run's environment (CI's venv), not in the system's Python.
"""

from __future__ import annotations

import json
import site
import subprocess
import sys
from pathlib import Path

import pytest
from rostersync.scaffold import scaffold

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_connectors_new_writes_a_package(cli, project):
    result = cli("connectors", "new", "acme-sis", "--kind", "oneroster-api")
    assert result.exit_code == 0, result.output
    package = project / "rostersync-acme-sis"
    assert 'pip install -e ".[test]"' in result.output
    pyproject = (package / "pyproject.toml").read_text()
    assert '[project.entry-points.rostersync]\nrostersync_acme_sis = "rostersync_acme_sis"' in pyproject
    assert 'name = "rostersync-acme-sis"' in pyproject
    assert 'TestAcmeSis = conformance_suite("acme-sis")' in (package / "tests" / "test_conformance.py").read_text()
    module = (package / "src" / "rostersync_acme_sis" / "__init__.py").read_text()
    assert 'title="Acme SIS"' in module and "api_connector(PROFILE)" in module
    again = cli("connectors", "new", "acme-sis", "--kind", "oneroster-api")
    assert again.exit_code == 2 and "already exists and is not empty" in again.output


@pytest.mark.parametrize(("name", "kind", "said"), [
    ("Acme_SIS", "sftp", "use lower-case words joined by '-'"),
    ("acme", "ftp", "--kind 'ftp': one of oneroster-api, sftp"),
])
def test_a_bad_name_or_kind_is_refused(tmp_path, name, kind, said):
    from rostersync.errors import ConfigError

    with pytest.raises(ConfigError, match=said.replace("(", r"\(").replace("[", r"\[")):
        scaffold(name, kind, tmp_path / "x")


def test_a_scaffolded_plugin_installs_lists_and_passes_the_kit(tmp_path):
    plugins = {"acme-sis": "oneroster-api", "campus-drop": "sftp"}
    for name, kind in plugins.items():
        scaffold(name, kind, tmp_path / f"rostersync-{name}")
    venv = tmp_path / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    (Path(purelib) / "_rostersync_test_shared.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    pip = (sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps")
    for targets in (("-e", ROOT), [tmp_path / f"rostersync-{name}" for name in plugins]):
        installed = _run(*pip, *targets)
        assert installed.returncode == 0, installed.stderr
    rostersync = venv / "bin" / "rostersync"
    listed = {c["name"]: c for c in json.loads(_run(rostersync, "connectors", "list", "--json").stdout)}
    for name in plugins:
        assert (listed[name]["package"], listed[name]["version"]) == (f"rostersync-{name}", "0.1.0")
    tested = _run(rostersync, "connectors", "test", *plugins, "--json", cwd=tmp_path)
    outcomes = json.loads(tested.stdout)
    assert tested.returncode == 0, [o for o in outcomes if not o["ok"]]
    assert {o["connector"] for o in outcomes if o["check"] == "same-roster" and o["status"] == "ok"} == set(plugins)
    for name in plugins:
        own = _run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=tmp_path / f"rostersync-{name}")
        assert own.returncode == 0, own.stdout[-3000:]
        assert " passed" in own.stdout.splitlines()[-1]
