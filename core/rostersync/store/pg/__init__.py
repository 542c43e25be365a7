"""The PostgreSQL store: the roster, run history, audit and holds in one PostgreSQL database (psycopg 3),
shared by any number of rostersync processes and worker hosts.

* :mod:`~rostersync.store.pg.database` - the URL and password, and a connection per operation (no
  connection is held while a run fetches from its SIS);
* :mod:`~rostersync.store.pg.migrations` - the schema, numbered as the SQLite store's migrations;
* :mod:`~rostersync.store.pg.apply` - a run's staging COPYed into UNLOGGED tables, diffed set-based
  and applied in one transaction under the source's advisory lock and the run fence;
* :mod:`~rostersync.store.pg.lease` - the per-source lock, a lease renewed while a run lives;
* :mod:`~rostersync.store.pg.pages` - the web view's paged reads and the audit log of operator actions;
* :mod:`~rostersync.store.pg.store` - :class:`PostgresStore`, the :class:`~rostersync.store.base.Store`;
* :mod:`~rostersync.store.pg.plugin` - the backend registered for ``postgresql://`` URLs.

Everything here but the plugin imports psycopg, which ``pip install rostersync[postgres]`` brings.
"""
