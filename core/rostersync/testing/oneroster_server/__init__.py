"""A spec-exact OneRoster 1.1/1.2 provider on 127.0.0.1, and an imitator of real servers' habits.

Start at :mod:`.server` (how a request is answered, and the module map); ``rostersync simulate``
runs it from the command line. :mod:`rostersync.testing.simulator` re-exports what tests use.
"""

from rostersync.testing.oneroster_server.auth import AuthPolicy
from rostersync.testing.oneroster_server.behaviour import Behaviour
from rostersync.testing.oneroster_server.routes import ROUTES, Paths, Route
from rostersync.testing.oneroster_server.server import LogEntry, Simulator

__all__ = ["ROUTES", "AuthPolicy", "Behaviour", "LogEntry", "Paths", "Route", "Simulator"]
