"""Every SIS connector shipped with rostersync, built from its profile (one module per SIS or family).

The profiles are data (:mod:`rostersync.profiles`); this plugin turns each into a connector and
registers it. A new SIS is a new profile module listed in :data:`API_PROFILES` or :data:`SFTP_PROFILES`.
"""

from __future__ import annotations

from rostersync import hookimpl
from rostersync.profiles import api_connector, sftp_connector

from rostersync_connectors.aeries import AERIES

API_PROFILES = (AERIES,)
SFTP_PROFILES = ()


@hookimpl
def rostersync_register_connectors(register):  # type: ignore[no-untyped-def]
    for profile in API_PROFILES:
        register(api_connector(profile))
    for profile in SFTP_PROFILES:
        register(sftp_connector(profile))
