"""Clever's Data API (v3.0/v3.1): settings, the HTTP client, the full pull and the Events delta.

Used by the ``clever-api`` transport (:mod:`rostersync.transports.clever_api`); the objects are mapped
by the ``clever-api-json`` format (:mod:`rostersync.formats.clever_api`). Nothing here but the
settings is imported when plugins load: httpx loads only when a sync or check runs.
"""
