"""Which values a run report may show, and how much of them: sensitive values are masked when they are
written (a stored report never holds them), so a report can be shared with whoever fixes the export.

The rule, decided once for every report:

* **masked whole** (``***``): every demographics value (birth date, sex, race and ethnicity flags,
  place of birth...), and any column whose name says birth date, sex/gender, password, ethnicity,
  race, social security or national id, in any entity or vendor layout;
* **partly masked**: an email keeps its first character and its domain (``j***@example.org``: enough to
  see a wrong domain or a typo's place, not the address); a phone or SMS number keeps its last two
  digits (``***42``);
* **shown**: everything else (ids, names, grades, roles, codes, dates other than birth dates), cut to
  80 characters. Secrets revealed in this process are redacted from every value.

The report also names the file, line and sourcedId, so the operator finds the full value in the
district's own export, where it belongs.
"""

from __future__ import annotations

import re

from rostersync.secrets import redact

HIDDEN = "***"
LONGEST = 80
#: a column name (letters and digits only, lower case) containing one of these is masked whole
SENSITIVE = ("birth", "dob", "sex", "gender", "password", "ethnic", "race", "ssn", "socialsecurity",
             "nationalid", "hispanic", "americanindian", "asian", "black", "hawaiian", "white", "residence")
EMAIL = ("email", "mail")
PHONE = ("phone", "sms", "mobile", "cell")


def _plain(name: str | None) -> str:
    return re.sub(r"[^a-z0-9]", "", (name or "").lower())


def mask(entity: str | None, column: str | None, value: object) -> str | None:
    """``value`` of ``column`` (a header name or attribute) of an ``entity`` record as a report may show it."""
    if value is None:
        return None
    text = str(value)
    name = _plain(column)
    if entity == "demographics" or any(word in name for word in SENSITIVE):
        return HIDDEN if text else ""
    if any(word in name for word in EMAIL) and "@" in text:
        local, _, domain = text.rpartition("@")
        return f"{local[:1]}{HIDDEN}@{domain}"
    if any(word in name for word in PHONE):
        digits = re.sub(r"\D", "", text)
        return f"{HIDDEN}{digits[-2:]}" if text else ""
    text = redact(text)
    return text if len(text) <= LONGEST else text[:LONGEST - 3] + "..."
