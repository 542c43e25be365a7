"""Secret settings are references, never values: ``env:NAME`` or ``file:PATH``.

A reference is what the config file, the database, logs and ``repr`` ever show. The value is read
only when a transport needs it (:meth:`SecretRef.reveal`), so a leaked config or traceback leaks
nothing. ``file:`` targets must be private (like ssh keys): readable by their owner only.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import attrs

from rostersync.errors import ConfigError

PREFIXES = ("env:", "file:")


def _check_ref(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str) or not value.startswith(PREFIXES) or len(value.split(":", 1)[1]) == 0:
        raise ConfigError(
            "secret settings take a reference, not a value: use env:VARIABLE_NAME or file:/path/to/secret "
            "(the literal value was not saved)"
        )


@attrs.frozen(repr=False)
class SecretRef:
    """A reference to a secret. ``str()``/``repr()`` show the reference, never the value."""

    ref: str = attrs.field(validator=_check_ref)

    def __str__(self) -> str:
        return self.ref

    __repr__ = __str__

    def reveal(self) -> str:
        """Read the secret now. Raises ConfigError (naming the reference only) when it is unavailable."""
        scheme, target = self.ref.split(":", 1)
        if scheme == "env":
            value = os.environ.get(target)
            if value is None:
                raise ConfigError(f"secret {self.ref}: environment variable {target} is not set")
            return value
        path = Path(target).expanduser()
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise ConfigError(f"secret {self.ref}: cannot read {path}: {exc.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"secret {self.ref}: {path} is readable by other users; run: chmod 600 {path}")
        return path.read_text(encoding="utf-8").rstrip("\r\n")
