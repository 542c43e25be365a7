"""Secret settings are references, never values: ``env:NAME`` or ``file:PATH``.

A reference is what the config file, the database, logs and ``repr`` ever show. The value is read
only when a transport needs it (:meth:`SecretRef.reveal`), so a leaked config or traceback leaks
nothing. ``file:`` targets must be private (like ssh keys): readable by their owner only.

As a second line of defence every revealed value is remembered for this process, and
:func:`redact` blanks it out of any text rostersync prints, logs or stores (run errors, ``--json``).
That registry is the one piece of process-wide state besides the plugin manager, on purpose: a
secret must be redacted wherever it surfaces, including messages built by libraries.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import quote, quote_plus

import attrs

from rostersync.errors import ConfigError

PREFIXES = ("env:", "file:")
REDACTED = "[REDACTED]"
_revealed: set[str] = set()


def redact(text: str) -> str:
    """``text`` with every secret revealed in this process replaced by ``[REDACTED]``."""
    for value in sorted(_revealed, key=len, reverse=True):
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def remember(value: str) -> str:
    """Register a secret obtained elsewhere (e.g. an OAuth access token) for redaction."""
    if len(value) >= 4:  # shorter strings would blank out ordinary words
        # as written, and as it appears in a URL or form (a GET token request, a Basic header's input)
        _revealed.update({value, quote(value, safe=""), quote_plus(value)})
    return value


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
            return remember(value)
        path = Path(target).expanduser()
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise ConfigError(f"secret {self.ref}: cannot read {path}: {exc.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"secret {self.ref}: {path} is readable by other users; run: chmod 600 {path}")
        value = path.read_text(encoding="utf-8").rstrip("\r\n")
        for line in value.splitlines():  # a key file: each line of it is secret
            remember(line.strip())
        return remember(value)
