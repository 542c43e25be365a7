"""Connectors shipped with rostersync: one module per SIS or SIS family, each a small plugin."""
