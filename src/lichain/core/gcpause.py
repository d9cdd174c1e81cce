"""The cyclic garbage collector paused while one document is checked and written.

Why this exists: a bulk document creates a few hundred thousand short-lived, acyclic objects (payload texts, rows,
movements) while millions of long-lived ones (the parsed document) are alive; every few thousand allocations the
collector then traverses them, which cost 15-20 % of bulk-ingest time (docs/performance.md). Reference counting
frees all of them as before; collection resumes, as configured, when the document is done.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused_gc", "settle_heap"]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause automatic cyclic collection inside the block (nested use is harmless); restore it on exit."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def settle_heap(collect: bool = False) -> None:
    """Put every object alive now out of the cyclic collector's reach (``gc.freeze``), after an optional full
    collection.

    A service worker holds long-lived state (modules, the snapshot's tables, the footprint's per-lot inputs, kept
    answers); every full collection traversed all of it, 200-250 ms at a million lots with the worker's requests
    waiting (docs/performance.md). Frozen objects are still freed by reference counting when dropped; only cyclic
    garbage among them stays, so this is called after loading or refreshing such state, not per request.
    """
    if collect:
        gc.collect()
    gc.freeze()
