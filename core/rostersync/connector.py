"""What a connector is: a named source with typed settings, served by a transport of some ``kind``.

Connector plugins register :class:`Connector` objects through ``rostersync_register_connectors``.
Settings are a frozen attrs class whose fields carry ``help``/``secret`` metadata (use :func:`setting`);
the host structures them from TOML with one cattrs converter, so a typo in a setting name is an
error, not a silently ignored key.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from rostersync.errors import ConfigError
from rostersync.secrets import SecretRef

NOTHING = attrs.NOTHING


def setting(help: str, default: Any = NOTHING, secret: bool = False, validator: Any = None,
            type: Any = None) -> Any:
    """Declare one connector setting: its help text, its default (none = required), secrecy and an
    optional attrs validator (run when the settings are structured: ``enable`` refuses a bad value).
    ``type`` is only for classes built with ``attrs.make_class`` (an annotation says it otherwise)."""
    return attrs.field(default=default, validator=validator, metadata={"help": help, "secret": secret},
                       kw_only=True, type=type)


def choice(help: str, choices: tuple[str, ...], default: Any = NOTHING, type: Any = None) -> Any:
    """A string setting limited to ``choices``; the one way every enumerated setting is validated."""

    def check(_instance: object, attribute: attrs.Attribute, value: str) -> None:
        if value not in choices:
            raise ValueError(f"{attribute.name}: {value!r} is not one of: {', '.join(choices)}")

    return setting(f"{help} ({' | '.join(choices)})", default=default, validator=check, type=type)


def positive(_instance: object, attribute: attrs.Attribute, value: float) -> None:
    """Validator: a count, size or duration that must be greater than zero."""
    if value <= 0:
        raise ValueError(f"{attribute.name}: must be greater than 0 (got {value})")


#: what a connector's facts rest on, as ``connectors list`` shows it
BASES = ("vendor docs", "integrator docs", "none public", "generic")


@attrs.frozen
class Source:
    """Where a fact about an SIS comes from: a URL (or ``repo/path`` of public code), its kind
    (``[doc]`` the vendor's documentation, ``[3p]`` an integrator's, ``[code]`` public code) and the fact."""

    where: str
    tag: str
    fact: str


@attrs.frozen
class Quirk:
    """Something an SIS does differently, and the fix rostersync applies, per raw batch.

    ``fix(batch)`` returns the batch repaired (a new :class:`~rostersync.batches.RawBatch`, or the same
    one); it runs on the batches whose format is in ``formats``, before the format maps them, so the
    format's validation still applies to what the fix produced. Keep a fix small and give it a test.
    """

    name: str
    description: str
    formats: tuple[str, ...]
    fix: Callable[[Any], Any]


@attrs.frozen
class Connector:
    """A source rostersync can sync from.

    ``kind`` selects the transport plugin that fetches for it (``local-folder``, ``sftp``,
    ``oneroster-api``...); ``settings`` is the attrs class its configuration structures into.
    ``basis`` says what its facts rest on (one of :data:`BASES`), ``sources`` where each came from,
    ``setup`` where in the SIS an administrator turns the export or API on, and ``quirks`` the fixes
    applied to its raw batches. ``package``/``version`` are filled in by the host from the plugin
    that registered it.
    """

    name: str
    title: str
    kind: str
    settings: type
    docs: str = ""
    homepage: str = ""
    basis: str = "generic"
    setup: str = ""
    sources: tuple[Source, ...] = ()
    quirks: tuple[Quirk, ...] = ()
    package: str = ""
    version: str = ""

    def __attrs_post_init__(self) -> None:
        if self.basis not in BASES:
            raise ValueError(f"connector {self.name}: basis {self.basis!r} is not one of {', '.join(BASES)}")

    def repair(self, batch: Any) -> Any:
        """``batch`` (a RawBatch) after the quirk fixes that apply to its format, in order."""
        for quirk in self.quirks:
            if batch.format in quirk.formats:
                batch = quirk.fix(batch)
        return batch


@attrs.frozen
class SettingInfo:
    name: str
    type: str
    required: bool
    default: Any
    secret: bool
    help: str


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def setting_fields(connector: Connector) -> tuple[attrs.Attribute, ...]:
    """The attrs fields of a connector's settings class, with string annotations resolved."""
    attrs.resolve_types(connector.settings)
    fields = attrs.fields(connector.settings)
    for f in fields:
        if f.metadata.get("secret") and f.type not in (SecretRef, SecretRef | None):
            raise ConfigError(f"connector {connector.name}: secret setting {f.name} must be typed SecretRef")
    return fields


def describe_settings(connector: Connector) -> list[SettingInfo]:
    """The settings of a connector as operators see them in ``connectors show``: required ones first,
    then the connector's own, then those inherited from its kind's setting groups."""
    out = []
    fields = setting_fields(connector)
    for f in sorted(fields, key=lambda f: (f.default is not NOTHING, f.inherited)):
        required = f.default is NOTHING
        default = None if required else f.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        out.append(
            SettingInfo(
                name=f.name,
                type="secret ref" if f.metadata.get("secret") else _type_name(f.type),
                required=required,
                default=default,
                secret=bool(f.metadata.get("secret")),
                help=f.metadata.get("help", ""),
            )
        )
    return out


