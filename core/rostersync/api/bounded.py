"""Every API response is read within a size and a time budget, whatever the server does.

httpx bounds each read (the read timeout), not a whole response: a server trickling a byte every few
seconds never trips a read timeout, and an enormous page (or a gzip bomb: a few KB that inflate to
gigabytes) is read into memory whole. So each response's byte stream is wrapped by a client event
hook (hooks see every response: through any transport or proxy, and the ones httpx reads itself, such
as a 401 answer before a token is renewed). The wrapper:

* decodes gzip/deflate itself, with its output bounded (``zlib``'s ``max_length``), and removes the
  ``Content-Encoding`` header so httpx does not decode again; the client only offers those two;
* raises :class:`~rostersync.errors.SourceError` once the decoded body passes ``max_response_mb``, or
  once ``deadline`` seconds have passed since the request was sent (checked at every chunk received:
  a silent server is caught by the read timeout, a trickling one by the deadline).

The headers are not covered by the deadline (httpx reads them before any hook runs); each of their
reads is bounded by the read timeout and their size by h11's limit.
"""

from __future__ import annotations

import time
import weakref
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx

from rostersync.errors import SourceError

if TYPE_CHECKING:
    from rostersync.api.settings import HttpSettings

#: the content codings the client offers, and decodes itself
ENCODINGS = "gzip, deflate"
_DECODED = {"gzip", "x-gzip", "deflate"}


class Budget:
    """The event hooks of one client: note when each request is sent, bound each response."""

    def __init__(self, options: HttpSettings) -> None:
        self.max_bytes = options.max_response_mb * 1024 * 1024
        self.max_mb = options.max_response_mb
        self.deadline = options.deadline
        self.api = options.API_NAME
        self._sent: weakref.WeakKeyDictionary[httpx.Request, float] = weakref.WeakKeyDictionary()

    def hooks(self) -> dict[str, list]:
        return {"request": [self.on_request], "response": [self.on_response]}

    def on_request(self, request: httpx.Request) -> None:
        self._sent[request] = time.monotonic()

    def on_response(self, response: httpx.Response) -> None:
        from rostersync.api.http import redact

        where = redact(str(response.request.url))
        due = self._sent.get(response.request, time.monotonic()) + self.deadline
        coding = response.headers.get("content-encoding", "identity").strip().lower() or "identity"
        if coding not in _DECODED | {"identity"}:
            raise SourceError(f"the server sent a {coding!r}-encoded response; rostersync offers only "
                              f"{ENCODINGS}", where)
        declared = response.headers.get("content-length", "")
        if coding == "identity" and declared.isdigit() and int(declared) > self.max_bytes:
            raise SourceError(self._too_large(f"it declares {int(declared):,} bytes"), where)
        response.stream = BoundedStream(response.stream, self, coding in _DECODED, due, where)  # type: ignore[assignment]
        if coding in _DECODED:
            del response.headers["content-encoding"]
            response.headers.pop("content-length", None)

    def _too_large(self, detail: str) -> str:
        return (f"the response is larger than {self.max_mb} MB (max_response_mb): {detail}; refusing it (a server "
                f"ignoring limit, or not a {self.api}?)")


class BoundedStream(httpx.SyncByteStream):
    """A response body (decoded) that stops at the size limit or the deadline."""

    def __init__(self, raw: httpx.SyncByteStream, budget: Budget, decode: bool, due: float, where: str) -> None:
        self.raw, self.budget, self.due, self.where = raw, budget, due, where
        self.decoder = zlib.decompressobj(zlib.MAX_WBITS | 32) if decode else None  # gzip or zlib header
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.raw:
            self._check_time()
            if self.decoder is None:
                yield self._count(chunk)
                continue
            data = chunk
            while data:
                try:
                    out = self.decoder.decompress(data, self.budget.max_bytes - self.size + 1)
                except zlib.error as exc:
                    raise SourceError(f"cannot decode the compressed response: {exc}", self.where) from None
                yield self._count(out)
                data = self.decoder.unconsumed_tail
        if self.decoder is not None:
            yield self._count(self.decoder.flush())

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.budget.max_bytes:
            raise SourceError(self.budget._too_large(f"more than {self.budget.max_bytes:,} bytes arrived"),
                              self.where)
        return data

    def _check_time(self) -> None:
        if time.monotonic() > self.due:
            raise SourceError(f"the response took more than {self.budget.deadline:g} s in all (deadline); the "
                              f"server is sending it too slowly", self.where)

    def close(self) -> None:
        self.raw.close()
