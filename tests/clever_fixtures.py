"""Fixtures for the Clever Data API tests: the loopback Clever server and a school syncing from it.

Test modules load these with ``pytest_plugins = ("clever_fixtures",)``; plain helpers are in
clever_helpers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from clever_helpers import DISTRICT, FAST, SECRET_ENV, TOKEN_ENV
from click.testing import Result
from rostersync.testing.clever_server import CleverServer


@pytest.fixture
def clever() -> Iterator[Callable[..., CleverServer]]:
    """``clever(bundle=DISTRICT, behaviour=Behaviour(...))``: a running Clever server (stopped after the test)."""
    with contextlib.ExitStack() as servers:
        yield lambda bundle=DISTRICT, behaviour=None, **kwargs: servers.enter_context(
            CleverServer(bundle, behaviour=behaviour, **kwargs))


@pytest.fixture
def district(cli: Callable[..., Result]) -> str:
    """A configured school 'district' with every school of the district (no org ids), no source yet."""
    assert cli("init").exit_code == 0
    assert cli("schools", "add", "district", "--name", "District").exit_code == 0
    return "district"


@pytest.fixture
def enable_clever(cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``enable_clever(server, school="district", lookup=False, **settings)``: enable the clever connector
    against ``server``, with its district token (or, with ``lookup``, the app's client id and secret)."""

    def enable(server: CleverServer, school: str = "district", lookup: bool = False, **settings: Any) -> None:
        if lookup:
            monkeypatch.setenv(SECRET_ENV, server.client_secret)
            auth = {"client_id": server.client_id, "client_secret": f"env:{SECRET_ENV}", "token_url": server.token_url}
        else:
            monkeypatch.setenv(TOKEN_ENV, server.token)
            auth = {"token": f"env:{TOKEN_ENV}"}
        values = {**auth, "base_url": server.base_url, **FAST, **settings}
        result = cli("enable", school, "clever", *[a for k, v in values.items() for a in ("--set", f"{k}={v}")])
        assert result.exit_code == 0, result.output

    return enable
