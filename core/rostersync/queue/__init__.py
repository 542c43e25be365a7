"""Syncs as jobs on a queue in the PostgreSQL database, run by any number of ``rostersync worker``
processes on any number of hosts (procrastinate: a PostgreSQL-backed task queue, so there is no
second server to run).

* :mod:`~rostersync.queue.settings` - the ``[workers]`` table of the configuration;
* :mod:`~rostersync.queue.schema` - the queue's tables, installed by ``rostersync db upgrade``;
* :mod:`~rostersync.queue.app` - the tasks: a sync of one source, the periodic dispatcher, the
  stalled-job reaper and the purge of finished jobs;
* :mod:`~rostersync.queue.jobs` - enqueueing syncs and listing jobs with the runs they made;
* :mod:`~rostersync.queue.commands` - ``rostersync worker``, ``enqueue``, ``jobs``.

How a sync is applied exactly once, whatever is killed when:

1. A sync job holds the queue's lock for its source (``lock=`` of procrastinate: a unique index on the
   jobs being run), so two workers never run jobs of one source at once; its ``queueing_lock`` keeps
   at most one waiting per source.
2. Inside, the engine takes the store's lease for the source in the job's name and records the job's
   id on the run it begins (:class:`rostersync.engine.SyncOptions` ``job``).
3. A worker killed at any point leaves its job ``doing`` with a heartbeat that stops; the reaper
   (every minute, on any worker) retries jobs of workers silent for ``stalled_after`` seconds. The
   retry takes over its own lease, marks the dead attempt's run failed, and starts again, unless a
   run of the job already applied: then it does nothing.
4. The apply transaction's fence refuses a run that is no longer ``running`` or whose job another run
   applied (:meth:`rostersync.store.base.Store.apply`), so even an attempt thought dead that wakes up
   cannot apply a second time.
"""
