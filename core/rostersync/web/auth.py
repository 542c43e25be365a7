"""Who is asking, per request, and the sign-in pages.

:func:`page` wraps a GET handler, :func:`action` a POST handler (which must carry the session's CSRF
token, and an Origin, when the browser sends one, of this very server). Both put the
:class:`~rostersync.review.Actor` on ``request.state.actor``: the audit log's who and where.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from rostersync.review import Actor
from rostersync.web.render import error_page, render, url
from rostersync.web.security import CSRF_FIELD, csrf_ok, verify_password
from rostersync.web.state import state_of

log = logging.getLogger("rostersync.web")
Handler = Callable[[Request], Awaitable[Response]]


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def identify(request: Request) -> Actor | Response:
    """The person behind ``request``, or the response refusing it (sign in first, or not via the proxy)."""
    access = state_of(request).access
    client = client_of(request)
    if access.mode == "proxy":
        if not access.trusts_proxy(client):
            return error_page(request, 403, "Forbidden", "requests must come through the reverse proxy")
        name = (request.headers.get(access.proxy_header or "") or "").strip()
        if not name or len(name) > 128 or not name.isprintable():
            return error_page(request, 401, "Not signed in", f"the proxy did not name a user ({access.proxy_header})")
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[-1].strip()
        return Actor(name, f"web via proxy {client}" + (f" for {forwarded}" if forwarded else ""))
    if access.mode == "password":
        name = request.session.get("user")
        if name not in access.users:
            return RedirectResponse(url("/login", next=request.url.path + (f"?{request.url.query}"
                                                                           if request.url.query else "")), 303)
        return Actor(str(name), f"web from {client}")
    return Actor("anonymous", f"web from {client}")


def page(handler: Handler) -> Handler:
    """A page anyone signed in may see."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        actor = identify(request)
        if isinstance(actor, Response):
            return actor
        request.state.actor = actor
        return await handler(request)

    return wrapped


def same_origin(request: Request) -> bool:
    """A browser's Origin header, when sent, names this server (host and port as the browser asked)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


async def checked_form(request: Request) -> dict[str, str] | Response:
    """The POSTed form if it carries the session's CSRF token (and comes from this origin), else 403."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not csrf_ok(request.session, form.get(CSRF_FIELD)) or not same_origin(request):
        log.warning("refused a POST to %s from %s: missing or wrong CSRF token", request.url.path,
                    client_of(request))
        return error_page(request, 403, "Forbidden", "the form's security token is missing or out of date: "
                                                     "reload the page and try again")
    return form


def action(handler: Handler) -> Handler:
    """A POST that changes something: CSRF-checked first, then the person is identified."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        form = await checked_form(request)
        if isinstance(form, Response):
            return form
        actor = identify(request)
        if isinstance(actor, Response):
            return actor
        request.state.actor, request.state.form = actor, form
        return await handler(request)

    return wrapped


def _next(target: str | None) -> str:
    """Where to go after signing in: a path on this server only (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def login(request: Request) -> Response:
    web = state_of(request)
    if web.access.mode != "password":
        return RedirectResponse("/", 303)
    if request.method == "GET":
        return render(request, "login.html", next=_next(request.query_params.get("next")), error=None)
    form = await checked_form(request)
    if isinstance(form, Response):
        return form
    client, name = client_of(request), form.get("user", "").strip()
    target = _next(form.get("next"))
    if web.throttle.blocked(client):
        log.warning("sign-in refused for %s: too many failed attempts", client)
        return render(request, "login.html", 429, next=target, error="Too many failed attempts: wait a few "
                                                                        "minutes and try again.")
    if not await run_in_threadpool(verify_password, web.access.users, name, form.get("password", "")):
        web.throttle.failed(client)
        log.warning("failed sign-in as %r from %s", name[:64], client)
        return render(request, "login.html", 401, next=target, error="Wrong user name or password.")
    web.throttle.succeeded(client)
    request.session.clear()  # a new session (and CSRF token) for the signed-in user
    request.session["user"] = name
    await run_in_threadpool(web.with_store, lambda store: store.record_action(
        "sign-in", actor=name, origin=f"web from {client}"))
    return RedirectResponse(target, 303)


async def logout(request: Request) -> Response:
    form = await checked_form(request)
    if isinstance(form, Response):
        return form
    request.session.clear()
    return RedirectResponse("/login" if state_of(request).access.mode == "password" else "/", 303)
