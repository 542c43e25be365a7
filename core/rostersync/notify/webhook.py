"""The ``webhook`` notifier: the notification as JSON, POSTed and signed, retried with backoff.

Signature (``shape = "json"``, when ``secret`` is set): ``X-Rostersync-Timestamp`` is the Unix time of the
request and ``X-Rostersync-Signature`` is ``sha256=`` + the hex HMAC-SHA256, keyed with the secret, of
``<timestamp>.<body>`` (the raw body bytes). A receiver recomputes it, compares in constant time and
refuses old timestamps (replays), as with Stripe's and Slack's signed requests. ``shape = "slack"`` sends
``{"text": ...}``, which Slack's (and Mattermost's, Rocket.Chat's...) incoming webhooks post as a message.

A 5xx, a 429 or a network error is retried (``retries`` times, waiting ``backoff`` seconds, then twice that,
and so on: tenacity); a 4xx is final. An incoming webhook's URL is itself a secret (it carries the token):
give it as ``url_secret = "env:NAME"`` instead of ``url``. Redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING

import attrs

from rostersync.connector import choice, positive, setting
from rostersync.errors import ConfigError, SourceError
from rostersync.secrets import SecretRef

if TYPE_CHECKING:
    from rostersync.notify import Notification

SIGNATURE = "X-Rostersync-Signature"
TIMESTAMP = "X-Rostersync-Timestamp"


def _url_given(instance: WebhookSettings, _attribute: object, _value: object) -> None:
    if (instance.url is None) == (instance.url_secret is None):
        raise ValueError("give one of url or url_secret (env:NAME or file:PATH, for a URL that carries a token)")


@attrs.frozen
class WebhookSettings:
    url: str | None = setting("Where to POST (https://...)", default=None)
    url_secret: SecretRef | None = setting("The URL as a secret reference (Slack-style URLs carry a token)",
                                           default=None, secret=True, validator=_url_given)
    secret: SecretRef | None = setting("HMAC-SHA256 signing key: env:NAME or file:PATH (none: unsigned)",
                                       default=None, secret=True)
    shape: str = choice("Payload: json (the notification) or slack ({\"text\": ...})", ("json", "slack"),
                        default="json")
    retries: int = setting("Retries after a 5xx, 429 or network error", default=3)
    backoff: float = setting("Seconds before the first retry (doubling each time)", default=2.0, validator=positive)
    timeout: float = setting("Seconds to wait for the receiver", default=10.0, validator=positive)


class _Retry(Exception):
    """A failure worth retrying (server error, rate limit, network)."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Rostersync-Signature`` value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def body_of(settings: WebhookSettings, notification: Notification) -> bytes:
    payload = {"text": notification.text} if settings.shape == "slack" else notification.as_json()
    return json.dumps(payload, ensure_ascii=False).encode()


def send(settings: WebhookSettings, notification: Notification) -> None:
    import httpx
    import tenacity

    url = settings.url_secret.reveal() if settings.url_secret else settings.url
    if not url or not url.startswith(("https://", "http://")):
        raise ConfigError("webhook url must start with https:// (or http:// on a trusted network)")
    body = body_of(settings, notification)
    where = "webhook" if settings.url_secret else f"webhook {url}"
    last: list[str] = []

    def post() -> None:
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "User-Agent": "rostersync", TIMESTAMP: timestamp}
        if settings.secret is not None:
            headers[SIGNATURE] = signature(settings.secret.reveal(), timestamp, body)
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=settings.timeout, follow_redirects=False)
        except httpx.HTTPError as exc:
            last[:] = [f"{type(exc).__name__}"]
            raise _Retry from None
        if response.status_code >= 500 or response.status_code == 429:
            last[:] = [f"HTTP {response.status_code}"]
            raise _Retry
        if response.status_code >= 300:
            raise SourceError(f"the receiver answered HTTP {response.status_code}", where)

    retrying = tenacity.Retrying(stop=tenacity.stop_after_attempt(settings.retries + 1),
                                 wait=tenacity.wait_exponential(multiplier=settings.backoff, max=60),
                                 retry=tenacity.retry_if_exception_type(_Retry), reraise=True)
    try:
        retrying(post)
    except _Retry:
        raise SourceError(f"{last[0] if last else 'failed'} after {settings.retries + 1} attempts", where) from None
