"""The conformance kit: what a connector must get right to ship, checked end to end against real servers.

* :mod:`.checks`: the checks (metadata, settings, secrets, derived URLs; a sync from the connector's
  rig compared row for row with the reference bundle; a re-sync; three faults);
* :mod:`.rigs`: the loopback OneRoster server imitating the connector's SIS, a real sshd with the drop
  laid out as the SIS lays it out, or a folder;
* :mod:`.trial`: one connector under test, its syncs and the reference roster;
* :mod:`.suite`: :func:`conformance_suite`, the one-line pytest test class;
* :mod:`.runner`: the same checks without pytest (``rostersync connectors test``).

Nothing here loads when rostersync starts: the CLI imports it only for ``connectors test``.
"""

from rostersync.testing.kit.bundles import KitBundle
from rostersync.testing.kit.checks import CHECKS
from rostersync.testing.kit.runner import check_connectors
from rostersync.testing.kit.trial import Lab, Outcome, Trial

__all__ = ["CHECKS", "KitBundle", "Lab", "Outcome", "Trial", "check_connectors", "conformance_suite"]


def __getattr__(name: str) -> object:
    if name == "conformance_suite":  # pytest is imported only by those who ask for the pytest class
        from rostersync.testing.kit.suite import conformance_suite

        return conformance_suite
    raise AttributeError(name)
