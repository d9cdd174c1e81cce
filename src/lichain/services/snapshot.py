"""Use case: the analysis snapshot of a ledger, cached on disk by chain head and extended incrementally.

A query on a ledger that has not changed loads the cached arrays (memory-mapped ``.npy`` files) instead of
reading the database. When events were appended since, only the new lots and runs are read and appended
(the ledger is append-only). A retraction recorded since the cache forces a full rebuild, since it removes
lots from the middle of the order.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from lichain.analysis.snapshot import Snapshot
from lichain.storage.arrays import read_arrays
from lichain.storage.sql import SqlStore, to_us

__all__ = ["LoadedSnapshot", "cache_dir_for", "load_snapshot", "lot_position"]

_TABLES = ("site_ids", "site_country", "site_org", "material_codes", "stage_names")
_FORMAT = 2


@dataclass(frozen=True)
class LoadedSnapshot:
    """A snapshot, how it was obtained ("cache", "extended", "built"), and its store numbering."""

    snapshot: Snapshot
    how: str
    head: str
    store_lot_idx: npt.NDArray[np.int64]
    store_run_idx: npt.NDArray[np.int64]


def cache_dir_for(store: SqlStore) -> Path:
    """``LICHAIN_CACHE`` or ``~/.cache/lichain``, then one folder per database URL."""
    root = Path(os.environ.get("LICHAIN_CACHE") or Path.home() / ".cache" / "lichain")
    url = store.url
    if store.is_sqlite and "///" in url:
        url = "sqlite:///" + str(Path(url.split("///", 1)[1]).resolve())
    return root / hashlib.sha256(url.encode()).hexdigest()[:20]


def _save(d: Path, ls: LoadedSnapshot, seq: int, retractions: int) -> None:
    tmp = d.with_name(d.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    s = ls.snapshot
    meta: dict[str, Any] = {"format": _FORMAT, "head": ls.head, "seq": seq, "retractions": retractions,
                            "elements": list(s.elements), "tables": {t: list(getattr(s, t)) for t in _TABLES}}
    for f in fields(s):
        if f.name in _TABLES or f.name in ("elements", "lot_ids"):
            continue
        np.save(tmp / f"{f.name}.npy", np.ascontiguousarray(getattr(s, f.name)))
    ids = s.lot_ids if isinstance(s.lot_ids, np.ndarray) and s.lot_ids.dtype.kind == "S" else np.array(
        [v if isinstance(v, bytes) else str(v).encode() for v in s.lot_ids], dtype=bytes)
    np.save(tmp / "lot_ids.npy", ids)  # fixed-width UTF-8 bytes: memory-mapped on load, no parsing
    np.save(tmp / "store_lot_idx.npy", ls.store_lot_idx)
    np.save(tmp / "store_run_idx.npy", ls.store_run_idx)
    (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    shutil.rmtree(d, ignore_errors=True)
    tmp.rename(d)


def _load(d: Path) -> tuple[LoadedSnapshot, dict[str, Any]] | None:
    try:
        meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != _FORMAT:
            return None
        cols: dict[str, Any] = {}
        for f in fields(Snapshot):
            if f.name in _TABLES or f.name in ("elements", "lot_ids"):
                continue
            cols[f.name] = np.load(d / f"{f.name}.npy", mmap_mode="r")
        ids = np.load(d / "lot_ids.npy", mmap_mode="r")
        for t, v in meta["tables"].items():
            cols[t] = tuple(v)
        snap = Snapshot(elements=tuple(meta["elements"]), lot_ids=ids, **cols)
        return (LoadedSnapshot(snap, "cache", meta["head"], np.load(d / "store_lot_idx.npy"),
                               np.load(d / "store_run_idx.npy")), meta)
    except (OSError, ValueError, KeyError):
        return None


def _build(store: SqlStore) -> tuple[LoadedSnapshot, int]:
    _seq, head = store.head()
    sa = read_arrays(store)
    return LoadedSnapshot(Snapshot.build(sa.arrays), "built", head, sa.store_lot_idx, sa.store_run_idx), \
        sa.retractions


def load_snapshot(store: SqlStore, *, as_of: datetime | None = None, use_cache: bool = True) -> LoadedSnapshot:
    """The ledger's snapshot: from cache if the chain head is unchanged, extended if only appended to."""
    seq, head = store.head()
    d = cache_dir_for(store)
    loaded = _load(d) if use_cache else None
    result: LoadedSnapshot | None = None
    if loaded is not None:
        cached, meta = loaded
        if meta["head"] == head:
            result = cached
        elif meta["seq"] < seq and _is_prefix(store, meta["seq"], meta["head"]):
            delta = read_arrays(store, lot_from=int(cached.store_lot_idx[-1]) + 1 if cached.store_lot_idx.size
                                else 0,
                                run_from=int(cached.store_run_idx[-1]) + 1 if cached.store_run_idx.size else 0,
                                known_lots=cached.store_lot_idx, known_runs=cached.store_run_idx)
            if delta.retractions == meta["retractions"]:
                snap = cached.snapshot.extend(delta.arrays)
                result = LoadedSnapshot(snap, "extended", head,
                                        np.concatenate([cached.store_lot_idx, delta.store_lot_idx]),
                                        np.concatenate([cached.store_run_idx, delta.store_run_idx]))
                if use_cache:
                    _save(d, result, seq, delta.retractions)
    if result is None:
        result, retractions = _build(store)
        if use_cache and seq:
            _save(d, result, seq, retractions)
    if as_of is not None:
        result = LoadedSnapshot(result.snapshot.as_of(to_us(as_of) // 1_000_000), result.how, result.head,
                                result.store_lot_idx, result.store_run_idx)
    return result


def _is_prefix(store: SqlStore, seq: int, chain_hash: str) -> bool:
    return store.chain_hash_at(seq) == chain_hash


def lot_position(snap: Snapshot, lot_id: str) -> int:
    """Position of a lot in the snapshot, by its id as given or in the ledger's spelling (GS1 EPC URN or Digital
    Link); :class:`~lichain.core.errors.NotFoundError` when there is none."""
    from lichain.core.errors import NotFoundError
    from lichain.services.query import canonical_lot_id

    for cand in (lot_id, canonical_lot_id(lot_id)):
        try:
            return snap.index_of(cand)
        except (KeyError, ValueError):
            continue
    raise NotFoundError(f"unknown lot {lot_id}")
