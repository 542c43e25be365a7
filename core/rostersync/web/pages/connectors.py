"""Installed connectors with their settings docs, and each school's enabled connectors with the
settings it gave them.

A secret setting is shown only as its reference (``env:NAME``, ``file:PATH``): the view never calls
``reveal()``. A value that is not a valid reference, a setting the connector does not declare, every
setting of a connector that is not installed (which of them are secret is unknown) and a password
inside a URL are hidden rather than guessed about.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import attrs
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rostersync.config import School
from rostersync.connector import Connector, describe_settings, setting_fields
from rostersync.errors import ConfigError, RostersyncError
from rostersync.secrets import SecretRef
from rostersync.web.auth import page
from rostersync.web.paging import Pager
from rostersync.web.render import error_page, render
from rostersync.web.state import state_of

CONNECTORS, SCHOOLS = 50, 20
HIDDEN = "(hidden)"


def without_password(value: str) -> str:
    """A URL's password masked (``https://user:***@host/``); any other text as it is."""
    if "@" not in value or "://" not in value:
        return value
    parts = urlsplit(value)
    if not parts.password:
        return value
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


def shown_settings(connector: Connector | None, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The settings a school gave a connector, as the page may show them."""
    if connector is None:
        return [{"name": k, "value": HIDDEN, "note": "connector not installed"} for k in sorted(values)]
    fields = {f.name: f for f in setting_fields(connector)}
    out = []
    for name, value in sorted(values.items()):
        field = fields.get(name)
        if field is None:
            out.append({"name": name, "value": HIDDEN, "note": "not a setting of this connector"})
        elif field.metadata.get("secret"):
            try:
                out.append({"name": name, "value": str(SecretRef(str(value))), "note": "secret reference"})
            except ConfigError:
                out.append({"name": name, "value": HIDDEN, "note": "not a secret reference (env:NAME or file:PATH)"})
        else:
            text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            out.append({"name": name, "value": without_password(text), "note": ""})
    return out


def school_view(school: School, installed: dict[str, Connector]) -> dict[str, Any]:
    return {"school": school, "sources": [
        {"name": name, "schedule": enabled.schedule, "installed": name in installed,
         "settings": shown_settings(installed.get(name), enabled.settings)}
        for name, enabled in school.connectors.items()]}


def _installed() -> dict[str, Connector]:
    from rostersync.plugins import get_connectors

    return get_connectors()


@page
async def connectors_page(request: Request) -> Response:
    web = state_of(request)
    installed = await run_in_threadpool(_installed)
    schools = await run_in_threadpool(web.configs.schools)
    connectors = list(installed.values())
    cpager = Pager.of(request, len(connectors), CONNECTORS, "page")
    spager = Pager.of(request, len(schools), SCHOOLS, "spage")
    shown = [school_view(s, installed) for s in list(schools.values())[spager.start:spager.stop]]
    return render(request, "connectors.html", connectors=connectors[cpager.start:cpager.stop], cpager=cpager,
                  schools=shown, spager=spager)


@page
async def connector_page(request: Request) -> Response:
    name = request.path_params["name"]
    try:
        connector = (await run_in_threadpool(_installed))[name]
        settings = [attrs.asdict(s) for s in describe_settings(connector)]
    except (KeyError, RostersyncError):
        return error_page(request, 404, "No such connector", f"no connector named {name!r} is installed")
    return render(request, "connector.html", connector=connector, settings=settings)
