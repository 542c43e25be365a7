"""SIS connectors as data: a profile says what is known about one SIS, and the host builds its connector.

An SIS that speaks OneRoster REST differs from the next one in URLs, auth flavour, scopes, paging
habits and a few quirks; an SIS that drops files on SFTP, in its file layout and format. Neither needs
code of its own. A profile (:class:`ApiProfile`, :class:`SftpProfile`) lists those facts with their
sources, and :func:`api_connector` / :func:`sftp_connector` turn it into a
:class:`~rostersync.connector.Connector` whose settings class subclasses the kind's (inheriting every
validator and policy) and asks an operator only for what they know: Aeries wants the district's host,
Infinite Campus the host and app name, SmartSchool the school's subdomain. Base and token URLs are
derived from those answers and stay overridable (``base_url``, ``token_url``) for proxies and tests;
a base URL pasted as a bare host, or with ``/ims/oneroster/...`` and more after it, is understood.

Where nothing is public, a profile has no URL templates: the connector is the generic kind under the
SIS's name, and its docs say which address no public documentation gives and to ask the vendor for it.

Files move either way, so an :class:`SftpProfile` gives two connectors (:func:`sftp_connectors`): the
``sftp`` one pulls drops from the district's or SIS's server, ``NAME-dropbox`` (kind ``dropbox``)
receives them in the school's drop box on this machine. Both get the profile's drop-rule defaults.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import attrs

from rostersync.api.settings import AUTH_MODES, CLIENT_AUTH, TOKEN_METHODS, VERSIONS, OneRosterApiSettings
from rostersync.connector import NOTHING, Connector, Quirk, Source, choice, positive, setting
from rostersync.habits import HABITS, unknown
from rostersync.settings import bundle_format
from rostersync.transports.dropbox import DropBoxSettings
from rostersync.transports.sftp_settings import SftpSettings

#: the path of the rostering service under a host, as the spec publishes it
STANDARD_PATHS = {"1.1": "/ims/oneroster/v1p1", "1.2": "/ims/oneroster/rostering/v1p2"}
_SERVICE = re.compile(r"/ims/oneroster(?:/rostering)?/v1p[12]")


def not_public(gaps: list[tuple[str, str]]) -> str:
    """What ``connectors show`` says about addresses no public source gives: ``gaps`` pairs what is
    missing (``base URL``, ``token URL for product sms2``) with the setting that supplies it."""
    what = " or ".join(g for g, _ in gaps)
    settings = " and ".join(dict.fromkeys(s for _, s in gaps))
    return (f"No public documentation gives this SIS's OneRoster {what}: ask the vendor (or the district's SIS "
            f"administrator) and set {settings}.")


def normalise_base_url(url: str, version: str) -> str:
    """The API root from what an operator pasted: ``sis.example.org`` (a bare host gets the spec's path
    for ``version``), ``https://sis.example.org/ims/oneroster/v1p1/users?limit=5`` (cut after the service
    path), or any other address, kept as it is (without a trailing ``/``)."""
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    path = parts.path.rstrip("/")
    found = _SERVICE.search(path)
    if found:
        path = path[: found.end()]
    elif not path:
        path = STANDARD_PATHS.get(version, "")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _host(value: str) -> str:
    """A host as operators paste it (``https://sis.example.org/``) reduced to ``sis.example.org``."""
    text = value.strip()
    if "://" in text:
        text = urlsplit(text).netloc
    return text.strip("/")


def _path(value: str) -> str:
    """A path prefix: empty, or ``/x`` without a trailing slash."""
    text = value.strip().strip("/")
    return "/" + text if text else ""


@attrs.frozen
class Input:
    """Something an operator knows and is asked for: the district's host, an app name, a subdomain.

    ``default`` None: required. ``kind`` says how the answer is cleaned before it fills a URL
    template: ``host`` (scheme and slashes dropped), ``path`` (``/x`` or empty) or ``text``.
    """

    name: str
    help: str
    example: str = ""
    default: str | None = None
    kind: str = "text"
    choices: tuple[str, ...] = ()

    def clean(self, value: str) -> str:
        return _host(value) if self.kind == "host" else _path(value) if self.kind == "path" else value.strip()

    def field(self) -> Any:
        help = f"{self.help} (e.g. {self.example})" if self.example else self.help
        default = NOTHING if self.default is None else self.default
        if self.choices:
            return choice(help, self.choices, default, type=str)
        return setting(help, default=default, type=str)


@attrs.frozen
class ByInput:
    """A URL template chosen by an operator's answer, e.g. Skyward's base by product."""

    input: str
    templates: Mapping[str, str]


Template = str | ByInput


@attrs.frozen
class ApiProfile:
    """What is known about one SIS's OneRoster REST API. Templates fill ``{name}`` from the inputs;
    an empty template means not public (the operator sets the URL)."""

    name: str
    title: str
    summary: str
    basis: str
    homepage: str = ""
    setup: str = ""
    notes: str = ""
    inputs: tuple[Input, ...] = ()
    base_url: Template = ""
    token_url: Template = ""
    version: str = "1.1"
    auth: str = "oauth2-client-credentials"
    client_auth: str = "basic"
    token_method: str = "POST"
    scopes: tuple[str, ...] = ()
    page_size: int = 100
    page_size_cap: int = 0
    sort: str = ""
    refresh_on_500: bool = False
    timeout: float = 60.0
    #: what the server does that the spec does not (names from :data:`rostersync.habits.HABITS`): the
    #: simulator imitating this SIS switches each on, so the conformance kit meets them
    habits: tuple[str, ...] = ()
    #: other settings' defaults (e.g. ``{"org_types_as_school": ("department",)}``)
    defaults: Mapping[str, Any] = attrs.Factory(dict)
    quirks: tuple[Quirk, ...] = ()
    sources: tuple[Source, ...] = ()

    def __attrs_post_init__(self) -> None:
        strange = unknown(self.habits)
        if strange:
            raise ValueError(f"profile {self.name}: unknown server habits {', '.join(strange)} "
                             f"(known: {', '.join(HABITS)})")

    def url(self, template: Template, values: Mapping[str, str]) -> str:
        """A template filled from the inputs' cleaned answers ('' when not public for these answers)."""
        if isinstance(template, ByInput):
            template = template.templates.get(values.get(template.input, ""), "")
        if not template:
            return ""
        cleaned = {i.name: i.clean(str(values.get(i.name, ""))) for i in self.inputs}
        return template.format(**cleaned)

    def gaps(self) -> list[tuple[str, str]]:
        """The addresses no public source gives (for some answers, when a template is chosen by one)."""
        wanted = [("base URL", "base_url", self.base_url)]
        if self.auth.startswith("oauth2"):
            wanted.append(("token URL", "token_url", self.token_url))
        out = []
        for what, setting_name, template in wanted:
            if isinstance(template, ByInput):
                missing = [answer for answer, t in template.templates.items() if not t]
                if missing:
                    out.append((f"{what} for {template.input} {' or '.join(missing)}", setting_name))
            elif not template:
                out.append((what, setting_name))
        return out

    def docs(self) -> str:
        parts = [self.summary]
        if self.gaps():
            parts.append(not_public(self.gaps()))
        if self.setup:
            parts.append(f"Setup in the SIS: {self.setup}")
        if self.notes:
            parts.append(self.notes)
        parts += [f"Quirk ({q.name}): {q.description}" for q in self.quirks]
        parts += [f"Server habit ({h}): {HABITS[h]}" for h in self.habits]
        return "\n\n".join(parts)


class _ComparedByFields:
    """``==``, ``hash`` and ``repr`` over every attrs field of the instance's own class, shared by the
    settings classes built from profiles: they are built by the dozen each time plugins load, and
    attrs generating (compiling) these three methods for each would double what ``connectors list``
    spends on them."""

    __slots__ = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in attrs.fields(type(self)))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in attrs.fields(type(self)) if f.repr)
        return f"{type(self).__name__}({shown})"


