"""rostersync: keep school rosters in sync with student information systems.

Plugins implement the hooks in :mod:`rostersync.hookspecs`; ``hookimpl`` marks them.
"""

from rostersync.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["__version__", "hookimpl"]
