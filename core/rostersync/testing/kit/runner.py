"""Run the conformance checks without pytest: for ``rostersync connectors test`` and for scripts.

:func:`check_connector` runs every check for one connector in a :class:`~.trial.Lab` and returns an
:class:`~.trial.Outcome` per check (a check that crashes is a failed outcome naming the exception, so
one broken connector never hides the others' results). :func:`check_connectors` runs many, in
``jobs`` worker processes (each with its own lab, kept for all the connectors it tests, so an sshd
starts once per worker), and returns them in the order asked.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import traceback

from rostersync.testing.kit.checks import CHECKS, Failed, Skipped
from rostersync.testing.kit.trial import Lab, Outcome, Trial

_worker_lab: Lab | None = None


def run_check(trial: Trial, check_name: str) -> Outcome:
    check = next(c for c in CHECKS if c.name == check_name)
    name = trial.connector.name
    try:
        return Outcome(name, check.name, "ok", check.run(trial))
    except Skipped as exc:
        return Outcome(name, check.name, "skipped", str(exc))
    except Failed as exc:
        return Outcome(name, check.name, "failed", str(exc))
    except Exception as exc:  # a crash in the connector (or the kit) is a failure, reported, not raised
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return Outcome(name, check.name, "failed", f"{type(exc).__name__}: {exc} (at {where.filename}:"
                                                   f"{where.lineno})")


def check_connector(name: str, lab: Lab) -> list[Outcome]:
    """Every check for connector ``name`` (installed), in order."""
    from rostersync.plugins import get_connector

    trial = Trial(get_connector(name), lab)
    return [run_check(trial, check.name) for check in CHECKS]


def _in_worker(name: str) -> list[Outcome]:
    global _worker_lab
    if _worker_lab is None:
        from multiprocessing import util

        _worker_lab = Lab()
        # a pool's worker ends with os._exit (atexit never runs); multiprocessing's finalizers do
        util.Finalize(_worker_lab, _worker_lab.close, exitpriority=10)
    return check_connector(name, _worker_lab)


def check_connectors(names: list[str], jobs: int = 1) -> dict[str, list[Outcome]]:
    """The outcomes of every check for each of ``names``, ``jobs`` connectors at a time."""
    if jobs <= 1 or len(names) <= 1:
        with Lab() as lab:
            return {name: check_connector(name, lab) for name in names}
    # fork: a worker starts with the plugins this process loaded (a plugin registered by a test included)
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(jobs, len(names)), mp_context=context) as pool:
        results = pool.map(_in_worker, names)
        return dict(zip(names, results, strict=True))
