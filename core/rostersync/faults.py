"""Fault points: where the crash tests kill a sync, named, so "killed at any point" is tested at fixed
points instead of by racing a timer.

``ROSTERSYNC_FAULT=NAME`` makes the process SIGKILL itself when a sync reaches the point ``NAME``:

* ``fetch`` - during the fetch, after the first batch is staged;
* ``staged`` - everything is staged and checked, before apply;
* ``apply`` - inside the apply transaction, its writes done, before COMMIT (PostgreSQL store);
* ``committed`` - right after the apply committed, before the sync returns.

Unset (production), a fault point is one dictionary look-up and does nothing. It exists for tests
(``tests/test_workers.py``) and for an operator who wants to see recovery happen on a test database.
"""

from __future__ import annotations

import os
import signal

ENV = "ROSTERSYNC_FAULT"
POINTS = ("fetch", "staged", "apply", "committed")


def fault_point(name: str) -> None:
    """SIGKILL this process if ``ROSTERSYNC_FAULT`` names this point (no clean-up runs, as in a real crash)."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
