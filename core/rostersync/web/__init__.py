"""``rostersync serve``: the operator's web view over the same config and database as the CLI.

Server-rendered pages (Starlette + Jinja2, no JavaScript at all) run by uvicorn: the dashboard
(schools x sources), runs with their report and changes, holds to approve or discard, connectors and
their settings, and a people browser. Every read goes through the Store protocol, so the view works on
any store backend; approve and discard call :mod:`rostersync.review`, as the CLI does.

Why Starlette and Jinja2 rather than a Datasette plugin: Datasette reads SQLite files, and this view
must read any store through the Store protocol (the PostgreSQL store too); its pages are a few
fixed views with two actions that must run the CLI's own code under this project's audit and access
rules, which a table browser would have to be bent into. Datasette stays what the README suggests
for ad-hoc queries of an SQLite roster.

Installed with the ``web`` extra (``pip install rostersync[web]``). Nothing here is imported until
``serve`` runs (:mod:`rostersync.web.plugin` only defines the command), so other commands stay fast.
"""
