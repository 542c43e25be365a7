"""The plugin manager: built-ins and third-party plugins, all through the ``rostersync`` entry points.

``ROSTERSYNC_LOAD_PLUGINS`` (comma list of entry-point names, empty for none) limits which
*third-party* plugins load; built-in plugins (shipped by the ``rostersync`` distribution) always do.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Iterator
from typing import Any, TypeVar

import attrs
import pluggy

from rostersync import hookspecs
from rostersync.connector import Connector
from rostersync.errors import ConfigError
from rostersync.formats import Format
from rostersync.settings import ReferenceCheckSettings
from rostersync.store.base import StoreBackend
from rostersync.transport import Transport

T = TypeVar("T")

GROUP = "rostersync"
BUILTIN_DISTRIBUTION = "rostersync"

pm = pluggy.PluginManager("rostersync")
pm.add_hookspecs(hookspecs)
_loaded = False


def _entry_points() -> Iterator[tuple[importlib.metadata.EntryPoint, importlib.metadata.Distribution]]:
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group == GROUP:
                yield ep, dist


def load_plugins() -> None:
    """Load every plugin once; idempotent. Fails fast on an implementation of an unknown hook."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    allowed = os.environ.get("ROSTERSYNC_LOAD_PLUGINS")
    allow = None if allowed is None else {n.strip() for n in allowed.split(",") if n.strip()}
    found_builtin = False
    for ep, dist in _entry_points():
        builtin = _name_and_version(dist)[0].lower() == BUILTIN_DISTRIBUTION
        found_builtin = found_builtin or builtin
        if not builtin and allow is not None and ep.name not in allow:
            pm.set_blocked(ep.name)
    if not found_builtin:
        raise ConfigError(
            "rostersync's built-in plugins are not registered: install the package (pip install -e .) "
            "rather than running it from a source folder"
        )
    pm.load_setuptools_entrypoints(GROUP)
    pm.check_pending()


def _distribution_of(plugin: Any) -> tuple[str, str]:
    """The package and version that provide ``plugin`` (reading a distribution's metadata parses its
    METADATA file: each plugin's is looked up once per process)."""
    key = id(plugin)
    if key not in _origins or _origins[key][0] is not plugin:
        origin = None
        for registered, dist in pm.list_plugin_distinfo():
            if registered is plugin:
                origin = _name_and_version(dist)
                break
        name = getattr(plugin, "__name__", type(plugin).__name__)
        _origins[key] = (plugin, origin or (f"{name} (not installed)", ""))
    return _origins[key][1]


def _name_and_version(dist: Any) -> tuple[str, str]:
    """A distribution's name and version. ``Distribution.metadata`` reads and parses its METADATA file on
    every access, and twenty built-in plugins share one distribution: parsed once per process."""
    key = str(getattr(dist, "_path", "")) or id(dist)
    if key not in _dists:
        metadata = dist.metadata
        _dists[key] = (metadata["Name"] or "", metadata["Version"] or "")
    return _dists[key]


_dists: dict[Any, tuple[str, str]] = {}
#: plugin id -> (plugin, (package, version)); the plugin is kept so a reused id is never mistaken
_origins: dict[int, tuple[Any, tuple[str, str]]] = {}
#: a registry's contents for one set of registered plugins (plugins register frozen objects, so the
#: same plugins give the same registry: listing 70 connectors must not build them 40 times per command)
_registries: dict[tuple[Any, ...], dict[str, Any]] = {}


def _collect(hook: Any, kind: type[T], key: str, what: str) -> dict[str, T]:
    """Call each plugin's implementation of a registry ``hook`` with its own ``register`` callback, so
    every registered object is tagged with the package and version of the plugin that registered it.
    A second object under a taken ``key`` is refused, naming both providers (never silently replaced).
    The result is kept until the set of registered plugins changes."""
    load_plugins()
    impls = hook.get_hookimpls()
    cache_key = (hook.name, *(id(impl.plugin) for impl in impls))
    cached = _registries.get(cache_key)
    if cached is not None and all(cached["plugins"][i] is impl.plugin for i, impl in enumerate(impls)):
        return dict(cached["found"])
    found: dict[str, T] = {}
    for impl in impls:
        package, version = _distribution_of(impl.plugin)

        def register(obj: T, package: str = package, version: str = version) -> None:
            if not isinstance(obj, kind):
                raise ConfigError(f"plugin {package} registered {obj!r}, which is not a {kind.__name__}")
            name = getattr(obj, key)
            if name in found:
                other = found[name].package  # type: ignore[attr-defined]
                raise ConfigError(f"two plugins register a {what} {name!r}: {other} and {package}; "
                                  "uninstall one of them")
            found[name] = attrs.evolve(obj, package=package,  # type: ignore[misc]
                                       version=obj.version or version)  # type: ignore[attr-defined]

        impl.function(register=register)
    found = dict(sorted(found.items()))
    _registries[cache_key] = {"plugins": [impl.plugin for impl in impls], "found": found}
    return dict(found)


