"""OneRoster status payloads (imsx) and the errors the server answers with them.

Raise :class:`ApiError` anywhere while answering a request; the server turns it into the HTTP status
and the version's payload (:func:`payload`):

* **1.2** (rostering/gradebook/resources OpenAPI): the ``imsx_StatusInfoDType`` object itself is the
  body: ``imsx_codeMajor``, ``imsx_severity`` (both required), ``imsx_description`` and
  ``imsx_CodeMinor.imsx_codeMinorField[]`` with the codeMinor value. codeMinor values are the
  OpenAPI's: ``invalid_filter_field``, ``invalid_selection_field``, ``invaliddata``,
  ``unauthorisedrequest``, ``forbidden``, ``server_busy``, ``unknownobject``, ``internal_server_error``.
* **1.1**: ``{"statusInfoSet": [imsx_StatusInfo, ...]}``: the 1.1 binding reports "an array of potential
  errors" (1EdTech's OneRoster 1.1 FAQ), which is what 1.1 servers send and clients read. Each entry
  carries ``imsx_messageRefIdentifier`` (required by the 1.1 description) and the 1.1 codeMinor
  vocabulary (``invalid_sort_field``, ``invalid_filter_field``, ``invalid_selection_field``,
  ``invaliddata``, ``unauthorisedrequest``, ``unknownobject``...). For what 1.1 has no code for
  (403, 429, 500) the 1.2 values (``forbidden``, ``server_busy``, ``internal_server_error``) are used.

The ``error_envelope`` behaviour sends what some servers send instead: ``bare`` (the status object at
the top level, 1.1 too), ``wrapped`` (1.2 wrapped in ``{"imsx_statusInfo": ...}``) or ``set`` (1.2 in
a ``statusInfoSet`` array).
"""

from __future__ import annotations

import itertools
from typing import Any

#: HTTP status -> the codeMinor it is answered with unless the raiser says otherwise.
DEFAULT_MINOR = {400: "invaliddata", 401: "unauthorisedrequest", 403: "forbidden", 404: "unknownobject",
                 405: "invaliddata", 422: "invaliddata", 429: "server_busy", 500: "internal_server_error"}
ENVELOPES = ("spec", "bare", "wrapped", "set")
_refs = itertools.count(1)


class ApiError(Exception):
    """An error answer: HTTP ``status``, the imsx codeMinor and a description for a person."""

    def __init__(self, status: int, description: str, minor: str = "", *, headers: dict[str, str] | None = None,
                 major: str = "failure") -> None:
        super().__init__(description)
        self.status, self.description = status, description
        self.minor = minor or DEFAULT_MINOR.get(status, "")
        self.major, self.headers = major, headers or {}


def unknown(what: str) -> ApiError:
    """404 for an id or path the server does not know ("Unknown Object", as the 1.2 binding asks)."""
    return ApiError(404, f"Unknown Object: {what}", "unknownobject")


def status_info(version: str, error: ApiError) -> dict[str, Any]:
    info: dict[str, Any] = {"imsx_codeMajor": error.major, "imsx_severity": "error"}
    if version == "1.1":
        info["imsx_messageRefIdentifier"] = f"rostersync-simulator-{next(_refs)}"
    info["imsx_description"] = error.description
    if error.minor:
        info["imsx_CodeMinor"] = {"imsx_codeMinorField": [
            {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": error.minor}]}
    return info


def payload(version: str, error: ApiError, envelope: str = "spec") -> dict[str, Any]:
    """The body answering ``error`` in ``version``, in the spec's envelope or a relaxed one."""
    info = status_info(version, error)
    if envelope == "bare" or (envelope == "spec" and version == "1.2"):
        return info
    if envelope == "wrapped":
        return {"imsx_statusInfo": info}
    return {"statusInfoSet": [info]}
