"""Setting groups shared by connectors: attrs bases that a kind's settings class inherits.

Every connector's settings class is (or subclasses) the settings class of the transport it runs on
(:class:`rostersync.transport.Transport`), and those in turn build on the groups here. A setting is
declared and validated once, in its group, so an SIS connector that only changes defaults or adds
what an operator knows (a host, an app name) inherits every validator and policy of its kind.

This module is imported when plugins load (``connectors list``): keep it free of heavy imports.
"""

from __future__ import annotations

import attrs

from rostersync.connector import choice, setting

#: what a reference check does with a failing row: refuse the run, or leave the row out and warn
CHECK_ACTIONS = ("error", "skip")
#: what a file-based source's ``format`` setting may say
BUNDLE_FORMATS = ("auto", "oneroster-1.1", "oneroster-1.2", "clever")


@attrs.frozen
class ReferenceCheckSettings:
    """The policies of the reference checks run on every staged run (see :mod:`rostersync.integrity`)."""

    on_duplicate: str = choice("A sourcedId sent twice: error (refuse the run) or skip (keep the first, warn)",
                               CHECK_ACTIONS, default="error")
    on_dangling: str = choice("A row referring to a missing class/user/course/school: skip (warn) or error",
                              CHECK_ACTIONS, default="skip")
    on_no_school: str = choice("A student with no school among its orgs: skip (warn) or error",
                               CHECK_ACTIONS, default="skip")


@attrs.frozen
class BundleSettings(ReferenceCheckSettings):
    """Settings of every source that delivers a file bundle (a folder, a zip, an SFTP drop)."""

    format: str = choice("Bundle format (auto: manifest.csv means OneRoster, its oneroster.version says "
                         "which; Clever's file names mean Clever)", BUNDLE_FORMATS, default="auto")
    demographics: bool = setting("Also import demographics (sensitive; off unless needed)", default=False)
