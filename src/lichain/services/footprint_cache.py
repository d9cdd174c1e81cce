"""The whole-ledger footprint kept on disk beside the snapshot cache, and carried forward from an older head.

Why this exists: a process that starts (a service worker, a command) finds the footprint cache at the head it was
written at, and a service's writers have moved the head since. Recomputing the whole ledger then took 50–100 s at
a million lots (the first passport of a fresh worker: 71 s). When only lots and runs were appended since the
cached head (:func:`lichain.services.footprint_extend.appended_only`), the cached rows are still those of the
lots they hold, and the new lots' rows follow by the same extension as in memory
(:func:`lichain.services.footprint_extend.extend_footprint`): the cached arrays are read, re-propagated over the
cached lots (the current snapshot's first rows, since lots are numbered in creation order and an appended lot
changes no earlier row) and extended.

Files: ``own.npy`` (per-kg own burdens, float64[N, K]), ``alloc.npy``, ``economic.npy``, the problem owners and
lot sources, and ``meta.json`` (head, the event number it is of, lot and run counts, problems, factors used).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lichain.analysis import footprint as fp
from lichain.analysis.arrays import _LOT_FIELDS, _RUN_FIELDS, _TABLE_FIELDS
from lichain.analysis.propagate import intensity
from lichain.analysis.snapshot import Snapshot
from lichain.core.factors import default_library
from lichain.services.snapshot import cache_dir_for, load_snapshot, new_cache_dir, put_in_place, same_cache

if TYPE_CHECKING:
    from lichain.services.footprint import LedgerFootprint
    from lichain.storage.sql import SqlStore

__all__ = ["load_footprint", "save_footprint"]

_FORMAT = 4  # 2: per-lot problem owners, source-lot inputs, cause supplier_pcf; 3: factors with public sources;
# 4: the event number of the head and the run count (so an older cache can be extended)
_ISSUES = ("issue_runs", "issue_lots", "lot_source")
#: A footprint extended from an older disk cache is written back once it adds this many lots (or 1 % of them).
PERSIST_MIN_LOTS = 1_000


def _dir(store: SqlStore) -> Path:
    d = cache_dir_for(store)
    return d.with_name(d.name + ".footprint")


def save_footprint(store: SqlStore, lf: LedgerFootprint) -> None:
    """Write ``lf`` as the ledger's footprint cache (replacing the folder atomically)."""
    d = _dir(store)
    tmp = new_cache_dir(d)
    np.save(tmp / "own.npy", lf.own)
    np.save(tmp / "alloc.npy", lf.alloc)
    np.save(tmp / "economic.npy", lf.economic)
    for name in _ISSUES:
        if getattr(lf, name) is not None:
            np.save(tmp / f"{name}.npy", getattr(lf, name))
    meta = {"format": _FORMAT, "head": lf.head, "seq": lf.seq, "columns": list(fp.COLUMNS),
            "n_lots": lf.snapshot.n_lots, "n_runs": lf.snapshot.n_runs,
            "last_lot": int(lf.store_lot_idx[-1]) if lf.store_lot_idx.size else -1,
            "last_run": int(lf.store_run_idx[-1]) if lf.store_run_idx.size else -1,
            "nonce": uuid.uuid4().hex,
            "library_version": lf.library_version, "problems": list(lf.problems), "factors": list(lf.factors),
            "lot_inputs": {str(k): v for k, v in (lf.lot_inputs or {}).items()}}
    (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    put_in_place(tmp, d)


def _prefix(snap: Snapshot, n0: int, r0: int) -> Snapshot:
    """The first ``n0`` lots and ``r0`` runs of ``snap`` with their upstream edges (the graph as it stood when
    they were the whole ledger; the downstream CSR is never read from it)."""
    if (n0, r0) == (snap.n_lots, snap.n_runs):
        return snap
    e0 = int(snap.up_indptr[n0])
    lot = {k: getattr(snap, k)[:n0] for k in ("lot_ids", *_LOT_FIELDS)}
    run = {k: getattr(snap, k)[:r0] for k in _RUN_FIELDS}
    tables = {k: getattr(snap, k) for k in _TABLE_FIELDS}
    return Snapshot(snap.elements, **lot, **run, **tables,
                    up_indptr=snap.up_indptr[: n0 + 1], up_src=snap.up_src[:e0], up_kg=snap.up_kg[:e0])


def load_footprint(store: SqlStore, head: str, seq: int) -> LedgerFootprint | None:
    """The cached footprint at ``head`` (event ``seq``): as written when the cache is at that head, extended
    when it is at an earlier head and only lots and runs were appended since; None otherwise."""
    from lichain.services.footprint import LedgerFootprint
    from lichain.services.footprint_extend import extend_footprint

    d = _dir(store)
    try:
        meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
        if (meta.get("format") != _FORMAT or meta["columns"] != list(fp.COLUMNS)
                or meta["library_version"] != default_library().version
                or (meta["head"] != head and not 0 <= meta["seq"] < seq)):
            return None
        ls = load_snapshot(store)
        n0, r0 = int(meta["n_lots"]), int(meta["n_runs"])
        snap = ls.snapshot
        if (ls.head != head or snap.n_lots < n0 or snap.n_runs < r0
                or (n0 and int(ls.store_lot_idx[n0 - 1]) != meta["last_lot"])
                or (r0 and int(ls.store_run_idx[r0 - 1]) != meta["last_run"])
                or (meta["head"] == head and (n0, r0) != (snap.n_lots, snap.n_runs))):
            return None
        own = np.load(d / "own.npy")
        alloc = np.load(d / "alloc.npy")
        economic = np.load(d / "economic.npy")
        issues = [np.load(d / f"{n}.npy") for n in _ISSUES]
        inputs = {int(k): v for k, v in meta["lot_inputs"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not same_cache(d, meta) or own.shape[0] != n0:  # replaced by another process meanwhile
        return None
    part = fp.reallocated(_prefix(snap, n0, r0), fp.Allocation(alloc, economic, np.zeros_like(economic)))
    lf = LedgerFootprint(meta["head"], "cache", part, ls.store_lot_idx[:n0], ls.store_run_idx[:r0], own,
                         intensity(part, own), alloc, economic, tuple(meta["problems"]), tuple(meta["factors"]),
                         meta["library_version"], issues[0], issues[1], issues[2], inputs, int(meta["seq"]))
    if meta["head"] == head:
        return lf
    out = extend_footprint(store, lf, ls, seq)
    if out is not None and out.snapshot.n_lots - n0 >= max(PERSIST_MIN_LOTS, out.snapshot.n_lots // 100):
        save_footprint(store, out)
    return out