@attrs.frozen(eq=False, repr=False)
class ProfileApiSettings(_ComparedByFields, OneRosterApiSettings):
    """Settings of an SIS connector built from an :class:`ApiProfile`: its URLs derived from the
    operator's answers unless ``base_url``/``token_url`` are set."""

    profile: ClassVar[ApiProfile]

    def __attrs_post_init__(self) -> None:
        if not self.api_root():  # no base_url, and no template (or none for the answer that chooses one)
            answers = ", ".join(f"{k}={v}" for k, v in self.answers().items())
            raise ValueError(f"base_url is required: no public documentation gives this SIS's OneRoster base "
                             f"URL for {answers} (ask the vendor, then --set base_url=https://...)")
        super().__attrs_post_init__()

    def answers(self) -> dict[str, str]:
        return {i.name: str(getattr(self, i.name)) for i in self.profile.inputs}

    def api_root(self) -> str:
        if self.base_url.strip():
            return normalise_base_url(self.base_url, self.version)
        return self.profile.url(self.profile.base_url, self.answers())

    def token_endpoint(self) -> str:
        return self.token_url.strip() or self.profile.url(self.profile.token_url, self.answers())


def _cap(limit: int) -> Any:
    def check(_instance: object, attribute: attrs.Attribute, value: int) -> None:
        positive(_instance, attribute, value)
        if value > limit:
            raise ValueError(f"{attribute.name}: this SIS serves at most {limit} rows a page (got {value})")

    return check


