"""CONTRIBUTING.md's table of built-in SIS connectors is the one their profiles generate (as datasette's docs
tests keep its generated documentation honest): a changed profile needs `python scripts/connector_table.py
--write`."""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_connector_table_in_contributing_matches_the_profiles():
    script = runpy.run_path(str(ROOT / "scripts" / "connector_table.py"))
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert script["replaced"](text, script["generate"]()) == text, \
        "CONTRIBUTING.md is out of date: run python scripts/connector_table.py --write"


def test_every_registered_sis_connector_has_a_row():
    from rostersync_connectors.sis import API_PROFILES, SFTP_PROFILES

    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for profile in (*API_PROFILES, *SFTP_PROFILES):
        assert f"| `{profile.name}` | " in text and f"- `{profile.name}`:" in text
