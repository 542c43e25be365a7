"""Sources several SIS profiles cite: integrators' lists of which SIS offers what.

Each helper returns a :class:`~rostersync.connector.Source` with what that page says about one SIS.
"""

from __future__ import annotations

from rostersync.connector import Source

#: Microsoft School Data Sync's list of OneRoster API providers it has certified
SDS = "https://learn.microsoft.com/en-us/SchoolDataSync/oneroster-provider-overview"
#: Visitor Aware's list of SIS integrations and the connection type of each (API, SFTP, pilot)
VISITOR_AWARE = ("https://visitoraware.freshdesk.com/support/solutions/articles/43000540100-oneroster-student-"
                 "information-system-integration")
#: Edlink's notes on how OneRoster providers differ
EDLINK_ONEROSTER = "https://ed.link/docs/providers/oneroster/details"
#: GG4L's per-SIS connection pages
GG4L = "https://help.gg4l.com/knowledge/"
#: Clever's rules for CSV files uploaded by SFTP
CLEVER_SFTP = "https://support.clever.com/hc/en-us/articles/203114867-SFTP-Syncs-How-do-I-format-my-CSV-files-"


def sds(fact: str) -> Source:
    return Source(SDS, "[3p]", f"School Data Sync lists it: {fact}")


def visitor_aware(fact: str) -> Source:
    return Source(VISITOR_AWARE, "[3p]", f"Visitor Aware lists its connection as: {fact}")


def gg4l(page: str, fact: str) -> Source:
    return Source(GG4L + page, "[3p]", fact)