def _api_fields(profile: ApiProfile) -> dict[str, Any]:
    """The settings an SIS connector adds or re-defaults, each with its kind's validator."""
    fields = {i.name: i.field() for i in profile.inputs}
    derived = bool(profile.base_url)
    fields["base_url"] = setting(
        "API root, only to override the derived one (a proxy, a test server)" if derived else
        "API root (ask the vendor): a host, or ending in /ims/oneroster/v1p1 (1.1) or /rostering/v1p2 (1.2)",
        default="" if derived else NOTHING, type=str)
    token_help = ("OAuth 2 token endpoint, only to override the derived one" if profile.token_url
                  else "OAuth 2 token endpoint (ask the vendor; not used by OAuth 1)")
    fields["token_url"] = setting(token_help, default="", type=str)
    fields["version"] = choice("OneRoster version the server speaks", VERSIONS, profile.version, type=str)
    fields["auth"] = choice("How requests are authorised", AUTH_MODES, profile.auth, type=str)
    fields["client_auth"] = choice("Where OAuth 2 client credentials go", CLIENT_AUTH, profile.client_auth, type=str)
    fields["token_method"] = choice("HTTP method of the token request", TOKEN_METHODS, profile.token_method, type=str)
    fields["scopes"] = setting("OAuth 2 scopes to request (comma list)", default=profile.scopes, type=tuple[str, ...])
    cap = profile.page_size_cap
    fields["page_size"] = setting(f"Rows asked per page (this SIS serves at most {cap})" if cap else
                                  "Rows asked per page (limit)", default=profile.page_size,
                                  validator=_cap(cap) if cap else positive, type=int)
    fields["sort"] = setting("Field every collection request is sorted by", default=profile.sort, type=str)
    fields["refresh_on_500"] = setting("A 500 means an expired token: renew it and retry once",
                                       default=profile.refresh_on_500, type=bool)
    fields["timeout"] = setting("Seconds to wait for a response", default=profile.timeout, validator=positive,
                                type=float)
    return fields


def _class_name(name: str, suffix: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name) if part) + suffix


