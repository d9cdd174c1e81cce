"""Lot id → lot number for a snapshot of millions of lots, without a dictionary over all of them.

Why this exists: trace, footprint and passport reads start by finding a lot's number from its id. A Python
dictionary over a million ids took about a second and 100 MB to build for every snapshot a worker loaded, holding
the interpreter lock meanwhile (every other request of the worker waited). Here the ids are one fixed-width byte
array sorted once by numpy (``argsort``), stored beside the snapshot cache and memory-mapped on load, so a lookup
is a binary search touching about 20 pages; lots appended since (snapshot extensions) go in a small dictionary
shared along the chain of extended snapshots, each of which checks that the number found is one of its own lots.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from lichain.analysis.arrays import _as_str

__all__ = ["LotIndex"]

_SORTED, _ORDER = "lot_index_sorted.npy", "lot_index_order.npy"


def _as_bytes(ids: Any) -> np.ndarray[Any, Any]:
    if isinstance(ids, np.ndarray) and ids.dtype.kind == "S":
        return ids
    return np.array([_as_str(v).encode("utf-8") for v in ids], dtype=bytes)


class LotIndex:
    """Sorted ids of the first lots (``sorted_ids``, with each one's lot number in ``order``) plus the lots
    appended after them (``extra``: id → number, shared by the snapshots extended from one another)."""

    __slots__ = ("extra", "order", "sorted_ids")

    def __init__(self, sorted_ids: np.ndarray[Any, Any], order: np.ndarray[Any, Any],
                 extra: dict[str, int] | None = None) -> None:
        self.sorted_ids = sorted_ids
        self.order = order
        self.extra = extra if extra is not None else {}

    @classmethod
    def build(cls, lot_ids: Any) -> LotIndex:
        """Index of ``lot_ids`` (str, bytes or fixed-width bytes array); the first of equal ids wins."""
        ids = _as_bytes(lot_ids)
        order = np.argsort(ids, kind="stable").astype(np.int64)
        return cls(ids[order], order)

    def get(self, lot_id: str) -> int:
        """The lot number of ``lot_id``, or -1."""
        pos = self.extra.get(lot_id)
        if pos is not None:
            return pos
        key = lot_id.encode("utf-8")
        s = self.sorted_ids
        if not s.size or len(key) > s.dtype.itemsize or key.endswith(b"\x00"):
            return -1
        i = int(np.searchsorted(s, key))
        if i < s.shape[0] and s[i] == key:
            return int(self.order[i])
        return -1

    def extended(self, new_ids: Iterable[Any], first: int) -> LotIndex:
        """This index with ``new_ids`` numbered from ``first`` (the shared ``extra`` grows; earlier snapshots
        holding it check the number against their own lot count)."""
        self.extra.update({_as_str(v): first + k for k, v in enumerate(new_ids)})
        return LotIndex(self.sorted_ids, self.order, self.extra)

    def save(self, folder: Path, lot_ids: Any) -> None:
        """Write the index of ``lot_ids`` (all lots, sorted afresh) into ``folder``."""
        full = self if not self.extra and self.sorted_ids.shape[0] == len(lot_ids) else LotIndex.build(lot_ids)
        np.save(folder / _SORTED, full.sorted_ids)
        np.save(folder / _ORDER, full.order)

    @classmethod
    def load(cls, folder: Path, n_lots: int) -> LotIndex | None:
        """The index saved in ``folder`` (memory-mapped), or None when it is missing or not of ``n_lots``."""
        try:
            s = np.load(folder / _SORTED, mmap_mode="r")
            o = np.load(folder / _ORDER, mmap_mode="r")
        except (OSError, ValueError):
            return None
        return cls(s, o) if s.shape == (n_lots,) and o.shape == (n_lots,) else None
