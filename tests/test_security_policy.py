"""SECURITY.md tells a reporter how to reach the maintainers privately, with no placeholder to write to."""

from __future__ import annotations

import re
from pathlib import Path

POLICY = Path(__file__).parent.parent / "SECURITY.md"


def test_vulnerabilities_are_reported_through_private_vulnerability_reporting():
    text = POLICY.read_text(encoding="utf-8")
    section = text[text.index("## Reporting a vulnerability"):]
    assert "private vulnerability reporting" in section
    assert "**Security** tab" in section and "**Report a vulnerability**" in section
    assert "do not open a public issue" in section
    # no e-mail address at all, so none can be a placeholder (security@...invalid was one)
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text)
    assert not re.search(r"\.(invalid|example)\b|TODO|TBD|XXX", text)
