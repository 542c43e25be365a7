"""Notifications through the CLI, to real servers on 127.0.0.1: an SMTP server (aiosmtpd, STARTTLS with a
trustme certificate, AUTH) receives the failure mail; a webhook receiver gets a payload whose signature
verifies, a receiver answering 500 twice then 200 gets it once, and a channel that always fails never
fails the sync (it is logged on the run). Secrets never reach a payload, the log or the database."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from conftest import edit_csv

SMTP_PASSWORD = "smtp-pa55word-never-shown"
HOOK_SECRET = "hook-signing-secret-xyz"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A real SMTP server on loopback that requires STARTTLS and a login; it keeps what it receives."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    received: list[dict[str, Any]] = []
    logins: list[tuple[str, str]] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            received.append({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                             "message": message_from_bytes(envelope.original_content)})
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and auth_data.password.decode() == SMTP_PASSWORD
        logins.append((auth_data.login.decode(), "ok" if ok else "refused"))
        return AuthResult(success=ok)

    port = _free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=server_ctx,
                            require_starttls=True, authenticator=authenticate, auth_required=True)
    controller.start()
    try:
        yield {"port": port, "ca_file": ca_file, "received": received, "logins": logins}
    finally:
        controller.stop()


class Receiver:
    """A webhook receiver on loopback answering with ``statuses`` in turn (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = outer.statuses.pop(0) if outer.statuses else 200
                outer.requests.append({"headers": dict(self.headers), "body": body, "answered": status})
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver_factory() -> Iterator[Any]:
    made: list[Receiver] = []

    def make(statuses: list[int] = ()) -> Receiver:  # type: ignore[assignment]
        made.append(Receiver(list(statuses)))
        return made[-1]

    yield make
    for r in made:
        r.close()


def _break(bundle: Path) -> None:
    edit_csv(bundle / "users.csv", lambda rows: [{**r, "role": "wizard"} if r["sourcedId"] == "le-stu-0001" else r
                                                 for r in rows])


def test_the_failure_mail_reaches_a_real_smtp_server_over_starttls(cli, school_with_bundle, bundle, smtp_server,
                                                                   monkeypatch, db_path, capsys):
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_PASSWORD)
    added = cli("notify", "add", "office", "--kind", "email", "--on", "failed", "--on", "held",
                "--set", "host=127.0.0.1", "--set", f"port={smtp_server['port']}",
                "--set", "sender=rs@district.example",
                "--set", "to=ops@district.example,it@district.example", "--set", "username=rostersync",
                "--set", "password=env:SMTP_PASSWORD", "--set", f"ca_file={smtp_server['ca_file']}")
    assert added.exit_code == 0, added.output
    assert SMTP_PASSWORD not in (db_path.parent / "rostersync.toml").read_text()

    assert cli("sync", "lincoln").exit_code == 0
    assert smtp_server["received"] == []  # ok runs are not what this channel is on
    _break(bundle)
    assert cli("sync", "lincoln").exit_code == 1
    [mail] = smtp_server["received"]
    message = mail["message"]
    assert message["Subject"] == "[rostersync] lincoln/csv-folder: run 2 failed"
    assert mail["to"] == ["ops@district.example", "it@district.example"]
    body = message.get_payload()
    assert "users.csv:" in body and "wizard" in body and "Report: rostersync report 2" in body
    assert smtp_server["logins"] == [("rostersync", "ok")]
    report = json.loads(cli("report", "2", "--format", "json").output)
    assert [(n["channel"], n["status"]) for n in report["notifications"]] == [("office", "sent")]
    everything = db_path.read_bytes() + body.encode() + capsys.readouterr().err.encode()
    assert SMTP_PASSWORD.encode() not in everything

    assert cli("notify", "test", "office").exit_code == 0
    assert smtp_server["received"][-1]["message"]["Subject"] == "[rostersync] test notification"


