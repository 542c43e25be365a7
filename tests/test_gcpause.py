"""The garbage collector is slowed during a sync, not stopped, and is back to normal afterwards."""

from __future__ import annotations

import gc
import weakref

import pytest
from rostersync.gcpause import fewer_collections


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def test_settings_come_back_even_when_the_run_fails():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections(threshold=5_000):
        assert gc.get_threshold()[0] == 5_000
        assert gc.get_freeze_count() > 0
        raise RuntimeError("a failed run")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_an_applications_own_freeze_is_left_as_it_was():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with fewer_collections(threshold=5_000):
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_cyclic_garbage_made_during_a_run_is_still_collected():
    gone = []
    with fewer_collections(threshold=5_000):
        node = Node()
        weakref.finalize(node, gone.append, "collected")
        del node
        assert gone == []  # a cycle: not freed by reference counting
        kept = [[] for _ in range(20_000)]  # live containers enough to pass the raised threshold
        assert gone == ["collected"]
        del kept
