"""Rigs: the real server (or folder) a connector under test syncs from, and the faults it can inject.

One rig per way a connector reaches its SIS, chosen by what its settings class is built on:

* ``oneroster-api`` connectors: the loopback OneRoster server imitating the connector's SIS
  (:mod:`rostersync.testing.profile_server`), serving the reference bundle;
* SFTP connectors (settings built on :class:`~rostersync.transports.sftp_settings.SftpSettings`): a
  real OpenSSH sshd on 127.0.0.1 (:mod:`rostersync.testing.sshd`, key authentication as the current
  user) with the bundle dropped as the connector's defaults say its SIS drops it;
* connectors reading a folder (a ``path`` setting: ``csv-folder``, a drop box): the bundle in a folder.

Each rig answers :meth:`Rig.settings` (what an operator would enable the connector with, pointed at
the rig) and :meth:`Rig.fault` (a context manager putting one fault in the way of the next sync and
saying afterwards whether it struck; None when the fault cannot happen to this kind of source).
"""

from __future__ import annotations

import contextlib
import fnmatch
import posixpath
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import attrs

from rostersync.connector import NOTHING, Connector
from rostersync.testing.kit.bundles import KitBundle, bundle_for, lay_out_drop
from rostersync.testing.links import CuttingProxy
from rostersync.testing.profile_server import connector_settings, simulator_profile, write_secret

#: the faults a sync must survive: a token that expires mid-sync, a 429, a connection that drops
FAULTS = ("token-expiry", "throttled", "dropped-connection")


@attrs.define
class Fault:
    """One fault put in the way of a sync; ``struck()`` says whether it really happened."""

    name: str
    description: str
    struck: Callable[[], bool]
    settings: dict[str, Any] = attrs.Factory(dict)  # setting overrides the fault needs (a proxy's port)


class Rig(Protocol):
    bundle: KitBundle
    #: the OneRoster version the source serves rows in ('' for files): the reference is read as such
    served_as: str

    def settings(self) -> dict[str, Any]: ...

    def fault(self, name: str) -> contextlib.AbstractContextManager[Fault | None]: ...

    def close(self) -> None: ...


def _defaults(connector: Connector) -> dict[str, Any]:
    fields = attrs.fields_dict(connector.settings)
    return {n: f.default for n, f in fields.items() if f.default is not NOTHING
            and not isinstance(f.default, attrs.Factory)}  # type: ignore[arg-type]


class ApiRig:
    """The loopback OneRoster server as the connector's SIS."""

    def __init__(self, connector: Connector, bundle: KitBundle, secrets: Path) -> None:
        self.connector, self.bundle, self.secrets = connector, bundle, secrets
        self.profile = simulator_profile(connector)
        self.sim = self.profile.simulator(bundle.path).start()
        self.served_as = self.sim.version
        self._behaviour = self.sim.behaviour

    def settings(self) -> dict[str, Any]:
        return connector_settings(self.connector, self.sim, self.secrets)

    @contextlib.contextmanager
    def fault(self, name: str) -> Iterator[Fault | None]:
        sim = self.sim
        issued, requests = sim.tokens_issued, len(sim.log)
        if name == "token-expiry":
            if not sim.auth.oauth2:
                yield None  # OAuth 1 signs each request; a fixed token never expires: nothing to renew
                return
            changes: dict[str, Any] = {"expire_token": issued + 1, "expire_token_after": 2}
            fault = Fault(name, "the sync's token stops working after 2 requests",
                          lambda: sim.tokens_issued - issued >= 2)
        elif name == "throttled":
            changes = {"throttle_every": 4, "throttle_burst": 1, "retry_after": 0.02}
            fault = Fault(name, "every 5th request answered 429 (Retry-After: 0.02)",
                          lambda: any(e.status == 429 for e in sim.log[requests:]))
        elif name == "dropped-connection":
            cuts = sim.cuts
            changes = {"cut_every": 7}
            fault = Fault(name, "the connection drops halfway through every 7th data response",
                          lambda: sim.cuts > cuts)
        else:
            raise ValueError(f"unknown fault {name!r}")
        sim.behaviour = attrs.evolve(self._behaviour, **changes)
        try:
            yield fault
        finally:
            sim.behaviour = self._behaviour

    def close(self) -> None:
        self.sim.stop()


