"""Every SIS connector shipped with rostersync, built from its profile (one module per SIS or family).

The profiles are data (:mod:`rostersync.profiles`); this plugin turns each into a connector and
registers it. A new SIS is a new profile module listed in :data:`API_PROFILES` or :data:`SFTP_PROFILES`.
"""

from __future__ import annotations

from rostersync import hookimpl
from rostersync.profiles import api_connector, sftp_connectors

from rostersync_connectors.aeries import AERIES
from rostersync_connectors.blackbaud import BLACKBAUD
from rostersync_connectors.classlink import CLASSLINK, CLASSLINK_PROXY
from rostersync_connectors.facts import FACTS
from rostersync_connectors.focus import FOCUS
from rostersync_connectors.follett_aspen import FOLLETT_ASPEN
from rostersync_connectors.genesis import GENESIS
from rostersync_connectors.infinite_campus import INFINITE_CAMPUS
from rostersync_connectors.oneroster_unpublished import UNPUBLISHED
from rostersync_connectors.powerschool import POWERSCHOOL
from rostersync_connectors.schooltool import SCHOOLTOOL
from rostersync_connectors.sftp_exports import SFTP_EXPORTS
from rostersync_connectors.skyward import SKYWARD
from rostersync_connectors.smartschool import SMARTSCHOOL
from rostersync_connectors.vendor_exports import VENDOR_EXPORTS
from rostersync_connectors.vigilo import VIGILO

API_PROFILES = (AERIES, BLACKBAUD, CLASSLINK, CLASSLINK_PROXY, FACTS, FOCUS, FOLLETT_ASPEN, GENESIS, INFINITE_CAMPUS,
                POWERSCHOOL, SCHOOLTOOL, SKYWARD, SMARTSCHOOL, VIGILO, *UNPUBLISHED)
SFTP_PROFILES = (*SFTP_EXPORTS, *VENDOR_EXPORTS)


@hookimpl
def rostersync_register_connectors(register):  # type: ignore[no-untyped-def]
    for profile in API_PROFILES:
        register(api_connector(profile))
    for profile in SFTP_PROFILES:  # both directions: pulled from a server, or received in a drop box
        for connector in sftp_connectors(profile):
            register(connector)