def example_urls(connector: Connector) -> dict[str, str]:
    """For a connector whose settings derive addresses (``api_root``/``token_endpoint``), those addresses
    filled from each input's example answer, so ``connectors show`` can say what they look like."""
    profile = getattr(connector.settings, "profile", None)
    url = getattr(profile, "url", None)
    if url is None:
        return {}
    answers = {i.name: i.example or f"<{i.name}>" for i in profile.inputs}
    return {"base_url": url(profile.base_url, answers), "token_url": url(profile.token_url, answers)}


def _parse_bool(value: Any, _type: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ValueError(f"not a boolean: {value!r} (use true or false)")


@functools.cache
def converter() -> Any:
    """The one cattrs converter for settings (built on first use: cattrs is slow to import)."""
    import cattrs

    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook(bool, _parse_bool)
    conv.register_structure_hook(SecretRef, lambda v, _t: v if isinstance(v, SecretRef) else SecretRef(v))
    conv.register_structure_hook(Path, lambda v, _t: Path(v).expanduser())
    conv.register_unstructure_hook(SecretRef, str)
    conv.register_unstructure_hook(Path, str)
    return conv


def structure_settings(connector: Connector, values: dict[str, Any]) -> Any:
    """Validate ``values`` into ``connector.settings``; errors name the setting and never echo a secret."""

    secret_names = {f.name for f in setting_fields(connector) if f.metadata.get("secret")}
    return structure_as(connector.settings, values, f"connector {connector.name}", secret_names)


def structure_as(cls: type, values: dict[str, Any], where: str, secret_names: set[str] | None = None) -> Any:
    """``values`` as an instance of the attrs class ``cls``, by the one converter; a ConfigError that starts
    with ``where`` and names each bad setting (never echoing one of ``secret_names``)."""
    import cattrs

    try:
        return converter().structure(values, cls)
    except cattrs.BaseValidationError as exc:
        problems = [_describe_problem(e, secret_names or set()) for e in _leaf_errors(exc)]
        raise ConfigError(f"{where}: " + "; ".join(problems)) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _leaf_errors(exc: BaseException) -> list[BaseException]:
    import cattrs

    if isinstance(exc, cattrs.BaseValidationError):
        return [leaf for sub in exc.exceptions for leaf in _leaf_errors(sub)]
    return [exc]


def _describe_problem(exc: BaseException, secret_names: set[str]) -> str:
    """One line per bad setting, naming it. A secret setting's message never includes its value."""
    import cattrs

    note = next((n for n in getattr(exc, "__notes__", []) if isinstance(n, cattrs.AttributeValidationNote)), None)
    name = note.name if note is not None else ""
    if isinstance(exc, KeyError):
        reason = "required setting is missing"
    elif isinstance(exc, cattrs.ForbiddenExtraKeysError):
        reason = f"unknown settings: {', '.join(sorted(exc.extra_fields))}"
    elif isinstance(exc, ConfigError) or name not in secret_names:
        reason = str(exc)
    else:
        reason = "invalid value"
    return f"{name}: {reason}" if name else reason


def parse_setting_value(connector: Connector, key: str, raw: str) -> Any:
    """Convert a ``--set key=value`` string into the TOML value stored in the config file."""
    fields = {f.name: f for f in setting_fields(connector)}
    if key not in fields:
        known = ", ".join(sorted(fields)) or "none"
        raise ConfigError(f"connector {connector.name} has no setting {key!r} (settings: {known})")
    field = fields[key]
    if field.metadata.get("secret"):
        return str(SecretRef(raw))
    tp = field.type
    try:
        if tp in (bool, "bool"):
            return _parse_bool(raw, bool)
        if tp in (int, "int"):
            return int(raw)
        if tp in (float, "float"):
            return float(raw)
        if str(tp).startswith(("tuple", "list")):
            return [item.strip() for item in raw.split(",") if item.strip()]
    except ValueError as exc:
        raise ConfigError(f"setting {key}: {exc}") from None
    return raw


@attrs.frozen
class FetchContext:
    """Everything a transport needs for one fetch.

    ``state`` is what this source's last successful run left (delta cursors, the drop it imported);
    a transport puts what the next run needs into ``next_state``, saved only if this run succeeds.
    ``work_dir`` is a private (0700) folder for downloads, removed after the run. Work that must
    wait until the run has committed belongs in the transport's ``committed`` step
    (:class:`rostersync.transport.Transport`), which also runs when a held run is approved.
    """

    school_id: str
    source: str
    settings: Any
    org_ids: tuple[str, ...] = ()
    work_dir: Path | None = None
    state: dict[str, Any] = attrs.Factory(dict)
    next_state: dict[str, Any] = attrs.Factory(dict)
    full: bool = False
    warnings: list[str] = attrs.Factory(list)
    #: a digest of rostersync's version and the configuration shaping this sync (see rostersync.unchanged)
    config_digest: str = ""

    def warn(self, message: str) -> None:
        """Report something the operator should see (e.g. an endpoint the SIS does not share)."""
        self.warnings.append(message)


@attrs.frozen
class CheckStep:
    """One step of ``rostersync check``: what was checked, whether it passed, and what was seen."""

    name: str
    ok: bool
    detail: str = ""