def get_transports() -> dict[str, Transport]:
    """Every registered transport by kind."""
    transports = _collect(pm.hook.rostersync_register_transports, Transport, "kind", "transport for kind")
    for transport in transports.values():
        if not (isinstance(transport.settings, type) and issubclass(transport.settings, ReferenceCheckSettings)):
            raise ConfigError(f"transport {transport.kind} ({transport.package}): its settings class must subclass "
                              "rostersync.settings.ReferenceCheckSettings (the reference-check policies every "
                              "sync applies)")
    return transports


def get_formats() -> dict[str, Format]:
    """Every registered wire format by name."""
    return _collect(pm.hook.rostersync_register_formats, Format, "name", "format named")


def get_connectors() -> dict[str, Connector]:
    """All registered connectors by name, each tagged with the package and version that provides it.

    Refused, naming the connector and its package: a kind no installed transport provides (a typo
    such as ``oneroster_api`` fails here, not at sync time), and a settings class that does not build
    on its transport's settings class (the transport reads those settings by type).
    """
    connectors = _collect(pm.hook.rostersync_register_connectors, Connector, "name", "connector named")
    transports = get_transports()
    get_formats()  # a clash between format plugins fails here too, when the connectors are listed
    for connector in connectors.values():
        transport = transports.get(connector.kind)
        if transport is None:
            raise ConfigError(f"connector {connector.name} ({connector.package}) is of kind {connector.kind!r}, "
                              f"which no installed transport provides (installed kinds: "
                              f"{', '.join(transports) or 'none'})")
        _check_settings_class(connector, transport)
    return connectors


def _check_settings_class(connector: Connector, transport: Transport) -> None:
    """A connector's settings build on its kind's: a subclass of the transport's settings class that
    keeps every validator of it, with defaults those validators accept (a class redefining ``page_size``
    with a default of 0, or without the check, is refused here rather than failing a sync)."""
    base, cls = transport.settings, connector.settings
    where = f"connector {connector.name} ({connector.package})"
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigError(f"{where}: its settings class {getattr(cls, '__name__', cls)!r} must be or subclass "
                          f"{base.__module__}.{base.__name__}, the settings of kind {connector.kind!r}")
    if cls is base:
        return
    mine = attrs.fields_dict(cls)
    for field in attrs.fields(base):
        if field.validator is None:
            continue
        own = mine[field.name]
        if own.validator is None:
            raise ConfigError(f"{where}: setting {field.name} drops the validator of kind {connector.kind!r} "
                              "(redefine it with the same validator, e.g. choice(...) or validator=positive)")
        default = own.default
        if default is attrs.NOTHING or isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            continue
        try:
            field.validator(None, field, default)
        except ValueError as exc:
            raise ConfigError(f"{where}: invalid default for setting {exc}") from None


def get_connector(name: str) -> Connector:
    connectors = get_connectors()
    if name not in connectors:
        import difflib

        close = difflib.get_close_matches(name, list(connectors), n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
        raise ConfigError(f"no connector named {name!r} is installed ({hint}rostersync connectors list shows "
                          f"the {len(connectors)} installed)")
    return connectors[name]


def get_transport(kind: str) -> Transport:
    transports = get_transports()
    if kind not in transports:
        raise ConfigError(f"no installed transport provides kind {kind!r} (installed: {', '.join(transports)})")
    return transports[kind]


def get_format(name: str) -> Format:
    formats = get_formats()
    if name not in formats:
        raise ConfigError(f"no installed format plugin reads {name!r} (installed: {', '.join(formats)})")
    return formats[name]


def get_plugins() -> list[dict[str, Any]]:
    """Every loaded plugin with its hooks and providing package, for ``rostersync plugins``."""
    load_plugins()
    out = []
    for plugin in pm.get_plugins():
        package, version = _distribution_of(plugin)
        out.append(
            {
                "name": pm.get_name(plugin),
                "hooks": sorted(h.name for h in pm.get_hookcallers(plugin) or []),
                "package": package,
                "version": version,
            }
        )
    return sorted(out, key=lambda p: str(p["name"]))


def get_store_backends() -> dict[str, StoreBackend]:
    """Every registered store backend by URL scheme (see :func:`rostersync.store.open_store`)."""
    return _collect(pm.hook.rostersync_register_stores, StoreBackend, "scheme", "store for scheme")


def get_notifiers() -> dict[str, Any]:
    """Every registered notification kind (:class:`rostersync.notify.Notifier`) by kind."""
    from rostersync.notify import Notifier

    return _collect(pm.hook.rostersync_register_notifiers, Notifier, "kind", "notifier of kind")
