"""A loopback OneRoster REST server: a CSV bundle served as a spec-exact 1.1 or 1.2 API, with real servers' habits.

Runs on 127.0.0.1 in a thread (tests, benchmarks, demos) or in the foreground (``rostersync simulate``).
Serves every GET endpoint of the rostering service (collections, singletons, nested collections), and
the gradebook and resources reads for what the bundle holds, with limit/offset, sort/orderBy, fields
and the full filter grammar; errors are imsx status payloads. Speaks OAuth 2 client credentials and,
for 1.1, two-legged OAuth 1. :class:`Behaviour` switches on what real servers do instead (relaxed
payloads, clamped pages, missing headers, throttling, failures, expiring tokens, hostile bodies...).
Every request is logged in :attr:`Simulator.log` so tests can see what a client asked.

The implementation lives in :mod:`rostersync.testing.oneroster_server` (one module per concept);
this module keeps the import path tests and connector authors use.

Example::

    with Simulator(bundle, version="1.2", behaviour=Behaviour(page_clamp=50)) as sim:
        ...  # sync with base_url=sim.base_url, token_url=sim.token_url, client_id=sim.client_id
"""

from rostersync.testing.oneroster_server import AuthPolicy, Behaviour, LogEntry, Paths, Simulator

__all__ = ["AuthPolicy", "Behaviour", "LogEntry", "Paths", "Simulator"]
