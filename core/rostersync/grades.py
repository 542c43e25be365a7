"""Grade levels normalised to the CEDS codes OneRoster uses, keeping the raw value alongside.

SIS exports send ``K``, ``0``, ``Kindergarten``, ``9``, ``PreK``... ; consumers need one vocabulary.
"""

from __future__ import annotations

CEDS_GRADES = ("IT", "PR", "PK", "TK", "KG", *(f"{n:02d}" for n in range(1, 14)), "PS", "UG", "Other")

_ALIASES = {
    "infanttoddler": "IT", "infant/toddler": "IT", "preschool": "PR", "pr": "PR",
    "prekindergarten": "PK", "pre-kindergarten": "PK", "prek": "PK", "pre-k": "PK", "pk": "PK", "-1": "PK",
    "p": "PK", "transitionalkindergarten": "TK", "tk": "TK", "kindergarten": "KG", "k": "KG", "kg": "KG",
    "0": "KG", "00": "KG", "postgraduate": "PS", "ps": "PS", "ungraded": "UG", "ug": "UG", "other": "Other",
}


def normalise_grade(raw: str) -> str | None:
    """The CEDS code for ``raw``, or None when it is not a grade level rostersync recognises."""
    text = raw.strip()
    key = text.lower().replace(" ", "")
    if key in _ALIASES:
        return _ALIASES[key]
    if key.isascii() and key.isdigit() and 1 <= int(key) <= 13:  # isdigit() alone takes '²', which int() refuses
        return f"{int(key):02d}"
    if text in CEDS_GRADES:
        return text
    return None


def normalise_grades(raw: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    """(CEDS codes, raw values if any differed else (), unrecognised values)."""
    codes, unknown = [], []
    for value in raw:
        code = normalise_grade(value)
        if code is None:
            unknown.append(value)
            code = "Other"
        codes.append(code)
    out = tuple(codes)
    return out, (() if out == raw else raw), unknown
