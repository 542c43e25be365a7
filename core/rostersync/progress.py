"""A progress bar per entity while a sync streams batches (only on a terminal)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from rostersync.engine import Progress as ProgressCallback
from rostersync.output import err_console


@contextmanager
def entity_progress(label: str, enabled: bool) -> Iterator[ProgressCallback | None]:
    """Yield a callback ``(entity, rows)`` that advances one bar per entity; None when disabled."""
    if not enabled:
        yield None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description:<32}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("rows"), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=False) as bar:
        tasks: dict[str, int] = {}

        def advance(entity: str, rows: int) -> None:
            if entity not in tasks:
                for other in tasks.values():  # the previous entity is complete
                    bar.update(other, total=bar.tasks[other].completed)
                tasks[entity] = bar.add_task(f"{label} {entity}", total=None)
            bar.advance(tasks[entity], rows)

        yield advance
        for task in tasks.values():
            bar.update(task, total=bar.tasks[task].completed)
