"""Keep the long-lived objects of a server process out of the cyclic garbage collector's way."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Take what is loaded so far (model, index, tables: about 100,000 objects) out of the collector's scans.

    Python's cyclic garbage collector walks every tracked object on each full collection, which
    on a loaded server takes tens of milliseconds and lands on whichever request is running: the
    slowest percentiles of the latency benchmark. After :func:`gc.freeze` those objects are no
    longer walked (they are still freed by reference counting). For a long-running server only
    (``pasokh serve``); :func:`resettle_heap` repeats it after an index reload.
    """
    gc.collect()
    gc.freeze()


def resettle_heap() -> None:
    """After an index reload in a settled process: collect the old index's cycles, then freeze again.

    Does nothing in a process that never called :func:`settle_heap` (tests, ``pasokh ask``).
    """
    if gc.get_freeze_count():
        gc.unfreeze()
        settle_heap()