def _with_defaults(base: type, fields: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` plus a re-declaration of each inherited setting in ``defaults``, keeping its help and
    validator, so a profile can change any default without dropping the kind's checks."""
    inherited = attrs.fields_dict(base)
    for name, value in defaults.items():
        if name in fields:
            raise ValueError(f"setting {name} is both an input and a default")
        old = inherited[name]
        fields[name] = attrs.field(default=value, validator=old.validator, metadata=old.metadata, kw_only=True,
                                   type=old.type)
    return fields


def _build(name: str, suffix: str, base: type, fields: dict[str, Any], profile: Any) -> type:
    cls = attrs.make_class(_class_name(name, suffix), fields, bases=(base,), frozen=True, slots=True, eq=False,
                           repr=False)
    cls.profile = profile  # type: ignore[attr-defined]
    cls.__doc__ = f"Settings of the {profile.title} connector (built from its profile)."
    return cls


def api_connector(profile: ApiProfile) -> Connector:
    """The ``oneroster-api`` connector an :class:`ApiProfile` describes."""
    fields = _with_defaults(ProfileApiSettings, _api_fields(profile), profile.defaults)
    settings = _build(profile.name, "ApiSettings", ProfileApiSettings, fields, profile)
    return Connector(name=profile.name, title=profile.title, kind="oneroster-api", settings=settings,
                     docs=profile.docs(), homepage=profile.homepage, basis=profile.basis, setup=profile.setup,
                     sources=profile.sources, quirks=profile.quirks)


@attrs.frozen
class SftpProfile:
    """What is known about the files an SIS drops on SFTP: their format, how a drop is laid out and
    marked complete, where in the SIS the export is set up, and what the system really is (some SIS
    on districts' lists are consumers of rosters, or reach vendors only through Clever or an API)."""

    name: str
    title: str
    summary: str
    basis: str
    homepage: str = ""
    setup: str = ""
    notes: str = ""
    #: auto, oneroster-1.1, oneroster-1.2, clever, or an installed column map's name (``tyler-sis-dw``)
    format: str = "auto"
    file_pattern: str = "*.csv"
    marker_file: str = ""
    remote_path: str = ""
    defaults: Mapping[str, Any] = attrs.Factory(dict)
    quirks: tuple[Quirk, ...] = ()
    sources: tuple[Source, ...] = ()

    def docs(self) -> str:
        parts = [self.summary]
        if self.basis == "none public":
            parts.append("No public documentation describes this SIS's export: ask the vendor which files it "
                         "writes; by default a OneRoster or Clever CSV drop is detected from its file names.")
        if self.setup:
            parts.append(f"Setup in the SIS: {self.setup}")
        if self.notes:
            parts.append(self.notes)
        parts += [f"Quirk ({q.name}): {q.description}" for q in self.quirks]
        return "\n\n".join(parts)


@attrs.frozen(eq=False, repr=False)
class ProfileSftpSettings(_ComparedByFields, SftpSettings):
    """Settings of an SIS connector built from an :class:`SftpProfile`."""

    profile: ClassVar[SftpProfile]


@attrs.frozen(eq=False, repr=False)
class ProfileDropBoxSettings(_ComparedByFields, DropBoxSettings):
    """Settings of the receiving twin of an SIS connector built from an :class:`SftpProfile`."""

    profile: ClassVar[SftpProfile]


def _drop_fields(profile: SftpProfile) -> dict[str, Any]:
    """The drop rules' settings a profile re-defaults: the same for pulling and for receiving."""
    return {
        "format": bundle_format("Format of the files", profile.format, type=str),
        "file_pattern": setting("Which files make a drop: *.csv (a folder of CSV files, or dated sub-folders) "
                                "or *.zip (each zip is a drop)", default=profile.file_pattern, type=str),
        "marker_file": setting("File the SIS writes when a drop is complete; empty: complete when its files "
                               "stop changing", default=profile.marker_file, type=str),
    }


def sftp_connector(profile: SftpProfile) -> Connector:
    """The ``sftp`` connector an :class:`SftpProfile` describes (pulling its drops from a server)."""
    fields = _drop_fields(profile)
    if profile.remote_path:
        fields["remote_path"] = setting("Folder on the server the SIS drops its files into",
                                        default=profile.remote_path, type=str)
    fields = _with_defaults(ProfileSftpSettings, fields, profile.defaults)
    settings = _build(profile.name, "SftpSettings", ProfileSftpSettings, fields, profile)
    return Connector(name=profile.name, title=profile.title, kind="sftp", settings=settings, docs=profile.docs(),
                     homepage=profile.homepage, basis=profile.basis, setup=profile.setup, sources=profile.sources,
                     quirks=profile.quirks)


RECEIVE = ("Received, not pulled: the SIS uploads into the school's drop box on this machine. `rostersync dropbox "
           "create SCHOOL --connector {name}` makes the school an sftp-only, chrooted account, enables this "
           "connector on its upload folder and prints what to send the district.")


def dropbox_connector(profile: SftpProfile) -> Connector:
    """The receiving twin of :func:`sftp_connector`: kind ``dropbox``, named ``NAME-dropbox``.

    The same drop rules' defaults (format, file pattern, marker file, and those of ``profile.defaults``
    that are drop rules rather than connection settings), on a folder of this machine that
    ``rostersync dropbox create`` fills in, so an SFTP SIS works in both directions from one profile.
    """
    name = f"{profile.name}-dropbox"
    own = attrs.fields_dict(ProfileDropBoxSettings)
    defaults = {key: value for key, value in profile.defaults.items() if key in own}
    fields = _with_defaults(ProfileDropBoxSettings, _drop_fields(profile), defaults)
    settings = _build(name, "Settings", ProfileDropBoxSettings, fields, profile)
    return Connector(name=name, title=f"{profile.title} (uploaded to a drop box here)", kind="dropbox",
                     settings=settings, docs=f"{profile.docs()}\n\n{RECEIVE.format(name=name)}",
                     homepage=profile.homepage, basis=profile.basis, setup=profile.setup, sources=profile.sources,
                     quirks=profile.quirks)


def sftp_connectors(profile: SftpProfile) -> tuple[Connector, Connector]:
    """Both directions of an SFTP SIS: pull (:func:`sftp_connector`) and receive (:func:`dropbox_connector`)."""
    return sftp_connector(profile), dropbox_connector(profile)
