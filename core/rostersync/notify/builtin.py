"""The built-in notifiers (``email``, ``webhook``), registered through the same hook as a plugin's."""

from __future__ import annotations

from rostersync import hookimpl
from rostersync.notify import Notifier


@hookimpl
def rostersync_register_notifiers(register):  # type: ignore[no-untyped-def]
    from rostersync.notify import email, webhook

    register(Notifier("email", "Email over SMTP (STARTTLS, a login whose password is a secret ref)",
                      email.EmailSettings, email.send))
    register(Notifier("webhook", "A signed JSON POST, or a Slack-compatible incoming webhook",
                      webhook.WebhookSettings, webhook.send))
