"""The operator's configuration: a TOML file listing schools and the connectors each one enables.

Found at ``--config PATH``, else ``$ROSTERSYNC_CONFIG``, else ``./rostersync.toml``. The database
lives next to it (``rostersync.db``) unless ``[database] path`` (or ``url``) says otherwise. The CLI
edits the file with tomlkit, so an operator's comments and layout survive ``schools add`` or ``enable``::

    [schools.lincoln]
    name = "Lincoln High"
    org_ids = ["sch-001"]          # SIS org sourcedIds that belong to this school; none = everything

    mode = "mirror"                # or "add-only": inserts and updates, never deletes
    blackout = ["2027-06-12..2027-08-20"]   # syncs skip these dates (summer rollover); roster kept

    [schools.lincoln.safeguards]   # hold a run that would change too much (defaults shown)
    max_delete_percent = 10
    max_update_percent = 75
    min_changes = 10

    [schools.lincoln.connectors.csv-folder]
    schedule = "0 2 * * *"         # cron, for `rostersync run --due`

    [schools.lincoln.connectors.csv-folder.settings]
    path = "/srv/sftp/lincoln"

    [schools.lincoln.select]       # selective sync (rostersync.selection)
    grades = ["KG", "01", "02"]
    terms = ["current", "next"]

    [schools.lincoln.identity]     # identity continuity (rostersync.identity)
    match = ["state_id", "student_number", "email"]

    [[schools.lincoln.rules]]      # field rules (rostersync.rules)
    field = "users.username"
    template = "{givenName}.{familyName}"

    [schools.lincoln.periods]      # SIS period code -> bell-schedule period (rostersync periods map)
    "1" = "First Period"

    [notify.office]                # a notification channel (rostersync.notify)
    kind = "email"
    on = ["failed", "held"]
    [notify.office.settings]
    host = "smtp.example.org"
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import attrs
import tomlkit
from tomlkit.exceptions import ParseError

from rostersync import schedule as cron
from rostersync.errors import ConfigError
from rostersync.identity import DEFAULT_MATCH, check_keys
from rostersync.rules import FieldRule
from rostersync.safeguards import Safeguards
from rostersync.secrets import SecretRef
from rostersync.selection import Selection

DEFAULT_NAME = "rostersync.toml"
DEFAULT_DB = "rostersync.db"
SCHOOL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

TEMPLATE = """\
# rostersync configuration. Edit by hand or with the CLI (comments are kept).
# Schools:   rostersync schools add ID --name NAME [--org-id SIS_ORG_ID ...]
# Sources:   rostersync enable SCHOOL CONNECTOR --set key=value ...
# Secrets are references only: env:VARIABLE_NAME or file:/path/to/secret (chmod 600).

