"""The conformance kit for pytest: one line gives a connector's author a test class of every check.

::

    # tests/test_conformance.py of a connector plugin
    from rostersync.testing import conformance_suite

    TestMySis = conformance_suite("my-sis")

pytest collects ``TestMySis`` (its name starts with ``Test``) and runs one test method per check
(``test_metadata``, ``test_same_roster``, ``test_fault_throttled``...), each failing with the check's
own message; a check that does not apply to the connector is skipped, saying why. The rig (the
simulator imitating the SIS, or the sshd with the drop) and the first sync are made once per class.
``bundle=`` syncs another :class:`~rostersync.testing.kit.bundles.KitBundle` instead of the kit's
district.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from rostersync.testing.kit.bundles import KitBundle
from rostersync.testing.kit.checks import CHECKS, Failed, Skipped
from rostersync.testing.kit.trial import Lab, Trial


class ConformanceSuite:
    """The checks as test methods; :func:`conformance_suite` makes a subclass per connector."""

    connector_name: ClassVar[str]
    bundle: ClassVar[KitBundle | None] = None

    @pytest.fixture(scope="class")
    @classmethod
    def trial(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trial]:
        """One rig and one first sync for the whole class (each check reuses them)."""
        from rostersync.plugins import get_connector

        with Lab(tmp_path_factory.mktemp("conformance")) as lab:
            yield Trial(get_connector(cls.connector_name), lab, cls.bundle)


def _test(check_name: str, doc: str) -> Any:
    check = next(c for c in CHECKS if c.name == check_name)

    def test(self: ConformanceSuite, trial: Trial) -> None:
        try:
            check.run(trial)
        except Skipped as exc:
            pytest.skip(str(exc))
        except Failed as exc:
            pytest.fail(f"{trial.connector.name}: {check.name}: {exc}", pytrace=False)

    test.__name__ = f"test_{check.name.replace('-', '_')}"
    test.__doc__ = doc
    return test


for _check in CHECKS:
    _method = _test(_check.name, (_check.run.__doc__ or "").strip())
    setattr(ConformanceSuite, _method.__name__, _method)


def conformance_suite(name: str, *, bundle: KitBundle | None = None) -> type:
    """A pytest test class running every conformance check for the installed connector ``name``."""
    class_name = "Test" + "".join(part.capitalize() for part in name.replace("_", "-").split("-") if part)
    return type(class_name, (ConformanceSuite,), {"connector_name": name, "bundle": bundle,
                                                  "__doc__": f"Conformance of connector {name}."})