def test_a_wrong_smtp_password_is_logged_on_the_run_and_the_sync_still_succeeds(cli, school_with_bundle, bundle,
                                                                                 smtp_server, monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", "wrong-password-123")
    assert cli("notify", "add", "office", "--kind", "email", "--on", "ok", "--set", "host=127.0.0.1",
               "--set", f"port={smtp_server['port']}", "--set", "sender=a@b.example", "--set", "to=c@d.example",
               "--set", "username=rostersync", "--set", "password=env:SMTP_PASSWORD",
               "--set", f"ca_file={smtp_server['ca_file']}", "--set", "timeout=3").exit_code == 0
    result = cli("sync", "lincoln", "--json")
    assert result.exit_code == 0
    [warning] = [w for w in json.loads(cli("changes", "1", "--warnings", "--json").output) if w["code"] == "notify"]
    # refused (aiosmtpd then stalls the client, so the refusal may come as a time-out of the login step)
    assert warning["reason"].startswith(f"notification to channel office (email) failed: SMTP 127.0.0.1:"
                                        f"{smtp_server['port']}: login")
    assert smtp_server["logins"] == [("rostersync", "refused")]
    assert "wrong-password-123" not in warning["reason"]
    assert cli("notify", "test", "office").exit_code == 1


def _verify(request: dict[str, Any]) -> dict[str, Any]:
    """What a receiver does: recompute the signature over timestamp.body and compare in constant time."""
    headers = {k.lower(): v for k, v in request["headers"].items()}
    timestamp = headers["x-rostersync-timestamp"]
    expected = "sha256=" + hmac.new(HOOK_SECRET.encode(), f"{timestamp}.".encode() + request["body"],
                                    hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-rostersync-signature"], expected)
    assert abs(int(timestamp) - dt.datetime.now(dt.UTC).timestamp()) < 300
    return json.loads(request["body"])


def test_a_webhook_payload_is_signed_and_retried_until_it_is_taken_once(cli, school_with_bundle, bundle,
                                                                        receiver_factory, monkeypatch, db_path):
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)
    flaky = receiver_factory([500, 500])
    assert cli("notify", "add", "hook", "--kind", "webhook", "--on", "ok", "--on", "failed",
               "--set", f"url={flaky.url}", "--set", "secret=env:HOOK_SECRET", "--set", "backoff=0.01").exit_code == 0
    assert cli("sync", "lincoln").exit_code == 0
    assert [r["answered"] for r in flaky.requests] == [500, 500, 200]  # retried, taken once
    payload = _verify(flaky.requests[-1])
    assert payload["kind"] == "run" and payload["subject"] == "[rostersync] lincoln/csv-folder: run 1 ok"
    [run] = payload["runs"]
    assert (run["run"], run["status"], run["report"]) == (1, "ok", "rostersync report 1")
    assert run["totals"]["inserted"] > 1000
    assert HOOK_SECRET.encode() not in flaky.requests[-1]["body"] and HOOK_SECRET.encode() not in db_path.read_bytes()
    tampered = {**flaky.requests[-1], "body": flaky.requests[-1]["body"].replace(b"ok", b"OK")}
    with pytest.raises(AssertionError):
        _verify(tampered)


def test_a_channel_that_always_fails_never_fails_the_sync(cli, school_with_bundle, bundle, receiver_factory):
    down = receiver_factory([503] * 10)
    assert cli("notify", "add", "hook", "--kind", "webhook", "--on", "ok", "--set", f"url={down.url}",
               "--set", "retries=2", "--set", "backoff=0.01").exit_code == 0
    result = cli("sync", "lincoln", "--json")
    assert result.exit_code == 0 and json.loads(result.output)[0]["status"] == "ok"
    assert len(down.requests) == 3
    report = json.loads(cli("report", "1", "--format", "json").output)
    assert report["notifications"][0]["status"] == "failed"
    assert "HTTP 503 after 3 attempts" in report["notifications"][0]["detail"]
    assert any(r["reason"].startswith("notification to channel hook (webhook) failed") for r in report["records"])


def test_slack_shape_per_school_and_status(cli, school_with_bundle, bundle, receiver_factory, monkeypatch):
    slack = receiver_factory()
    other = receiver_factory()
    monkeypatch.setenv("SLACK_URL", slack.url)
    assert cli("schools", "add", "roosevelt", "--name", "Roosevelt", "--org-id", "sch-roosevelt").exit_code == 0
    assert cli("enable", "roosevelt", "csv-folder", "--set", f"path={bundle}").exit_code == 0
    assert cli("notify", "add", "chat", "--kind", "webhook", "--on", "ok", "--school", "roosevelt",
               "--set", "url_secret=env:SLACK_URL", "--set", "shape=slack").exit_code == 0
    assert cli("notify", "add", "held-only", "--kind", "webhook", "--on", "held",
               "--set", f"url={other.url}").exit_code == 0
    assert cli("sync", "--all").exit_code == 0
    [request] = slack.requests
    assert set(json.loads(request["body"])) == {"text"}
    assert "roosevelt/csv-folder: run 2 ok" in json.loads(request["body"])["text"]
    assert other.requests == []
    listed = json.loads(cli("notify", "list", "--json").output)
    assert [(c["name"], c["schools"]) for c in listed] == [("chat", ["roosevelt"]), ("held-only", [])]


def test_a_daily_digest_is_sent_once_a_day(cli, school_with_bundle, bundle, receiver_factory):
    hook = receiver_factory()
    assert cli("notify", "add", "daily", "--kind", "webhook", "--digest", "--digest-at", "00:00",
               "--on", "ok", "--on", "failed", "--set", f"url={hook.url}").exit_code == 0
    assert cli("sync", "lincoln").exit_code == 0
    assert hook.requests == []  # a digest channel gets no message per run
    assert cli("run", "--due").exit_code == 0  # nothing is due (never run by cron), but the digest is
    [digest] = hook.requests
    payload = json.loads(digest["body"])
    assert payload["kind"] == "digest" and "1 ok" in payload["subject"]
    assert [r["run"] for r in payload["runs"]] == [1]
    assert cli("run", "--due").exit_code == 0
    assert len(hook.requests) == 1  # once a day
    assert cli("notify", "digest", "daily").exit_code == 0  # cron's way: sends now
    assert len(hook.requests) == 2 and "no runs" in json.loads(hook.requests[-1]["body"])["subject"]


def test_a_bad_channel_is_refused_when_added(cli, school_with_bundle):
    bad = cli("notify", "add", "x", "--kind", "email", "--set", "host=h")
    assert bad.exit_code == 2 and "sender: required setting is missing" in bad.output
    assert cli("notify", "add", "x", "--kind", "pigeon").exit_code == 2
    literal = cli("notify", "add", "x", "--kind", "webhook", "--set", "url=https://h.example", "--set", "secret=abc")
    assert literal.exit_code == 2 and "reference, not a value" in literal.output
