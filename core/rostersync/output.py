"""Tables for people, JSON for scripts: every listing goes through :func:`emit`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from rostersync.secrets import redact


def _console(stderr: bool = False) -> Console:
    """Full-width tables when output goes to a file or pipe (rich would wrap at 80 columns)."""
    probe = Console(stderr=stderr)
    return Console(stderr=stderr, highlight=False, width=None if probe.is_terminal else 200)


console = _console()
err_console = _console(stderr=True)


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], *, as_json: bool, title: str | None = None,
         empty: str = "nothing to show") -> None:
    if as_json:
        click.echo(redact(json.dumps(list(rows), indent=2, default=str, ensure_ascii=False)))
        return
    if not rows:
        console.print(empty)
        return
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col.replace("_", " "), overflow="fold")
    for row in rows:  # cells as Text: data is never read as rich markup ("[code]" would vanish as a style tag)
        table.add_row(*(Text("" if row.get(c) is None else redact(str(row.get(c)))) for c in columns))
    console.print(table)


def emit_json(value: Any) -> None:
    click.echo(redact(json.dumps(value, indent=2, default=str, ensure_ascii=False)))


def counts_table(title: str, counts: dict[str, dict[str, int]], columns: Sequence[str]) -> Table:
    """Counts per entity (rows) and kind of change (``columns``), as a sync summary or a report shows them."""
    table = Table(title=title, title_justify="left")
    table.add_column("entity")
    for column in columns:
        table.add_column(column.replace("_", " "), justify="right")
    for entity, values in counts.items():
        table.add_row(entity, *(str(values.get(c, 0)) for c in columns))
    return table
