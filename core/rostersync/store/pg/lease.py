"""One sync per source at a time on PostgreSQL: a lease in ``source_locks``, renewed while its run lives.

A session advisory lock would die with its process, but only while its connection stays open for the
whole run, across the SIS fetch; this store holds no connection there (see
:mod:`rostersync.store.pg.database`). So the lock is a row: taken when it is free or its holder
stopped renewing it for :data:`TTL` seconds (the holder died), renewed every :data:`RENEW` seconds by
a thread through a short connection of its own, deleted on release.

A lease that expires under a process that is alive (paused, cut off from the database) is taken over;
the run it was making cannot apply anyway: the new holder marks it failed (``recover_interrupted``)
and the apply transaction's fence refuses a run that is not ``running`` (:mod:`rostersync.store.pg.apply`).

A queued job's lease is held in the job's name (``job:ID``): the retry of a job whose worker was
killed takes over its own lease at once, instead of waiting for it to expire.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from rostersync.store.pg.database import Database

log = logging.getLogger(__name__)

TTL = 60.0  # seconds without renewal after which a lease is free
RENEW = 15.0  # seconds between renewals

ACQUIRE = (
    "INSERT INTO source_locks (school, source, holder, heartbeat_at) "
    "VALUES (%(school)s, %(source)s, %(holder)s, now()) "
    "ON CONFLICT (school, source) DO UPDATE SET holder = EXCLUDED.holder, heartbeat_at = now() "
    "WHERE source_locks.holder = EXCLUDED.holder "
    "OR source_locks.heartbeat_at < now() - make_interval(secs => %(ttl)s) RETURNING holder"
)
RENEW_SQL = ("UPDATE source_locks SET heartbeat_at = now() WHERE school=%(school)s AND source=%(source)s "
             "AND holder=%(holder)s")
RELEASE = "DELETE FROM source_locks WHERE school=%(school)s AND source=%(source)s AND holder=%(holder)s"


def process_holder() -> str:
    """A holder name unique to this lock attempt, saying where it runs (for people reading the table)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@contextmanager
def source_lease(db: Database, school: str, source: str, holder: str | None = None, *, ttl: float = TTL,
                 renew: float = RENEW) -> Iterator[bool]:
    """Yield True holding the source's lease (renewed in the background), or False at once when another
    holder has a live one."""
    params = {"school": school, "source": source, "holder": holder or process_holder(), "ttl": ttl}
    with db.connect(autocommit=True) as conn:
        taken = conn.execute(ACQUIRE, params).fetchone() is not None
    if not taken:
        yield False
        return
    stop = threading.Event()
    renewer = threading.Thread(target=_renew, args=(db, params, stop, renew), daemon=True,
                               name=f"rostersync-lease-{school}/{source}")
    renewer.start()
    try:
        yield True
    finally:
        stop.set()
        renewer.join()
        with db.connect(autocommit=True) as conn:
            conn.execute(RELEASE, params)


def _renew(db: Database, params: dict[str, object], stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            with db.connect(autocommit=True) as conn:
                if conn.execute(RENEW_SQL, params).rowcount == 0:
                    log.warning("the lock of %s/%s was taken over: this run will not apply", params["school"],
                                params["source"])
                    return
        except Exception as exc:  # a database that does not answer now may answer at the next renewal
            log.warning("renewing the lock of %s/%s failed: %s", params["school"], params["source"], exc)
