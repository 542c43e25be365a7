"""Tools for testing rostersync and connectors against real servers on 127.0.0.1.

:mod:`rostersync.testing.simulator` serves a OneRoster CSV bundle as a OneRoster 1.1 or 1.2 REST API
(``rostersync simulate`` runs it from the command line); :mod:`rostersync.testing.clever_server` serves a
Clever CSV bundle as Clever's Data API, with its Events feed (``rostersync simulate-clever``).
"""
