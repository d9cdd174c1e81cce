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

__all__ = ["paused_gc"]


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
