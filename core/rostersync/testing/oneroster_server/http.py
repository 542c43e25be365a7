"""The HTTP side of the loopback server: the request handler, and the behaviours that garble bodies.

The handler only moves bytes: it hands (method, target, headers, body) to the application's
``handle`` and writes back what it answers, after the hostile behaviours have had their way with the
body (cut in half, padded, replaced by an HTML page, gzip-bombed, trickled out 64 bytes at a time, or
its connection dropped halfway: :class:`Cut`).
HTTP/1.1 keep-alive with Nagle off, so clients reuse connections as they do with real servers.
"""

from __future__ import annotations

import gzip
import json
import socket
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from rostersync.testing.oneroster_server.behaviour import Behaviour

Handle = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], Any]]

HTML_PAGE = (b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Your session has expired"
             b"</h1><form action=/login method=post><input name=user></form></body></html>")


class Encoded(bytes):
    """A response body already encoded as JSON (pages joined from cached objects)."""


class Cut(Encoded):
    """A body whose connection drops halfway through it: the full Content-Length is announced, half the
    bytes are sent, then the socket is closed (a reset link, a restarted load balancer)."""


def json_body(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def misbehave(b: Behaviour, is_token: bool, status: int, data: bytes) -> tuple[int, str, bytes]:
    """(status, content type, body) of a response after the behaviours that garble data responses."""
    if is_token or status in (301, 302):
        return status, "application/json", data
    if b.html:
        return b.html, "text/html; charset=utf-8", HTML_PAGE
    if status == 200:
        if b.truncate_body:
            data = data[:len(data) // 2]
        if b.pad_bytes:
            data += b" " * b.pad_bytes
        return status, b.content_type, data
    return status, "application/json", data


def handler_for(handle: Handle, behaviour: Callable[[], Behaviour], token_path: Callable[[], str]
                ) -> type[BaseHTTPRequestHandler]:
    """A request handler class answering through ``handle`` with the server's current behaviour."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections as with real servers
        disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart (delayed ACK)
        server_version = "rostersync-simulator"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            b = behaviour()
            try:
                status, out_headers, payload = handle(self.command, self.path, headers, body)
            except Exception as exc:  # a simulator bug: answer 500 rather than hang the client
                status, out_headers, payload = 500, {}, {"error": f"{type(exc).__name__}: {exc}"}
            data = payload if isinstance(payload, Encoded) else json_body(payload)
            status, kind, data = misbehave(b, self.path.startswith(token_path()), status, data)
            if b.gzip and "gzip" in headers.get("accept-encoding", ""):
                data = gzip.compress(data, 6)
                out_headers = {**out_headers, "Content-Encoding": "gzip"}
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in out_headers.items():
                self.send_header(name, value)
            self.end_headers()
            if isinstance(payload, Cut):
                self.wfile.write(data[:len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if not b.trickle:
                self.wfile.write(data)
                return
            for start in range(0, len(data), 64):  # slowloris: never idle long enough for a read timeout
                self.wfile.write(data[start:start + 64])
                self.wfile.flush()
                time.sleep(b.trickle)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # requests are in the server's log instead
            pass

    return Handler
