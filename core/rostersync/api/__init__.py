"""OneRoster REST client pieces: settings, auth, HTTP with retries, paging and the endpoint plan.

Used by the ``oneroster-api`` transport (:mod:`rostersync.transports.oneroster_api`). Nothing here is
imported by ``rostersync connectors list``: httpx and oauthlib load only when a sync or check runs.
"""
