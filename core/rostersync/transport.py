"""What a transport is: the code that fetches for every connector of one ``kind``.

Transport plugins register :class:`Transport` objects through ``rostersync_register_transports``;
the host keeps them in a dict keyed by kind and refuses a second transport for a taken kind, naming
both packages. A connector names its transport by ``kind``; its settings class must be (or subclass)
the transport's ``settings`` class, so the transport reads typed, validated settings and never
guesses with ``getattr``.

``fetch`` and ``check`` are plain callables. Keep the module that registers them light (plugins load
on every command): import heavy libraries inside the callables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from rostersync.batches import RawBatch
    from rostersync.connector import CheckStep, Connector, FetchContext

#: fetch(connector, context): the run's raw batches, consumed lazily (a generator streams)
Fetch = Callable[["Connector", "FetchContext"], "Iterable[RawBatch]"]
#: check(connector, context): one step per thing checked, in order, stopping at the first failure
Check = Callable[["Connector", "FetchContext"], "Iterable[CheckStep]"]
#: committed(connector, context): work a run leaves until its changes are committed; returns warnings
Committed = Callable[["Connector", "FetchContext"], "Iterable[str]"]


@attrs.frozen
class Transport:
    """A way of fetching a roster: ``local-folder``, ``sftp``, ``oneroster-api``...

    ``fetch`` yields :class:`~rostersync.batches.RawBatch` objects, each naming its entity, format,
    location and mode (bulk or delta); ``check`` reaches the source without touching the roster
    (``rostersync check``). ``settings`` is the attrs class every connector of this kind builds on.
    ``package``/``version`` are filled in by the host from the plugin that registered it.

    ``committed`` (optional) does what must wait until a run's changes are committed, such as
    moving an imported SFTP drop into ``archive/``: the engine calls it once a run has applied, or
    once ``rostersync approve`` has applied a run that was held, perhaps days later in another
    process. So it works from ``context.state``, the state that run saved (its ``next_state``: keep
    what it needs there, never a secret), and the source's current settings. It returns warnings; its
    failure is a warning of the run, which stays committed.
    """

    kind: str
    title: str
    settings: type
    fetch: Fetch
    check: Check
    committed: Committed | None = None
    package: str = ""
    version: str = ""
