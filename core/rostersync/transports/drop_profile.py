"""One SIS that exchanges files, both directions: its ``sftp`` (pull) and ``dropbox`` (receive) connectors
built from one :class:`DropProfile` of its export habits.

Districts move an SIS export either way: rostersync pulls it from the district's (or the SIS's)
SFTP server, or the SIS uploads it into the school's drop box here. What the export looks like is
the same both ways, so an SIS connector states it once::

    TYLER = DropProfile(format="oneroster-1.1", file_pattern="*.zip", marker_file="{drop}.done")
    PULL, RECEIVE = drop_connectors("tyler-sis", "Tyler SIS", "Nightly OneRoster zip ...", TYLER)

``PULL`` (kind ``sftp``) asks the operator for host, username, credentials and remote_path;
``RECEIVE`` (kind ``dropbox``, named ``tyler-sis-dropbox``) only for the folder, which
``rostersync dropbox create SCHOOL --connector tyler-sis-dropbox`` fills in. Both settings classes
subclass their kind's (:class:`~rostersync.transports.sftp_settings.SftpSettings`,
:class:`~rostersync.transports.dropbox.DropBoxSettings`), both inherit the drop rules' settings from
:class:`~rostersync.transports.drop_settings.DropSettings` with the profile's values as defaults
(every validator kept), and an operator can still override each with ``--set``.
"""

from __future__ import annotations

import attrs

from rostersync.connector import Connector

PULL_DOCS = ("Pulled from the SFTP server the district or SIS names (host, username, password or private_key, "
             "remote_path); the server's host key must be in known_hosts or pinned with host_key=SHA256:..., an "
             "unknown or changed key is refused.")
RECEIVE_DOCS = ("Uploaded by the district into the school's drop box on this machine: `rostersync dropbox create "
                "SCHOOL --connector {name}` makes an sftp-only, chrooted account, enables this connector with its "
                "folder, and prints what to send the district.")


@attrs.frozen
class DropProfile:
    """An SIS's export habits: the defaults of the drop rules' settings for its connectors, both ways."""

    format: str = "auto"
    file_pattern: str = "*.csv"
    marker_file: str = ""
    settle_seconds: float = 10.0
    archive: bool = False

    def settings_for(self, base: type, name: str) -> type:
        """``base`` itself when the profile changes none of its defaults, else a subclass named ``name``
        whose drop settings default to the profile's values (help text and validators kept)."""
        attrs.resolve_types(base)
        fields = attrs.fields_dict(base)
        changed = {key: value for key, value in attrs.asdict(self).items() if fields[key].default != value}
        if not changed:
            return base
        own = {key: attrs.field(default=value, validator=fields[key].validator, metadata=fields[key].metadata,
                                type=fields[key].type, kw_only=True)
               for key, value in changed.items()}
        return attrs.make_class(name, own, bases=(base,), frozen=True, slots=True)  # slots, as attrs.frozen


def _class_name(connector: str, suffix: str) -> str:
    return "".join(part.capitalize() for part in connector.replace("_", "-").split("-") if part) + suffix


def drop_connectors(name: str, title: str, docs: str, profile: DropProfile = DropProfile(), *,
                    receive_name: str | None = None) -> tuple[Connector, Connector]:
    """The ``sftp`` connector ``name`` and the ``dropbox`` connector ``receive_name`` (default
    ``NAME-dropbox``) of one SIS, sharing ``profile``. ``title`` names the SIS (or the export); ``docs``
    says what the export holds and where in the SIS it is set up; each connector's title and docs
    add how its files travel."""
    from rostersync.transports.dropbox import DropBoxSettings
    from rostersync.transports.sftp_settings import SftpSettings

    receive = receive_name or f"{name}-dropbox"
    pull = Connector(name, f"{title}, pulled from an SFTP server", "sftp",
                     profile.settings_for(SftpSettings, _class_name(name, "Settings")),
                     docs=f"{docs} {PULL_DOCS}".strip())
    drop_box = Connector(receive, f"{title}, uploaded to a drop box here", "dropbox",
                         profile.settings_for(DropBoxSettings, _class_name(receive, "Settings")),
                         docs=f"{docs} {RECEIVE_DOCS.format(name=receive)}".strip())
    return pull, drop_box
