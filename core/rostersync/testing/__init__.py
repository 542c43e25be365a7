"""Tools for testing rostersync and connectors against real servers on 127.0.0.1.

* :mod:`rostersync.testing.simulator`: a OneRoster CSV bundle served as a spec-exact OneRoster 1.1 or
  1.2 REST API (``rostersync simulate`` runs it from the command line);
* :mod:`rostersync.testing.clever_server`: a Clever CSV bundle served as Clever's Data API, with its
  Events feed (``rostersync simulate-clever``);
* :mod:`rostersync.testing.profile_server`: the OneRoster server imitating one SIS, from its connector's profile;
* :mod:`rostersync.testing.sshd`: a real OpenSSH sshd for SFTP connectors; :mod:`.links`: a proxy
  that drops connections;
* :mod:`rostersync.testing.kit`: the conformance kit; :func:`conformance_suite` gives a connector's
  author a pytest test class in one line::

      from rostersync.testing import conformance_suite

      TestMySis = conformance_suite("my-sis")

Nothing here is imported when rostersync starts.
"""

from __future__ import annotations

from typing import Any

__all__ = ["conformance_suite"]


def __getattr__(name: str) -> Any:
    if name == "conformance_suite":  # loaded on demand: it imports pytest
        from rostersync.testing.kit.suite import conformance_suite

        return conformance_suite
    raise AttributeError(name)