[database]
path = "rostersync.db"
"""


MODES = ("mirror", "add-only")


@attrs.frozen
class EnabledConnector:
    name: str
    settings: dict[str, Any]
    schedule: str = cron.DEFAULT_SCHEDULE


@attrs.frozen
class Blackout:
    """An inclusive date range during which syncs are skipped and the roster kept as it is."""

    start: dt.date
    end: dt.date

    @classmethod
    def parse(cls, text: str) -> Blackout:
        try:
            start, end = (dt.date.fromisoformat(part.strip()) for part in text.split(".."))
        except ValueError:
            raise ConfigError(f"blackout {text!r}: expected START..END as YYYY-MM-DD..YYYY-MM-DD") from None
        if end < start:
            raise ConfigError(f"blackout {text!r}: the end is before the start")
        return cls(start, end)

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


@attrs.frozen
class School:
    id: str
    name: str
    org_ids: tuple[str, ...] = ()
    connectors: dict[str, EnabledConnector] = attrs.Factory(dict)
    mode: str = "mirror"
    blackouts: tuple[Blackout, ...] = ()
    safeguards: Safeguards = attrs.Factory(Safeguards)
    selection: Selection = attrs.Factory(Selection)
    #: identity continuity: identifier keys in precedence order (empty: re-keys are not recognised)
    identity: tuple[str, ...] = DEFAULT_MATCH
    rules: tuple[FieldRule, ...] = ()
    #: SIS period code -> the school's bell-schedule period name
    periods: dict[str, str] = attrs.Factory(dict)

    def blackout_on(self, day: dt.date) -> Blackout | None:
        return next((b for b in self.blackouts if b.start <= day <= b.end), None)


def locate(explicit: str | Path | None = None) -> Path:
    """Where the config file is (or would be)."""
    chosen = explicit or os.environ.get("ROSTERSYNC_CONFIG") or DEFAULT_NAME
    return Path(chosen).expanduser().absolute()


class Config:
    """A loaded config file. Mutators edit the TOML document; :meth:`save` writes it back."""

    def __init__(self, path: Path, doc: tomlkit.TOMLDocument) -> None:
        self.path = path
        self.doc = doc

    @classmethod
    def load(cls, path: Path) -> Config:
        if not path.is_file():
            raise ConfigError(f"no configuration at {path}: run `rostersync init` there, or pass --config PATH")
        try:
            doc = tomlkit.parse(path.read_text(encoding="utf-8"))
        except ParseError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        config = cls(path, doc)
        config.schools()  # validate the shape early
        return config

    @classmethod
    def create(cls, path: Path, database: str | None = None) -> Config:
        if path.exists():
            raise ConfigError(f"{path} already exists; edit it, or pass --config to create another")
        doc = tomlkit.parse(TEMPLATE)
        if database:
            doc["database"]["path"] = database  # type: ignore[index]
        config = cls(path, doc)
        config.save()
        return config

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(tomlkit.dumps(self.doc), encoding="utf-8")
        os.replace(tmp, self.path)

    @property
    def database(self) -> str | Path:
        """The database to open (:func:`rostersync.store.open_store`): ``[database] url`` when set (e.g.
        ``postgresql://USER@HOST/DB``, served by a store plugin), else the SQLite file ``[database] path``.
        A URL holding a password is refused: the password is ``[database] password``, a secret reference."""
        url = self.doc.get("database", {}).get("url")
        if not url:
            return self.database_path
        url = str(url)
        from urllib.parse import urlsplit

        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        if password is not None:
            raise ConfigError(f"{self.path}: [database] url holds a password; remove it from the URL and set "
                              f'[database] password = "env:NAME" (or file:PATH)')
        return url

    @property
    def database_password(self) -> SecretRef | None:
        """``[database] password``: a secret reference (``env:NAME``, ``file:PATH``) for a database server."""
        ref = self.doc.get("database", {}).get("password")
        if ref is None:
            return None
        try:
            return SecretRef(str(ref))
        except ConfigError as exc:
            raise ConfigError(f"{self.path}: [database] password: {exc}") from None

    @property
    def database_path(self) -> Path:
        raw = str(self.doc.get("database", {}).get("path", DEFAULT_DB))
        path = Path(raw).expanduser()
        return path if path.is_absolute() else self.path.parent / path

    # -- reading ---------------------------------------------------------------------------
    def schools(self) -> dict[str, School]:
        out = {}
        for sid, table in self.doc.get("schools", {}).items():
            where = f"{self.path}: [schools.{sid}]"
            if not isinstance(table, dict):
                raise ConfigError(f"{where} must be a table")
            org_ids = table.get("org_ids", [])
            if not isinstance(org_ids, list) or not all(isinstance(o, str) for o in org_ids):
                raise ConfigError(f"{where}: org_ids must be a list of strings")
            connectors = {}
            for name, conn in table.get("connectors", {}).items():
                settings = conn.get("settings", {}) if isinstance(conn, dict) else None
                if not isinstance(settings, dict):
                    raise ConfigError(f"{where}.connectors.{name}: settings must be a table")
                schedule = cron.validate(str(conn.get("schedule", cron.DEFAULT_SCHEDULE)))
                connectors[name] = EnabledConnector(name, _plain(settings), schedule)
            mode = str(table.get("mode", "mirror"))
            if mode not in MODES:
                raise ConfigError(f"{where}: mode must be one of {', '.join(MODES)}, not {mode!r}")
            blackouts = tuple(Blackout.parse(str(b)) for b in table.get("blackout", []))
            try:
                safeguards = Safeguards(**_plain(table.get("safeguards", {})))
            except TypeError as exc:
                raise ConfigError(f"{where}.safeguards: {exc}") from None
            selection = Selection.parse(_plain(table.get("select", {})), where)
            identity = _plain(table.get("identity", {}))
            unknown = sorted(set(identity) - {"match"})
            if unknown:
                raise ConfigError(f"{where}.identity: unknown key(s) {', '.join(unknown)} (identity has: match)")
            match = identity.get("match", list(DEFAULT_MATCH))
            if not isinstance(match, list):
                raise ConfigError(f"{where}.identity: match must be a list")
            rules = table.get("rules", [])
            if not isinstance(rules, list):
                raise ConfigError(f"{where}: rules must be an array of tables ([[schools.{sid}.rules]])")
            periods = _plain(table.get("periods", {}))
            if not all(isinstance(v, str) for v in periods.values()):
                raise ConfigError(f"{where}.periods: each SIS period code maps to a name (a string)")
            out[sid] = School(sid, str(table.get("name", sid)), tuple(org_ids), connectors, mode, blackouts,
                              safeguards, selection, check_keys(match, f"{where}.identity"),
                              tuple(FieldRule.parse(_plain(r), f"{where}.rules[{n}]") for n, r in enumerate(rules)),
                              {str(k): v for k, v in periods.items()})
        return out

    def school(self, school_id: str) -> School:
        schools = self.schools()
        if school_id not in schools:
            known = ", ".join(schools) or "none yet (rostersync schools add ...)"
            raise ConfigError(f"no school {school_id!r} in {self.path} (schools: {known})")
        return schools[school_id]

    # -- editing ---------------------------------------------------------------------------
    def add_school(self, school_id: str, name: str, org_ids: tuple[str, ...]) -> None:
        if not SCHOOL_ID.match(school_id):
            raise ConfigError(f"school id {school_id!r}: use letters, digits, '-', '_' or '.' (max 64)")
        schools = self.doc.setdefault("schools", tomlkit.table(is_super_table=True))
        if school_id in schools:
            raise ConfigError(f"school {school_id!r} already exists in {self.path}")
        table = tomlkit.table()
        table["name"] = name
        table["org_ids"] = list(org_ids)
        schools[school_id] = table

    def set_school(self, school_id: str, **values: Any) -> None:
        """Change a school's name, mode, blackout list or safeguard thresholds (None = leave as is)."""
        self.school(school_id)
        table = self.doc["schools"][school_id]  # type: ignore[index]
        safeguard_keys = {f.name for f in attrs.fields(Safeguards)}
        for key, value in values.items():
            if value is None:
                continue
            if key in safeguard_keys:
                table.setdefault("safeguards", tomlkit.table())[key] = value
            else:
                table[key] = value
        self.school(school_id)  # re-validate

    def enable(self, school_id: str, connector: str, settings: dict[str, Any], schedule: str | None = None) -> None:
        """Enable (or re-configure) ``connector`` for a school; given settings replace earlier ones."""
        self.school(school_id)
        table = self.doc["schools"][school_id]  # type: ignore[index]
        connectors = table.setdefault("connectors", tomlkit.table(is_super_table=True))
        entry = connectors.setdefault(connector, tomlkit.table())
        if schedule is not None:
            entry["schedule"] = cron.validate(schedule)
        current = entry.setdefault("settings", tomlkit.table())
        for key, value in settings.items():
            current[key] = value

    def set_periods(self, school_id: str, mapping: dict[str, str]) -> None:
        """Map SIS period codes to bell-schedule names (an empty name removes a code's mapping)."""
        self.school(school_id)
        table = self.doc["schools"][school_id]  # type: ignore[index]
        periods = table.setdefault("periods", tomlkit.table())
        for code, name in mapping.items():
            if name:
                periods[code] = name
            elif code in periods:
                del periods[code]

    def set_selection(self, school_id: str, selection: dict[str, list[str]]) -> None:
        """Replace a school's selective-sync rules (validated first)."""
        school = self.school(school_id)
        Selection.parse(selection, f"{self.path}: [schools.{school.id}]")
        table = self.doc["schools"][school_id]  # type: ignore[index]
        if "select" in table:
            del table["select"]
        if selection:
            new = tomlkit.table()
            for key, values in selection.items():
                new[key] = values
            table["select"] = new

    def channels(self) -> dict[str, Any]:
        """The notification channels (``[notify.NAME]``), checked: see :func:`rostersync.notify.channels`."""
        from rostersync.notify import parse_channels

        return parse_channels(_plain(self.doc.get("notify", {})), f"{self.path}: [notify]")

    def add_channel(self, name: str, entry: dict[str, Any]) -> None:
        """Add (or replace) a notification channel ``[notify.NAME]``; checked before it is kept."""
        from rostersync.notify import parse_channels

        parse_channels({name: entry}, f"{self.path}: [notify]")
        notify = self.doc.setdefault("notify", tomlkit.table(is_super_table=True))
        table = tomlkit.table()
        for key, value in entry.items():
            if key != "settings":
                table[key] = value
        settings = tomlkit.table()
        for key, value in entry.get("settings", {}).items():
            settings[key] = value
        table["settings"] = settings
        notify[name] = table

    def disable(self, school_id: str, connector: str) -> None:
        school = self.school(school_id)
        if connector not in school.connectors:
            raise ConfigError(f"connector {connector!r} is not enabled for school {school_id!r}")
        del self.doc["schools"][school_id]["connectors"][connector]  # type: ignore[index]


def _plain(value: Any) -> dict[str, Any]:
    """A tomlkit table as plain Python values."""
    return dict(value.unwrap() if hasattr(value, "unwrap") else value)
