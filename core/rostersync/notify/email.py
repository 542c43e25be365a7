"""The ``email`` notifier: a plain-text message over SMTP, STARTTLS by default, the password a secret ref.

The standard library's smtplib and email packages do the protocol; rostersync adds only the settings
(typed and validated like a connector's) and error messages that name the server and the step that
failed, never the password. ``tls``: ``starttls`` (port 587, the usual submission port; refused if the
server does not offer it), ``ssl`` (implicit TLS, port 465) or ``none`` (a relay on localhost only).
``ca_file`` trusts a private CA (a district's own mail relay); the system's CAs are trusted otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from rostersync.connector import choice, positive, setting
from rostersync.errors import SourceError
from rostersync.secrets import SecretRef

if TYPE_CHECKING:
    from rostersync.notify import Notification


@attrs.frozen
class EmailSettings:
    host: str = setting("SMTP server")
    sender: str = setting("From address, e.g. rostersync@district.example")
    to: tuple[str, ...] = setting("Recipients (a list)")
    port: int = setting("SMTP port (587 for STARTTLS, 465 for ssl)", default=587, validator=positive)
    tls: str = choice("How the connection is protected", ("starttls", "ssl", "none"), default="starttls")
    username: str | None = setting("SMTP login (none: no login)", default=None)
    password: SecretRef | None = setting("SMTP password: env:NAME or file:PATH", default=None, secret=True)
    ca_file: Path | None = setting("A CA certificate file to trust (a private mail relay)", default=None)
    timeout: float = setting("Seconds to wait for the server", default=20.0, validator=positive)


def send(settings: EmailSettings, notification: Notification) -> None:
    import smtplib
    import ssl
    from email.message import EmailMessage

    message = EmailMessage()
    message["Subject"] = notification.subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.to)
    message.set_content(notification.text)
    where = f"SMTP {settings.host}:{settings.port}"
    context = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    step = "connect"
    try:
        if settings.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                                    context=context)
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            client.ehlo()
            if settings.tls == "starttls":
                step = "STARTTLS"
                client.starttls(context=context)
                client.ehlo()
            if settings.username:
                step = "login"
                client.login(settings.username, settings.password.reveal() if settings.password else "")
            step = "send"
            client.send_message(message)
    except smtplib.SMTPNotSupportedError:
        raise SourceError(f"{step}: the server does not offer it (set tls = \"ssl\" or \"none\" if intended)",
                          where) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise SourceError(f"login as {settings.username} refused ({exc.smtp_code})", where) from None
    except smtplib.SMTPResponseException as exc:
        raise SourceError(f"{step}: the server answered {exc.smtp_code}", where) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SourceError(f"{step}: {type(exc).__name__}: {exc}", where) from None
