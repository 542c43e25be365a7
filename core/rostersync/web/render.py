"""Rendering pages: one Jinja2 environment (autoescaped), the context every page gets, flash
messages, and the formats shared by templates (times, counts, stored JSON lists).

Every value reaches HTML through autoescaping; run errors and reasons were redacted when stored, and
pass through :func:`rostersync.secrets.redact` again here, so no secret value is ever rendered.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse

from rostersync.secrets import redact
from rostersync.web.security import CSRF_FIELD, csrf_token

ACTIONS = ("insert", "update", "restore", "delete")


def when(value: str | None) -> str:
    """A stored UTC time (``2026-11-29T02:00:13.123456Z``) as ``2026-11-29 02:00:13 UTC``."""
    if not value:
        return ""
    return value[:19].replace("T", " ") + " UTC"


def local(value: dt.datetime | None) -> str:
    """A local time (cron schedules run in the server's local time) with its zone."""
    return value.strftime("%Y-%m-%d %H:%M %Z").strip() if value else ""


def listed(value: Any) -> str:
    """A stored list (JSON text) or a list as ``a, b``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str) and value.startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def shown(value: Any) -> str:
    """Any value as text for a table cell (None as blank), redacted."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    return redact(str(value))


@functools.cache
def environment() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("rostersync.web", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=when, local=local, listed=listed, shown=shown, redact=redact)
    env.globals.update(ACTIONS=ACTIONS, CSRF_FIELD=CSRF_FIELD)
    return env


def url(path: str, **params: Any) -> str:
    """``path`` with the query parameters that are set (None and "" left out)."""
    query = urlencode({k: v for k, v in params.items() if v is not None and v != ""})
    return f"{path}?{query}" if query else path


def flash(request: Request, message: str, level: str = "ok") -> None:
    """A message shown once, on the next page this session renders (after a POST's redirect)."""
    request.session.setdefault("flash", []).append([level, redact(message)])


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    web = request.app.state.web
    page = {
        "request": request,
        "csrf": csrf_token(request.session),
        "user": getattr(request.state, "actor", None),
        "mode": web.access.mode,
        "flashes": request.session.pop("flash", []),
        "url": url,
        "nav": "",
        **context,
    }
    return HTMLResponse(environment().get_template(template).render(page), status_code=status_code)


def error_page(request: Request, status_code: int, title: str, detail: str) -> HTMLResponse:
    return render(request, "error.html", status_code, title=title, detail=redact(detail))
