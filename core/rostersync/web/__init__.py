"""``rostersync serve``: the operator's web view over the same config and database as the CLI.

Server-rendered pages (Starlette + Jinja2, no JavaScript at all) run by uvicorn: the dashboard
(schools x sources), runs with their report and changes, holds to approve or discard, connectors and
their settings, and a people browser. Every read goes through the Store protocol, so the view works on
any store backend; approve and discard call :mod:`rostersync.review`, as the CLI does.

Installed with the ``web`` extra (``pip install rostersync[web]``). Nothing here is imported until
``serve`` runs (:mod:`rostersync.web.plugin` only defines the command), so other commands stay fast.
"""