class SftpRig:
    """A real sshd with the bundle dropped where and how the connector expects it."""

    served_as = ""

    def __init__(self, connector: Connector, bundle: KitBundle, secrets: Path, server: Any) -> None:
        self.connector, self.bundle, self.secrets, self.server = connector, bundle, secrets, server
        defaults = _defaults(connector)
        self.file_pattern = defaults.get("file_pattern", "*.csv")
        self.marker_file = defaults.get("marker_file", "")
        # the SIS's own folder name, below a folder of this connector's on the test server
        leaf = posixpath.basename(str(defaults.get("remote_path", "")).rstrip("/")) or "drop"
        self.folder = server.folder(f"{connector.name}/{leaf}")
        self.files = lay_out_drop(bundle, self.folder, self.file_pattern, self.marker_file)
        server.chown(self.folder)
        # every sync goes through a proxy that only counts, so a cut can later be aimed inside a download
        self.link = CuttingProxy(server.port, cut_after=0, cut_connections=0)
        self.proxies: list[Any] = [self.link]

    def settings(self) -> dict[str, Any]:
        s = self.server
        values = {"host": s.host, "port": self.link.port, "username": s.user, "remote_path": str(self.folder),
                  "host_key": s.host_fingerprint, "private_key": f"file:{s.key}", "settle_seconds": 0.2,
                  "retry_wait": 0.05, "connect_timeout": 10.0}
        if s.key_passphrase:
            values["key_passphrase"] = write_secret(self.secrets, "key_passphrase", s.key_passphrase)
        return values

    @contextlib.contextmanager
    def fault(self, name: str) -> Iterator[Fault | None]:
        if name != "dropped-connection":
            yield None  # no tokens, no HTTP: nothing to expire or throttle
            return
        size = sum(p.stat().st_size for p in self.files if fnmatch.fnmatch(p.name.lower(), self.file_pattern.lower()))
        # A pull that downloads the drop (the first sync) and one that finds it unchanged (the re-sync)
        # share the handshake, the listing and the goodbye: halfway between their sizes is halfway
        # through the download. Only the first known: halfway through its files, counted from its end.
        sessions = sorted(self.link.sessions)
        session = sessions[-1] if sessions else 0
        if len(sessions) > 1 and sessions[-1] - sessions[0] > size // 4:
            cut = (sessions[0] + sessions[-1]) // 2
        else:
            cut = session - size // 2 if session > size else 12_000 + size // 2
        proxy = CuttingProxy(self.server.port, cut_after=cut, cut_connections=1)
        self.proxies.append(proxy)
        try:
            yield Fault(name, f"the connection drops after {cut:,} of the {session:,} bytes a pull takes",
                        lambda: proxy.cuts > 0, {"port": proxy.port})
        finally:
            proxy.close()

    def close(self) -> None:
        for proxy in self.proxies:
            proxy.close()


class FolderRig:
    """The bundle in a folder on this machine (laid out as a drop when the connector reads drops)."""

    served_as = ""

    def __init__(self, connector: Connector, bundle: KitBundle, folder: Path) -> None:
        self.connector, self.bundle = connector, bundle
        defaults = _defaults(connector)
        if "file_pattern" in attrs.fields_dict(connector.settings):
            lay_out_drop(bundle, folder, defaults.get("file_pattern", "*.csv"), defaults.get("marker_file", ""))
            self.path = folder
            self.extra = {"settle_seconds": 0.2}
        else:
            self.path, self.extra = bundle.path, {}

    def settings(self) -> dict[str, Any]:
        return {"path": str(self.path), **self.extra}

    @contextlib.contextmanager
    def fault(self, name: str) -> Iterator[Fault | None]:
        yield None  # a local folder neither expires, throttles nor drops

    def close(self) -> None:
        pass


def reference_for(connector: Connector, folder: Path) -> KitBundle | None:
    """The bundle a connector is tested with: Clever CSV when its format defaults to clever, the kit's
    district (written into ``folder`` once) for OneRoster 1.1 or auto, None for another format."""
    return bundle_for(str(_defaults(connector).get("format", "")), folder)


def rig_kind(connector: Connector) -> str:
    """Which rig serves ``connector`` ('' when none does: its sync checks are skipped)."""
    from rostersync.api.settings import OneRosterApiSettings
    from rostersync.transports.sftp_settings import SftpSettings

    if issubclass(connector.settings, OneRosterApiSettings):
        return "api"
    if issubclass(connector.settings, SftpSettings):
        return "sftp"
    if "path" in attrs.fields_dict(connector.settings):
        return "folder"
    return ""
