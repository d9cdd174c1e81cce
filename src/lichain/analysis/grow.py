"""Arrays that grow at their end without copying what is already there.

Why this exists: a service keeps one snapshot of a million-lot ledger per worker and extends it by the few lots a
writer appended, many times a minute. Concatenating every column for every extension copied hundreds of megabytes
while holding the interpreter lock, and every request of that worker waited for it. Here the rows live in a
buffer with room to spare: an extension writes the new rows after the old ones and hands out a longer view, so it
costs what it appends (amortised: a full copy only when the room runs out, then a quarter more is reserved).

Views handed out earlier keep seeing their own rows only, since rows are only ever written past the end of every
view already handed out; a second extension from the same, older view (not the newest) gets a buffer of its own.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

__all__ = ["append_rows"]

_LOCK = threading.Lock()


class _Buffer(np.ndarray):
    """A row buffer with room to grow; ``used`` (on the buffer itself, not its views) counts rows handed out."""

    used: int


def _buffer_of(a: np.ndarray[Any, Any]) -> _Buffer | None:
    b = a.base
    while isinstance(b, np.ndarray):  # arrays from compiled kernels or memory maps end in other owners
        if type(b) is _Buffer and "used" in b.__dict__:
            return b
        b = b.base
    return None


def append_rows(old: np.ndarray[Any, Any], new: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``old`` followed by ``new`` (rows, same dtype and row shape), written in place after ``old`` when its
    buffer has room and nobody has appended to it yet; else into a new buffer with a quarter more room."""
    n0, k = old.shape[0], new.shape[0]
    buf = _buffer_of(old)
    with _LOCK:
        if (buf is not None and buf.used == n0 and buf.shape[0] >= n0 + k and buf.dtype == old.dtype
                and old.ctypes.data == buf.ctypes.data):
            buf[n0:n0 + k] = new
            buf.used = n0 + k
            return buf[: n0 + k].view(np.ndarray)
        cap = n0 + k + max(1024, (n0 + k) // 4)
        nb = np.empty((cap, *old.shape[1:]), old.dtype).view(_Buffer)
        nb[:n0] = old
        nb[n0:n0 + k] = new
        nb.used = n0 + k
        return nb[: n0 + k].view(np.ndarray)
