"""Fixtures for the OneRoster API tests: a simulator on 127.0.0.1 and a school syncing from it.

Test modules load these with ``pytest_plugins = ("api_fixtures",)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import FAST, SECRET_ENV
from click.testing import Result
from rostersync.testing.simulator import Behaviour, Simulator


@pytest.fixture
def start_sim(bundle: Path) -> Iterator[Callable[..., Simulator]]:
    """``start_sim(version="1.2", behaviour=Behaviour(...))``: a running simulator serving ``bundle``."""
    running: list[Simulator] = []

    def start(version: str = "1.1", behaviour: Behaviour | None = None, data: Path | None = None,
              **kwargs: Any) -> Simulator:
        sim = Simulator(data or bundle, version=version, behaviour=behaviour, **kwargs).start()
        running.append(sim)
        return sim

    yield start
    for sim in running:
        sim.stop()


@pytest.fixture
def enable_api(cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``enable_api(sim, school="lincoln", **settings)``: enable oneroster-api for a school against ``sim``."""

    def enable(sim: Simulator, school: str = "lincoln", connector: str = "oneroster-api", **settings: Any) -> None:
        monkeypatch.setenv(SECRET_ENV, sim.client_secret)
        values = {"base_url": sim.base_url, "token_url": sim.token_url, "client_id": sim.client_id,
                  "client_secret": f"env:{SECRET_ENV}", "version": sim.version, **FAST, **settings}
        args = [a for k, v in values.items() for a in ("--set", f"{k}={v}")]
        result = cli("enable", school, connector, *args)
        assert result.exit_code == 0, result.output

    return enable


@pytest.fixture
def lincoln(cli: Callable[..., Result]) -> str:
    """A configured school 'lincoln' (org sch-lincoln) with no connector yet."""
    assert cli("init").exit_code == 0
    assert cli("schools", "add", "lincoln", "--name", "Lincoln Elementary", "--org-id", "sch-lincoln").exit_code == 0
    return "lincoln"
