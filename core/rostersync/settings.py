"""Setting groups shared by connectors: attrs bases that a kind's settings class inherits.

Every connector's settings class is (or subclasses) the settings class of the transport it runs on
(:class:`rostersync.transport.Transport`), and those in turn build on the groups here. A setting is
declared and validated once, in its group, so an SIS connector that only changes defaults or adds
what an operator knows (a host, an app name) inherits every validator and policy of its kind.

This module is imported when plugins load (``connectors list``): keep it free of heavy imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from rostersync.connector import choice, setting

if TYPE_CHECKING:
    from rostersync.formats import BundleReader

#: what a reference check does with a failing row: refuse the run, or leave the row out and warn
CHECK_ACTIONS = ("error", "skip")
#: what a file-based source's ``format`` setting may say, besides the name of an installed column map
BUNDLE_FORMATS = ("auto", "oneroster-1.1", "oneroster-1.2", "clever")


def bundle_reader(format: str) -> BundleReader | None:
    """None for a built-in bundle format (:data:`BUNDLE_FORMATS`), else the reader of the installed
    format of that name that is a file layout of its own (a column map, see
    :mod:`rostersync.formats.column_map`); ValueError naming every format a bundle may be in."""
    if format in BUNDLE_FORMATS:
        return None
    from rostersync.plugins import get_formats  # lazily: the plugin manager imports this module

    formats = get_formats()
    found = formats.get(format)
    if found is None or found.bundle is None:
        layouts = [name for name, fmt in formats.items() if fmt.bundle is not None]
        raise ValueError(f"{format!r} is not one of: {', '.join((*BUNDLE_FORMATS, *layouts))}")
    return found.bundle


def _check_bundle_format(_instance: object, attribute: attrs.Attribute, value: str) -> None:
    try:
        bundle_reader(value)
    except ValueError as exc:
        raise ValueError(f"{attribute.name}: {exc}") from None


def bundle_format(help: str, default: str = "auto", type: Any = None) -> Any:
    """The ``format`` setting of a file source: a built-in bundle format, or the name of an installed
    column map (a vendor export such as ``tyler-sis-dw``). Redefine ``format`` with this, never with
    ``choice(BUNDLE_FORMATS)``, so a connector's default can name a column map. ``type`` as for
    :func:`~rostersync.connector.setting` (classes built with ``attrs.make_class``)."""
    return setting(f"{help} ({' | '.join(BUNDLE_FORMATS)} | the name of an installed column map)",
                   default=default, validator=_check_bundle_format, type=type)


@attrs.frozen
class ReferenceCheckSettings:
    """The policies of the reference checks run on every staged run (see :mod:`rostersync.integrity`)."""

    on_duplicate: str = choice("A sourcedId sent twice: error (refuse the run) or skip (keep the first, warn)",
                               CHECK_ACTIONS, default="error")
    on_dangling: str = choice("A row referring to a missing class/user/course/school: skip (warn) or error",
                              CHECK_ACTIONS, default="skip")
    on_no_school: str = choice("A student none of whose orgs exists: skip (warn) or error",
                               CHECK_ACTIONS, default="skip")
    on_invalid: str = choice("A row with a bad value: error (refuse the run) or skip (leave the row out, keep its "
                             "live record as it is, and list it in the run report)", CHECK_ACTIONS, default="error")
    org_types_as_school: tuple[str, ...] = setting(
        "Org types stored and checked as schools, e.g. department for an SIS (Rediker) that sends its schools "
        "as departments", default=(), validator=lambda _i, _a, value: _org_types(value))


def _org_types(value: tuple[str, ...]) -> None:
    from rostersync.orgtree import check_types  # lazily: this module loads on every command

    try:
        check_types(value)
    except ValueError as exc:
        raise ValueError(f"org_types_as_school: {exc}") from None


@attrs.frozen
class BundleSettings(ReferenceCheckSettings):
    """Settings of every source that delivers a file bundle (a folder, a zip, an SFTP drop)."""

    format: str = bundle_format("Bundle format (auto: manifest.csv means OneRoster, its oneroster.version says "
                                "which; Clever's file names mean Clever; a column map reads a vendor's own CSV "
                                "export)")
    demographics: bool = setting("Also import demographics (sensitive; off unless needed)", default=False)
