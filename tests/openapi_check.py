"""Checking the loopback server's answers against 1EdTech's OpenAPI descriptions (tests/data/openapi).

openapi-core matches each response to its operation (method, path template, status code) and
validates content type, declared headers (``X-Total-Count`` is an integer) and the body against the
operation's schema. Three adjustments, each made in memory on a copy (the vendored files stay as
published):

* ``servers``: the descriptions name 1EdTech's host; a running server's own base path is put there,
  as their description of ``servers`` asks ("should be configured for the actual server location").
* ``fields=`` answers hold only the fields asked for, which the bindings allow, so they are checked
  against the same schemas without their ``required`` lists (types, enums and closed objects still hold).
* 1.1 errors: the derived 1.1 description (not an official file, see SOURCES.md) declares a single
  ``imsx_StatusInfo`` as the body of every error, while the 1.1 binding, 1.1 servers and clients
  (Blackbaud, Moodle's) use ``{"statusInfoSet": [...]}``; so each entry of that array is checked
  against ``imsx_StatusInfo.Type``, with the codeMinor values the derived file lacks but 1EdTech's own
  1.1 FAQ lists (``invalid_filter_field``) or 1.2 defines for statuses 1.1 leaves open (``forbidden``,
  ``server_busy``, ``internal_server_error``).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

HERE = Path(__file__).parent / "data" / "openapi"
FILES = {("1.1", "rostering"): "oneroster-1.1-strongmind-derived.json",
         ("1.1", "gradebook"): "oneroster-1.1-strongmind-derived.json",
         ("1.1", "resources"): "oneroster-1.1-strongmind-derived.json",
         ("1.2", "rostering"): "oneroster-1.2-rostering.json",
         ("1.2", "gradebook"): "oneroster-1.2-gradebook.json",
         ("1.2", "resources"): "oneroster-1.2-resources.json"}
MINOR_11_EXTRA = ["invalid_filter_field", "forbidden", "server_busy", "internal_server_error"]


@cache
def _spec(name: str) -> dict[str, Any]:
    return json.loads((HERE / name).read_text(encoding="utf-8"))


def _without_required(spec: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    for name, schema in out["components"]["schemas"].items():
        if not name.startswith("Single"):
            schema.pop("required", None)
    return out


@cache
def _api(version: str, service: str, base_path: str, partial: bool) -> OpenAPI:
    spec = copy.deepcopy(_spec(FILES[(version, service)]))
    spec["servers"] = [{"url": base_path}]
    return OpenAPI.from_dict(_without_required(spec) if partial else spec)


@cache
def _status_validator_11() -> OAS30Validator:
    spec = copy.deepcopy(_spec(FILES[("1.1", "rostering")]))
    schemas = spec["components"]["schemas"]
    schemas["imsx_CodeMinorField.Type"]["properties"]["imsx_codeMinorFieldValue"]["enum"] += MINOR_11_EXTRA
    return OAS30Validator({"$ref": "#/components/schemas/imsx_StatusInfo.Type", "components": spec["components"]})


def service_of(sim: Any, path: str) -> str:
    for service in ("rostering", "gradebook", "resources"):
        if path.startswith(sim.paths.of(service) + "/"):
            return service
    raise AssertionError(f"{path} is under no service of the simulator")


def validate(sim: Any, response: httpx.Response) -> None:
    """Raise (openapi-core's or jsonschema's error) unless ``response`` is what the description allows."""
    url = response.request.url
    service = service_of(sim, url.path)
    if sim.version == "1.1" and response.status_code >= 400:
        body = response.json()
        assert list(body) == ["statusInfoSet"] and body["statusInfoSet"], body
        for info in body["statusInfoSet"]:
            _status_validator_11().validate(info)
        return
    partial = "fields" in url.params
    api = _api(sim.version, service, sim.paths.of(service), partial)
    request = MockRequest(f"{url.scheme}://{url.netloc.decode()}", "get", url.path,
                          args=dict(url.params.multi_items()))
    mock = MockResponse(response.content, status_code=response.status_code,
                        headers=dict(response.headers), content_type=response.headers.get("content-type"))
    api.validate_response(request, mock)
