"""One connector on trial: its rig, its syncs into real SQLite files, and the reference roster to compare with.

A :class:`Lab` is the shared part of a run of the kit (a work folder, one sshd started the first time
an SFTP connector needs it, the reference rosters synced once per bundle); a :class:`Trial` tests one
connector in it. Syncs run through the engine exactly as ``rostersync sync`` runs them (one school,
``kit``, with the bundle's org ids), each into its own database, so a fault's sync starts from an
empty roster just like the first one.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any

import attrs

from rostersync.config import EnabledConnector, School
from rostersync.connector import Connector, structure_settings
from rostersync.engine import RunResult, sync_source
from rostersync.store import store_at
from rostersync.testing.kit.bundles import KitBundle
from rostersync.testing.kit.rigs import ApiRig, Fault, FolderRig, Rig, SftpRig, reference_for, rig_kind
from rostersync.testing.roster import Roster, roster_rows

SCHOOL = "kit"
REFERENCE = "csv-folder"


class Lab:
    """The work folder and shared servers of one run of the kit (a context manager)."""

    def __init__(self, folder: Path | None = None) -> None:
        self._owned = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="rostersync-kit-")) if folder is None else Path(folder)
        self._stack = contextlib.ExitStack()
        self._sshd: Any = None
        self._references: dict[KitBundle, Path] = {}

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()
        self._sshd = None
        if self._owned:
            shutil.rmtree(self.folder, ignore_errors=True)

    def on_close(self, action: Any) -> None:
        """Run ``action`` when the lab closes (a rig's servers stop with it)."""
        self._stack.callback(action)

    def sshd(self) -> Any:
        """The lab's sshd, started on first use (key authentication as the current user)."""
        if self._sshd is None:
            from rostersync.testing.sshd import run_sshd

            self._sshd = self._stack.enter_context(run_sshd(base=self.folder / "sshd", encrypt_key=False))
        return self._sshd

    def reference(self, bundle: KitBundle) -> Path:
        """The database ``csv-folder`` synced ``bundle`` into (once per lab)."""
        if bundle not in self._references:
            from rostersync.plugins import get_connector

            folder = self.folder / "reference" / str(len(self._references))
            result, db = sync_into(folder, get_connector(REFERENCE), {"path": str(bundle.path), "format":
                                                                      bundle.format}, bundle.org_ids)
            if result.status != "ok":
                raise RuntimeError(f"the reference sync of {bundle.path} failed: {result.error}")
            self._references[bundle] = db
        return self._references[bundle]


def sync_into(folder: Path, connector: Connector, settings: dict[str, Any], org_ids: tuple[str, ...]
              ) -> tuple[RunResult, Path]:
    """Sync ``connector`` with ``settings`` for the kit's school into ``folder/rostersync.db``."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "rostersync.db"
    enabled = EnabledConnector(connector.name, settings)
    school = School(SCHOOL, "Conformance kit school", org_ids, {connector.name: enabled})
    with store_at(db) as store:
        result = sync_source(store, school, enabled)
    assert result is not None  # only `run --due` gets None
    return result, db


class Trial:
    """One connector under test in a :class:`Lab`; the rig and the first sync are made on first use."""

    def __init__(self, connector: Connector, lab: Lab, bundle: KitBundle | None = None) -> None:
        self.connector, self.lab = connector, lab
        self.bundle = bundle or reference_for(connector, lab.folder / "district")
        self.folder = lab.folder / "trials" / connector.name
        self._rig: Rig | None = None

    @functools.cached_property
    def rig_kind(self) -> str:
        return rig_kind(self.connector)

    @property
    def rig(self) -> Rig:
        if self.bundle is None:
            raise LookupError(f"no reference bundle for {self.connector.name}")
        if self._rig is None:
            kind, secrets = self.rig_kind, self.folder / "secrets"
            if kind == "api":
                self._rig = ApiRig(self.connector, self.bundle, secrets)
            elif kind == "sftp":
                self._rig = SftpRig(self.connector, self.bundle, secrets, self.lab.sshd())
            elif kind == "folder":
                self._rig = FolderRig(self.connector, self.bundle, self.folder / "drop")
            else:
                raise LookupError(f"no rig for kind {self.connector.kind!r}")
            self.lab.on_close(self._rig.close)
        return self._rig

    def settings(self, fault: Fault | None = None) -> dict[str, Any]:
        values = self.rig.settings()
        if fault is not None:
            values.update(fault.settings)
        structure_settings(self.connector, values)  # a ConfigError here names the setting
        return values

    def sync(self, label: str, fault: Fault | None = None, database: str | None = None) -> tuple[RunResult, Path]:
        """A sync into the database named ``database`` (default: a new one named ``label``)."""
        assert self.bundle is not None, "the sync checks are skipped without a bundle"
        return sync_into(self.folder / (database or label), self.connector, self.settings(fault),
                         self.bundle.org_ids)

    @functools.cached_property
    def first(self) -> tuple[RunResult, Path]:
        """The first sync (into database ``first``), made once."""
        return self.sync("first")

    def reference(self) -> Roster:
        assert self.bundle is not None, "the sync checks are skipped without a bundle"
        return roster_rows(self.lab.reference(self.bundle), REFERENCE, self.rig.served_as or None)

    def stored(self, db: Path) -> Roster:
        return roster_rows(db, self.connector.name)


@attrs.frozen
class Outcome:
    """One check's result for one connector: ``status`` ok, failed or skipped, and what was seen."""

    connector: str
    check: str
    status: str
    detail: str

    @property
    def ok(self) -> bool:
        return self.status != "failed"
