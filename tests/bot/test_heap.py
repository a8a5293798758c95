"""The server's heap settling: frozen objects skip collections; a reload lets the old index's cycles go."""

from __future__ import annotations

import gc
import weakref

import pytest

from bot.heap import resettle_heap, settle_heap


class _Node:
    """An object that can sit in a reference cycle."""


@pytest.fixture
def unfrozen():
    """Start and end with nothing frozen."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_resettle_does_nothing_in_a_process_that_never_settled(unfrozen):
    resettle_heap()
    assert gc.get_freeze_count() == 0


def test_settled_objects_skip_collections_until_resettled(unfrozen):
    node = _Node()
    node.me = node  # a cycle: only the cyclic collector can free it
    ref = weakref.ref(node)
    settle_heap()
    assert gc.get_freeze_count() > 0
    del node
    gc.collect()
    assert ref() is not None, "a frozen cycle is not collected"
    resettle_heap()
    assert ref() is None, "after a reload the old objects' cycles are collected"
    assert gc.get_freeze_count() > 0, "and what is still alive is frozen again"
