"""One OneRoster API source for one fetch: the HTTP client, its auth, a page pool and the endpoint plan.

Endpoints per entity, in dependency order. Classes and enrollments are asked per school
(``schools/{id}/classes``) when the school has org ids; everything else district-wide (there is no
``schools/{id}/users``, and district courses are not under a school). The engine's scope filter still
decides what a school keeps, exactly as for a CSV bundle.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs

from rostersync.api.auth import make_auth
from rostersync.api.http import NotShared, new_client, not_json, redact, request
from rostersync.api.paging import Page, Pager, parse_link
from rostersync.errors import SourceError

if TYPE_CHECKING:
    import httpx

    from rostersync.api.settings import OneRosterApiSettings


@attrs.frozen
class Endpoint:
    entity: str
    path: str
    keys: tuple[str, ...]  # envelope keys, spec first (some servers use students/teachers/terms)
    school_path: str | None = None


ENDPOINTS = (
    Endpoint("orgs", "orgs", ("orgs", "schools")),
    Endpoint("academic_sessions", "academicSessions", ("academicSessions", "terms", "gradingPeriods")),
    Endpoint("courses", "courses", ("courses",)),
    Endpoint("classes", "classes", ("classes",), "schools/{id}/classes"),
    Endpoint("users", "users", ("users", "students", "teachers")),
    Endpoint("enrollments", "enrollments", ("enrollments",), "schools/{id}/enrollments"),
    Endpoint("demographics", "demographics", ("demographics",)),
)


class ApiSource:
    """Use as a context manager; closes its client and page pool."""

    def __init__(self, options: OneRosterApiSettings) -> None:
        self.options = options
        self.auth = make_auth(options)
        self.client: httpx.Client = new_client(options, self.auth)
        self.pool = (concurrent.futures.ThreadPoolExecutor(options.concurrency, thread_name_prefix="rostersync-api")
                     if options.concurrency > 1 else None)

    def __enter__(self) -> ApiSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()

    def url(self, path: str) -> str:
        return self.options.api_root().rstrip("/") + "/" + path.lstrip("/")

    def get_page(self, path: str, keys: tuple[str, ...], params: dict[str, str], offset: int, limit: int) -> Page:
        url = self.url(path)
        query = {**params, "limit": str(limit), "offset": str(offset)}
        if self.options.sort:
            query.update(sort=self.options.sort, orderBy="asc")
        response = request(self.client, "GET", url, self.options, params=query)
        where = redact(str(response.request.url))
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceError(not_json(response, exc), where) from None
        rows = _envelope(body, keys, where)
        total = response.headers.get("x-total-count")
        try:
            count = int(total) if total is not None and total.strip() else None
        except ValueError:
            raise SourceError(f"X-Total-Count {total!r} is not a number", where) from None
        link = response.headers.get("link")
        has_next = None if link is None else "next" in parse_link(link)
        return Page(where, offset, rows, count, has_next)

    def pages(self, path: str, keys: tuple[str, ...], params: dict[str, str]) -> Iterator[Page]:
        opts = self.options

        def get(offset: int, limit: int) -> Page:
            return self.get_page(path, keys, params, offset, limit)

        # a window of pages beyond the workers keeps them busy while the store digests the previous page
        return Pager(get, opts.page_size, opts.max_pages, self.pool, opts.concurrency * 4).pages()

    def paths(self, endpoint: Endpoint, org_ids: tuple[str, ...]) -> list[str]:
        if endpoint.school_path and org_ids and self.options.school_paths:
            return [endpoint.school_path.format(id=org) for org in org_ids]
        return [endpoint.path]

    def entity_pages(self, endpoint: Endpoint, org_ids: tuple[str, ...], params: dict[str, str]) -> Iterator[Page]:
        """Every page of ``endpoint`` in order. Raises NotShared only before the first page is yielded.

        A 404 on the first per-school path means the server has no such path: fall back to the
        district-wide collection (the scope filter keeps the school's share).
        """
        paths = self.paths(endpoint, org_ids)
        for n, path in enumerate(paths):
            pages = self.pages(path, endpoint.keys, params)
            try:
                first = next(pages)
            except NotShared as exc:
                if n == 0 and path != endpoint.path and exc.status == 404:
                    yield from self.entity_pages(attrs.evolve(endpoint, school_path=None), (), params)
                    return
                if n == 0:
                    raise
                raise SourceError(f"{exc} (the earlier school paths of {endpoint.path} answered)") from None
            yield first
            try:
                yield from pages
            except NotShared as exc:
                raise SourceError(f"{exc} (in the middle of paging: refusing a partial {endpoint.entity})") from None


def _envelope(body: Any, keys: tuple[str, ...], where: str) -> list[Any]:
    if isinstance(body, dict):
        for key in keys:
            rows = body.get(key)
            if isinstance(rows, list):
                return rows
        found = ", ".join(sorted(str(k) for k in body)) or "none"
        raise SourceError(f"the response has no {keys[0]!r} list (keys: {found})", where)
    raise SourceError(f"expected a JSON object with a {keys[0]!r} list, got {type(body).__name__}", where)
