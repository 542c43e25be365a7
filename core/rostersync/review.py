"""Deciding a held run: approve (apply it exactly as staged) or discard (drop it), audited.

The one implementation behind ``rostersync approve``/``discard`` and the web view's buttons, so both
do exactly the same thing and leave the same trail: the run's new status (``ok`` with ``approved_at``,
or ``discarded``) and a row in the store's audit log naming who decided, from where and what it did.
The command line is ``cli on HOST`` as the logged-in user; the web view is ``web from ADDRESS`` as
the signed-in operator (or the user a trusted reverse proxy names).
"""

from __future__ import annotations

import getpass
import logging
import socket
from typing import Any

import attrs

from rostersync.engine import RunResult, approve_run, summarise
from rostersync.store.base import Store

log = logging.getLogger("rostersync.audit")


@attrs.frozen
class Actor:
    """Who takes an action (``name``) and from where (``origin``), as the audit log records them."""

    name: str
    origin: str


def cli_actor() -> Actor:
    """The person at the command line: the operating-system user, on this host."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        name = "unknown"
    return Actor(name, f"cli on {socket.gethostname()}")


def _summary(counts: dict[str, dict[str, int]]) -> str:
    totals = summarise(counts)
    return ", ".join(f"{totals[k]} {k}" for k in ("inserted", "updated", "restored", "deleted"))


def approve(store: Store, config: Any, run_id: int, actor: Actor) -> RunResult:
    """Apply a held run exactly as it was staged and finish what its source leaves until a run is
    committed (:func:`rostersync.engine.approve_run`: e.g. archiving an SFTP drop, with ``config``'s
    settings for the source), then audit it and notify the channels that want the run's new outcome
    (:mod:`rostersync.notify`). A refusal (not held, stale, staging gone) is a
    ConfigError and leaves no audit row: nothing happened."""
    from rostersync.notify import after_run

    result = approve_run(store, config, run_id)
    detail = f"applied: {_summary(result.counts)}"
    store.record_action("approve", actor=actor.name, origin=actor.origin, run_id=run_id, detail=detail)
    log.info("run %s approved by %s (%s): %s", run_id, actor.name, actor.origin, detail)
    failed = after_run(store, config.channels().values(), result)  # the channels that want its outcome
    return attrs.evolve(result, warnings=result.warnings + len(failed))


def discard(store: Store, run_id: int, actor: Actor) -> None:
    """Drop a held run (:meth:`Store.discard`): the roster stays as it is. Then audit it."""
    store.discard(run_id)
    detail = "discarded: the roster was not changed"
    store.record_action("discard", actor=actor.name, origin=actor.origin, run_id=run_id, detail=detail)
    log.info("run %s discarded by %s (%s)", run_id, actor.name, actor.origin)
