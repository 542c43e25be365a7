"""limit/offset paging that never turns a short read into "everyone left".

The end of a collection is a short or empty page. ``X-Total-Count`` and ``Link`` are used when present
but never trusted alone: with a total, every page must have the size the total implies and the end
is confirmed by a short last page or an empty probe past it, so a count mismatch is an error. A first
page shorter than asked (a server clamping the page size) is told apart from the end by the headers,
or, when there are none, by one probe request. With a total, pages are fetched ``concurrency`` at a
time and handed back strictly in order, so rows still stream to the store in order and in bounded memory.
"""

from __future__ import annotations

import bisect
import collections
import concurrent.futures
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, overload

import attrs

from rostersync.errors import SourceError


@attrs.frozen
class Page:
    url: str  # with secrets removed: the batch's location
    offset: int
    rows: list[Any]
    total: int | None = None  # X-Total-Count
    has_next: bool | None = None  # Link rel="next" present; None = no Link header


class PageRows(Sequence[Any]):
    """The rows of consecutive pages as one sequence (one raw batch), remembering each row's page URL.

    Per-batch work (hooks, scope, a staging transaction) is paid once per few thousand rows rather
    than once per 100-row page, and a mapping error still names the exact page a record came from.
    """

    def __init__(self, pages: Sequence[Page]) -> None:
        self.urls = [p.url for p in pages]
        self.rows: list[Any] = []
        self.starts: list[int] = []
        for page in pages:
            self.starts.append(len(self.rows))
            self.rows.extend(page.rows)

    def location_of(self, index: int) -> str:
        return self.urls[bisect.bisect_right(self.starts, index) - 1]

    def replaced(self, rows: list[Any]) -> PageRows:
        """The same pages holding ``rows`` instead, one for one (a connector's quirk rewrote them): each
        row still names the page it came from."""
        if len(rows) != len(self.rows):
            raise ValueError(f"{len(rows)} rows cannot replace {len(self.rows)} one for one")
        new = PageRows([])
        new.urls, new.starts, new.rows = self.urls, self.starts, rows
        return new

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        return self.rows[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)


def batched(pages: Iterable[Page], rows: int) -> Iterator[PageRows]:
    """Consecutive pages grouped into batches of at least ``rows`` rows (the last may be smaller, and
    a collection with no rows still gives one empty batch: an empty bulk entity is a statement)."""
    group: list[Page] = []
    size = 0
    for page in pages:
        group.append(page)
        size += len(page.rows)
        if size >= rows:
            yield PageRows(group)
            group, size = [], 0
    if group:
        yield PageRows(group)


#: get(offset, limit) -> Page
Getter = Callable[[int, int], Page]


def parse_link(header: str | None) -> dict[str, str]:
    """``<url>; rel="next", <url>; rel="last"`` -> {"next": url, "last": url}."""
    links: dict[str, str] = {}
    for part in (header or "").split(","):
        url, _, params = part.strip().partition(";")
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "rel" and url.strip().startswith("<"):
                for rel in value.strip().strip('"').split():
                    links[rel.lower()] = url.strip()[1:-1]
    return links


def _first_id(page: Page) -> Any:
    row = page.rows[0] if page.rows else None
    return row.get("sourcedId") if isinstance(row, dict) else row


class Pager:
    """Pages of one collection URL. ``pool`` (None = sequential) fetches concurrently when a total is known."""

    def __init__(self, get: Getter, limit: int, max_pages: int,
                 pool: concurrent.futures.Executor | None = None, window: int = 1) -> None:
        self.get, self.limit, self.max_pages, self.pool, self.window = get, limit, max_pages, pool, window

    def pages(self) -> Iterator[Page]:
        first = self.get(0, self.limit)
        yield first
        n0 = len(first.rows)
        if first.total is not None:
            yield from self._with_total(first)
        elif n0:
            yield from self._until_short(first)

    # -- a total is known: the page layout is fixed, so pages can be fetched concurrently -----------------
    def _with_total(self, first: Page) -> Iterator[Page]:
        total, n0 = first.total or 0, len(first.rows)
        if n0 == 0:
            if total:
                self._mismatch(first, f"the first page is empty but X-Total-Count says {total}")
            return
        step = n0 if (n0 < self.limit and n0 < total) or n0 > self.limit else self.limit
        if n0 > total:
            self._mismatch(first, f"the first page has {n0} rows but X-Total-Count says {total}")
        offsets = range(step, total, step)
        if 1 + len(offsets) > self.max_pages:
            raise SourceError(f"X-Total-Count {total} at {step} rows a page needs {1 + len(offsets)} pages, more "
                              f"than max_pages ({self.max_pages})", first.url)
        last = first
        for page in self._fetch_in_order(offsets, step):
            expected = min(step, total - page.offset)
            if len(page.rows) != expected:
                self._mismatch(page, f"expected {expected} rows at offset {page.offset} (X-Total-Count {total}, "
                                     f"{step} a page) but got {len(page.rows)}")
            self._check_offset_honoured(first, page)
            last = page
            yield page
        if len(last.rows) == step:  # the last page was full: confirm nothing follows
            probe = self.get(total, step)
            if probe.rows:
                self._mismatch(probe, f"X-Total-Count says {total} but there are more rows after it")

    def _fetch_in_order(self, offsets: Iterable[int], step: int) -> Iterator[Page]:
        if self.pool is None or self.window <= 1:
            for offset in offsets:
                yield self.get(offset, step)
            return
        todo = iter(offsets)
        pending: collections.deque[concurrent.futures.Future[Page]] = collections.deque()
        try:
            for offset in todo:
                pending.append(self.pool.submit(self.get, offset, step))
                if len(pending) >= self.window:
                    break
            while pending:
                page = pending.popleft().result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(self.pool.submit(self.get, nxt, step))
                yield page
        finally:
            for future in pending:
                future.cancel()
            concurrent.futures.wait(pending)

    # -- no total: follow offsets until a short or empty page ---------------------------------------------
    def _until_short(self, first: Page) -> Iterator[Page]:
        step, offset, count = self.limit, len(first.rows), 1
        if len(first.rows) < self.limit:
            if first.has_next is False:
                return  # Link header present, no next: the short page is the end
            page = self.get(offset, self.limit)  # a clamped page size, or the end? ask once more
            count += 1
            if not page.rows:
                return
            step = len(first.rows)
            self._check_offset_honoured(first, page)
            yield page
            offset += len(page.rows)
            if len(page.rows) < step:
                return
        elif len(first.rows) > self.limit:
            step = len(first.rows)
        while True:
            count += 1
            if count > self.max_pages:
                raise SourceError(f"more than max_pages ({self.max_pages}) pages: is the server ignoring offset?",
                                  first.url)
            page = self.get(offset, self.limit)
            if not page.rows:
                return
            self._check_offset_honoured(first, page)
            yield page
            offset += len(page.rows)
            if len(page.rows) < step:
                return

    @staticmethod
    def _check_offset_honoured(first: Page, page: Page) -> None:
        if page.rows and page.offset and _first_id(page) is not None and _first_id(page) == _first_id(first):
            raise SourceError(f"the page at offset {page.offset} starts with the same record as the first page: "
                              "the server ignores offset", page.url)

    @staticmethod
    def _mismatch(page: Page, detail: str) -> None:
        raise SourceError(f"paging count mismatch: {detail}; nothing was imported (the data may have changed "
                          "during the sync: run it again)", page.url)
