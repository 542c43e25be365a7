"""``rostersync connectors new``: a separate, pip-installable connector plugin that passes its own tests.

The package it writes (``rostersync-NAME/``) is what a third party publishes for a new SIS::

    pyproject.toml                the ``rostersync`` entry point, hatchling, rostersync as a dependency
    README.md                     install, use, develop, publish
    src/rostersync_NAME/__init__.py   the SIS's profile (API or SFTP) and the hook registering it
    tests/test_conformance.py     ``TestName = conformance_suite("NAME")``: the conformance kit

The profile is filled with placeholders of the right shape (an example host, a source to replace),
so the package installs, lists, and passes ``rostersync connectors test NAME`` as generated; the
author then replaces each fact with the SIS's real one. Templates live in ``data/scaffold``.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

from rostersync import __version__
from rostersync.errors import ConfigError

KINDS = {"oneroster-api": "OneRoster REST API", "sftp": "files dropped on SFTP"}
NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


def _template(name: str) -> Template:
    return Template((resources.files("rostersync") / "data" / "scaffold" / name).read_text(encoding="utf-8"))


def scaffold(name: str, kind: str, folder: Path, title: str | None = None) -> list[Path]:
    """Write the plugin package for connector ``name`` of ``kind`` into ``folder`` (which must not exist or
    be empty); returns the files written."""
    if not NAME.fullmatch(name):
        raise ConfigError(f"connector name {name!r}: use lower-case words joined by '-', e.g. acme-sis")
    if kind not in KINDS:
        raise ConfigError(f"--kind {kind!r}: one of {', '.join(KINDS)}")
    if folder.exists() and any(folder.iterdir()):
        raise ConfigError(f"{folder} already exists and is not empty: choose another --dir")
    module = "rostersync_" + name.replace("-", "_")
    words = name.split("-")
    values = {"name": name, "title": title or " ".join(w.upper() if w == "sis" else w.capitalize() for w in words),
              "what": KINDS[kind], "module": module, "distribution": f"rostersync-{name}",
              "classname": "".join(w.capitalize() for w in words), "rostersync_version": __version__}
    files = {
        folder / "pyproject.toml": "pyproject.toml.tmpl",
        folder / "README.md": "README.md.tmpl",
        folder / "src" / module / "__init__.py": f"module-{kind}.py.tmpl",
        folder / "tests" / "test_conformance.py": "test_conformance.py.tmpl",
    }
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_template(template).substitute(values), encoding="utf-8")
    return list(files)
