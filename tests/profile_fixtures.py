"""The ``register`` fixture: connectors (or the connectors of profiles) installed for one test.

Test modules load it with ``pytest_plugins = ("profile_fixtures",)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from rostersync import hookimpl
from rostersync.connector import Connector
from rostersync.plugins import get_connectors, pm
from rostersync.profiles import ApiProfile, api_connector


class _Plugin:
    def __init__(self, connectors: list[Connector]) -> None:
        self.connectors = connectors

    @hookimpl
    def rostersync_register_connectors(self, register):  # type: ignore[no-untyped-def]
        for connector in self.connectors:
            register(connector)


@pytest.fixture
def register() -> Iterator[Callable[..., list[Connector]]]:
    """``register(*profiles_or_connectors)``: their connectors installed for this test only."""
    names: list[str] = []

    def add(*items: ApiProfile | Connector) -> list[Connector]:
        get_connectors()  # plugins loaded first, so this one is an addition
        connectors = [i if isinstance(i, Connector) else api_connector(i) for i in items]
        plugin = _Plugin(connectors)
        name = f"test-profiles-{len(names)}"
        pm.register(plugin, name=name)
        names.append(name)
        installed = get_connectors()
        return [installed[c.name] for c in connectors]

    yield add
    for name in names:
        pm.unregister(name=name)
