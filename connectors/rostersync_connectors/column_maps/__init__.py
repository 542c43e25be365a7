"""Column maps of vendor CSV exports that are neither OneRoster nor Clever, one module each.

Each map is data (:class:`rostersync.formats.column_map.ColumnMap`) registered here as a format of
its own name, which the ``format`` setting of any file source accepts: ``rostersync enable s
csv-folder --set path=... --set format=tyler-sis-dw``, or an SIS connector's default format. The
connectors of these SIS are built from their profiles elsewhere; this module only registers formats.
"""

from __future__ import annotations

from rostersync import hookimpl
from rostersync.formats.column_map import column_map_format

from rostersync_connectors.column_maps.asb_works import ASB_WORKS
from rostersync_connectors.column_maps.realtime import REALTIME_EDS
from rostersync_connectors.column_maps.tyler_sis import TYLER_SIS_DW

COLUMN_MAPS = (TYLER_SIS_DW, REALTIME_EDS, ASB_WORKS)

__all__ = ["ASB_WORKS", "COLUMN_MAPS", "REALTIME_EDS", "TYLER_SIS_DW"]


@hookimpl
def rostersync_register_formats(register):  # type: ignore[no-untyped-def]
    for cmap in COLUMN_MAPS:
        register(column_map_format(cmap))
