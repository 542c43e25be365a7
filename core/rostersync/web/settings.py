"""The web view's settings: the ``[web]`` table of rostersync.toml.

::

    [web]
    proxy_user_header = "X-Forwarded-User"   # trust a reverse proxy to say who the user is
    proxy_addresses = ["127.0.0.1", "::1"]   # ...only on connections from these addresses
    allowed_hosts = ["rostersync.example.org"]  # Host headers answered (default: any, or loopback names)
    secure_cookies = true                    # the browser reaches the view over https (through a proxy)

    [web.users]                              # set with: rostersync serve --set-password [--user NAME]
    admin = "$argon2id$v=19$m=65536,t=3,p=4$..."

Only argon2 hashes are stored: never a password. Command-line options of ``serve`` override the
proxy settings for one run.
"""

from __future__ import annotations

import re
from typing import Any

import attrs
import tomlkit

from rostersync.config import Config
from rostersync.errors import ConfigError

USER_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")
MIN_PASSWORD = 10


@attrs.frozen
class WebSettings:
    users: dict[str, str] = attrs.Factory(dict)  # user name -> argon2 hash
    proxy_user_header: str | None = None
    proxy_addresses: tuple[str, ...] = ("127.0.0.1", "::1")
    allowed_hosts: tuple[str, ...] = ()
    secure_cookies: bool = False


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def web_settings(config: Config) -> WebSettings:
    """The ``[web]`` table, checked: unknown keys, a user name or header name out of shape, or a
    ``users`` value that is not an argon2 hash (a password pasted by mistake) are refused."""
    table = config.doc.get("web", {})
    where = f"{config.path}: [web]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    known = {f.name for f in attrs.fields(WebSettings)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown settings {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    users = {}
    for name, value in dict(table.get("users", {})).items():
        if not USER_NAME.match(name):
            raise ConfigError(f"{where}.users: user name {name!r}: use letters, digits, '_', '.', '@' or '-'")
        if not (isinstance(value, str) and value.startswith("$argon2")):
            raise ConfigError(f"{where}.users.{name} must be an argon2 hash (rostersync serve --set-password "
                              f"--user {name}); a password is never stored")
        users[name] = str(value)
    header = table.get("proxy_user_header")
    if header is not None and not (isinstance(header, str) and HEADER_NAME.match(header)):
        raise ConfigError(f"{where}.proxy_user_header must be an HTTP header name such as X-Forwarded-User")
    defaults = WebSettings()
    addresses = _strings(table.get("proxy_addresses", list(defaults.proxy_addresses)), f"{where}.proxy_addresses")
    hosts = _strings(table.get("allowed_hosts", []), f"{where}.allowed_hosts")
    secure = table.get("secure_cookies", False)
    if not isinstance(secure, bool):
        raise ConfigError(f"{where}.secure_cookies must be true or false")
    return WebSettings(users, str(header) if header else None, addresses, hosts, secure)


def set_password(config: Config, user: str, password: str) -> None:
    """Store ``user``'s password as an argon2id hash in ``[web.users]`` (replacing an earlier one)."""
    from rostersync.web.security import hash_password

    if not USER_NAME.match(user):
        raise ConfigError(f"user name {user!r}: use letters, digits, '_', '.', '@' or '-' (at most 64)")
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    web = config.doc.setdefault("web", tomlkit.table())
    users = web.setdefault("users", tomlkit.table())
    users[user] = hash_password(password)
    web_settings(config)  # the result must load
