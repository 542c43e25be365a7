"""Numbered pages over a list already in memory (schools, holds, connectors), and the page-number
parameter of a request. Lists that live in the store page with cursors instead (see the Store
protocol's ``*_page`` methods), so their cost never grows with how far an operator pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs


def number(params: Mapping[str, str], key: str, default: int = 0, low: int = 0, high: int = 2**62) -> int:
    """An integer query parameter, clamped to [low, high]; anything else is ``default``."""
    try:
        value = int(params.get(key, default))
    except (TypeError, ValueError):
        return default
    return min(max(value, low), high)


@attrs.frozen
class Pager:
    """Page ``page`` (from 1) of ``total`` items, ``size`` a page; ``key`` is its query parameter."""

    page: int
    size: int
    total: int
    key: str = "page"

    @classmethod
    def of(cls, request: Any, total: int, size: int, key: str = "page") -> Pager:
        pages = max(1, -(-total // size))
        return cls(number(request.query_params, key, 1, 1, pages), size, total, key)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def start(self) -> int:
        return (self.page - 1) * self.size

    @property
    def stop(self) -> int:
        return min(self.start + self.size, self.total)
