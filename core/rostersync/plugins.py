"""The plugin manager: built-ins and third-party plugins, all through the ``rostersync`` entry points.

``ROSTERSYNC_LOAD_PLUGINS`` (comma list of entry-point names, empty for none) limits which
*third-party* plugins load; built-in plugins (shipped by the ``rostersync`` distribution) always do.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Iterator
from typing import Any

import pluggy

from rostersync import hookspecs
from rostersync.connector import Connector
from rostersync.errors import ConfigError

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
        builtin = (dist.metadata["Name"] or "").lower() == BUILTIN_DISTRIBUTION
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
    for registered, dist in pm.list_plugin_distinfo():
        if registered is plugin:
            return dist.project_name, dist.version
    name = getattr(plugin, "__name__", type(plugin).__name__)
    return f"{name} (not installed)", ""


def get_connectors() -> dict[str, Connector]:
    """All registered connectors by name, each tagged with the package and version that provides it.

    Each plugin's hook implementation is called on its own so a connector is attributed to the plugin
    that registered it; a second connector with a taken name is refused, naming both providers.
    """
    load_plugins()
    connectors: dict[str, Connector] = {}
    for impl in pm.hook.rostersync_register_connectors.get_hookimpls():
        package, version = _distribution_of(impl.plugin)

        def register(connector: Connector, package: str = package, version: str = version) -> None:
            if not isinstance(connector, Connector):
                raise ConfigError(f"plugin {package} registered {connector!r}, which is not a Connector")
            if connector.name in connectors:
                other = connectors[connector.name].package
                raise ConfigError(
                    f"two plugins register a connector named {connector.name!r}: {other} and {package}; "
                    "uninstall one of them"
                )
            connectors[connector.name] = _with_origin(connector, package, version)

        impl.function(register=register)
    return dict(sorted(connectors.items()))


def _with_origin(connector: Connector, package: str, version: str) -> Connector:
    import attrs

    return attrs.evolve(connector, package=package, version=connector.version or version)


def get_connector(name: str) -> Connector:
    connectors = get_connectors()
    if name not in connectors:
        known = ", ".join(connectors) or "none"
        raise ConfigError(f"no connector named {name!r} is installed (installed: {known})")
    return connectors[name]


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
