"""The Starlette application: routes, sessions and the security wrapper.

Built by :func:`create_app` from a config path and an :class:`~rostersync.web.security.Access`;
``rostersync serve`` runs it with uvicorn, and tests drive it in-process or through a real server.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from rostersync.errors import RostersyncError
from rostersync.web import auth
from rostersync.web.pages import connectors, dashboard, holds, people, runs
from rostersync.web.render import error_page
from rostersync.web.security import Access, guard
from rostersync.web.state import ConfigCache, WebState

SESSION_HOURS = 12


async def not_found(request: Request, exc: Exception) -> Response:
    return error_page(request, 404, "Not found", "there is no such page")


async def unavailable(request: Request, exc: Exception) -> Response:
    """A rostersync error while reading (the config edited into an invalid state, the database gone):
    the message the CLI would print, never a traceback."""
    return error_page(request, 503, "Cannot show this page", str(exc))


async def refused(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    return error_page(request, status, "Refused" if status < 500 else "Error", str(getattr(exc, "detail", "")))


def create_app(config_path: Path, access: Access, *, secret_key: str | None = None) -> Any:
    """The web view over the config at ``config_path`` (and its database). ``secret_key`` signs session
    cookies; by default a new random key per server start (a restart signs everyone out)."""
    routes = [
        Route("/", dashboard.dashboard),
        Route("/runs", runs.runs_list),
        Route("/runs/{run_id:int}", runs.run_page),
        Route("/runs/{run_id:int}/approve", holds.approve, methods=["POST"]),
        Route("/runs/{run_id:int}/discard", holds.discard, methods=["POST"]),
        Route("/holds", holds.holds_page),
        Route("/connectors", connectors.connectors_page),
        Route("/connectors/{name}", connectors.connector_page),
        Route("/people", people.people_page),
        Route("/person", people.person_page),
        Route("/login", auth.login, methods=["GET", "POST"]),
        Route("/logout", auth.logout, methods=["POST"]),
        Mount("/static", StaticFiles(packages=[("rostersync.web", "static")]), name="static"),
    ]
    middleware = [Middleware(SessionMiddleware, secret_key=secret_key or secrets.token_urlsafe(32),  # type: ignore[arg-type]
                             session_cookie="rostersync_session", max_age=SESSION_HOURS * 3600, same_site="strict",
                             https_only=access.secure_cookies)]
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={404: not_found, 405: refused, 400: refused, RostersyncError: unavailable})
    app.state.web = WebState(ConfigCache(config_path), access)
    wrapped = guard(app, access)
    wrapped.state = app.state  # type: ignore[attr-defined]  # tests reach the state through the wrapper
    return wrapped
