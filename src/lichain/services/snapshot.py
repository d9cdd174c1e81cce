"""Use case: the analysis snapshot of a ledger, cached on disk by chain head and extended incrementally.

A query on a ledger that has not changed loads the cached arrays (memory-mapped ``.npy`` files) instead of
reading the database. When events were appended since, only the new lots and runs are read and appended
(the ledger is append-only). A retraction recorded since the cache forces a full rebuild, since it removes
lots from the middle of the order.

Several processes (the REST API's workers) share one cache folder: each writes a new snapshot into a folder of
its own and renames it into place, so a reader sees a whole snapshot or none, and the OS shares the
memory-mapped pages between them. Within a process the last snapshot is kept while the chain head stays put; an
extension is written back to the folder only once it adds 1,000 lots or 1 % of the ledger (rewriting a 1 M-lot
snapshot for every appended document would cost more than reading the few new lots again).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from lichain.analysis.grow import append_rows
from lichain.analysis.lot_index import LotIndex
from lichain.analysis.snapshot import Snapshot
from lichain.storage.arrays import read_arrays
from lichain.storage.sql import SqlStore, to_us

__all__ = ["BackgroundRefresh", "LoadedSnapshot", "ahead_of", "cache_dir_for", "load_snapshot", "lot_position",
           "make_room", "new_cache_dir",
           "put_in_place", "same_cache", "snapshot_holding"]

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
    seq: int = -1  # the event ``head`` is of (-1: unknown)
    retractions: int = -1  # retractions on record at ``head`` (-1: unknown)


def cache_dir_for(store: SqlStore) -> Path:
    """``LICHAIN_CACHE`` or ``~/.cache/lichain``, then one folder per database URL."""
    root = Path(os.environ.get("LICHAIN_CACHE") or Path.home() / ".cache" / "lichain")
    url = store.url
    if store.is_sqlite and "///" in url:
        url = "sqlite:///" + str(Path(url.split("///", 1)[1]).resolve())
    return root / hashlib.sha256(url.encode()).hexdigest()[:20]


#: An extension is written back to the cache folder once it adds this many lots (or 1 % of the ledger): a
#: service whose writers append a lot at a time must not rewrite the whole snapshot on every chain head.
_PERSIST_MIN_LOTS = 1_000
_MEMO: dict[Path, LoadedSnapshot] = {}  # this process's last snapshot per cache folder
_MEMO_LOCK = threading.Lock()
_BUILD_LOCK = threading.Lock()  # held while this process loads, extends or builds a snapshot


def new_cache_dir(d: Path) -> Path:
    """A new, empty folder beside cache folder ``d`` to write its next content into (one per writer: worker
    processes and their threads race here)."""
    tmp = d.with_name(f"{d.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:12]}")
    tmp.mkdir(parents=True)
    return tmp


def same_cache(d: Path, meta: dict[str, Any]) -> bool:
    """True when cache folder ``d`` still holds the content ``meta`` was read from (its nonce is unchanged)."""
    try:
        return bool(json.loads((d / "meta.json").read_text(encoding="utf-8")).get("nonce") == meta.get("nonce"))
    except (OSError, ValueError):
        return False


def put_in_place(tmp: Path, d: Path) -> None:
    """Replace cache folder ``d`` by ``tmp`` whole; if another writer got there first, keep its folder."""
    old = d.with_name(f"{d.name}.old-{os.getpid()}-{uuid.uuid4().hex[:12]}")
    try:
        if d.exists():
            d.rename(old)  # readers holding memory maps keep their (unlinked) files
        tmp.rename(d)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)


def _save(d: Path, ls: LoadedSnapshot, seq: int, retractions: int) -> None:
    tmp = new_cache_dir(d)
    s = ls.snapshot
    meta: dict[str, Any] = {"format": _FORMAT, "head": ls.head, "seq": seq, "retractions": retractions,
                            "nonce": uuid.uuid4().hex,
                            "elements": list(s.elements), "tables": {t: list(getattr(s, t)) for t in _TABLES}}
    for f in fields(s):
        if f.name in _TABLES or f.name in ("elements", "lot_ids"):
            continue
        np.save(tmp / f"{f.name}.npy", np.ascontiguousarray(getattr(s, f.name)))
    ids = s.lot_ids if isinstance(s.lot_ids, np.ndarray) and s.lot_ids.dtype.kind == "S" else np.array(
        [v if isinstance(v, bytes) else str(v).encode() for v in s.lot_ids], dtype=bytes)
    np.save(tmp / "lot_ids.npy", ids)  # fixed-width UTF-8 bytes: memory-mapped on load, no parsing
    (s.lot_index or LotIndex.build(ids)).save(tmp, ids)  # id → number by binary search, memory-mapped too
    np.save(tmp / "store_lot_idx.npy", ls.store_lot_idx)
    np.save(tmp / "store_run_idx.npy", ls.store_run_idx)
    (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    put_in_place(tmp, d)


def _load(d: Path, newer_than: int = -1) -> tuple[LoadedSnapshot, dict[str, Any]] | None:
    """The snapshot cached in ``d`` (arrays memory-mapped), unless it is not of an event after ``newer_than``."""
    try:
        meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != _FORMAT or meta["seq"] <= newer_than:
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
        index = LotIndex.load(d, snap.n_lots)
        if index is not None:
            snap.attach_index(index)
        loaded = (LoadedSnapshot(snap, "cache", meta["head"], np.load(d / "store_lot_idx.npy"),
                                 np.load(d / "store_run_idx.npy"), int(meta["seq"]),
                                 int(meta["retractions"])), meta)
        if not same_cache(d, meta):  # another process put a new snapshot in place while this one was read
            return None
        return loaded
    except (OSError, ValueError, KeyError):
        return None


def _build(store: SqlStore) -> tuple[LoadedSnapshot, int]:
    seq, head = store.head()
    sa = read_arrays(store)
    return LoadedSnapshot(Snapshot.build(sa.arrays), "built", head, sa.store_lot_idx, sa.store_run_idx, seq,
                          sa.retractions), sa.retractions


def ahead_of(kept_seq: int, seq: int) -> bool:
    """True when state this process keeps (a snapshot, a whole-ledger footprint) is at a later event than
    ``seq``, a head the caller read before another thread brought that state further: the ledger is append-only,
    so it is the caller's state and more (a fresh read of the head would give its head or a later one). Without
    this, such a caller rebuilt the whole state (a minute per million lots) to get back to the head it had just
    missed."""
    return seq > 0 and kept_seq > seq


def load_snapshot(store: SqlStore, *, as_of: datetime | None = None, use_cache: bool = True) -> LoadedSnapshot:
    """The ledger's snapshot: from cache if the chain head is unchanged, extended if only appended to."""
    seq, head = store.head()
    d = cache_dir_for(store)
    with _MEMO_LOCK:
        memo = _MEMO.get(d) if use_cache else None
    if memo is not None and (memo.head == head or ahead_of(memo.seq, seq)):
        return _as_of(replace(memo, how="cache"), as_of)
    if not use_cache:
        return _as_of(_load_or_build(store, d, seq, head, None, False), as_of)
    # one load or extension at a time: a second caller finds it done (or extends the result); the connection is
    # taken before the lock (:meth:`SqlStore.reading`)
    with store.reading(), _BUILD_LOCK:
        with _MEMO_LOCK:
            memo = _MEMO.get(d)
        if memo is not None and (memo.head == head or ahead_of(memo.seq, seq)):
            return _as_of(replace(memo, how="cache"), as_of)
        result = _load_or_build(store, d, seq, head, memo, True)
    return _as_of(result, as_of)


def _load_or_build(store: SqlStore, d: Path, seq: int, head: str, memo: LoadedSnapshot | None,
                   use_cache: bool) -> LoadedSnapshot:
    usable = memo is not None and memo.seq >= 0 and memo.retractions >= 0
    loaded = _load(d, memo.seq if memo is not None and usable else -1) if use_cache else None
    if memo is not None and usable and (loaded is None or memo.seq > loaded[1]["seq"]):
        loaded = (memo, {"seq": memo.seq, "head": memo.head, "retractions": memo.retractions})  # newer than disk
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
                                        append_rows(cached.store_lot_idx, delta.store_lot_idx),
                                        append_rows(cached.store_run_idx, delta.store_run_idx), seq,
                                        delta.retractions)
                if use_cache and delta.store_lot_idx.size >= max(_PERSIST_MIN_LOTS, snap.n_lots // 100):
                    _save(d, result, seq, delta.retractions)  # else kept in memory, re-extended by others
    if result is None:
        result, retractions = _build(store)
        if use_cache and seq:
            _save(d, result, seq, retractions)
    if use_cache:
        with _MEMO_LOCK:
            _MEMO[d] = result
    return result


def make_room(store: SqlStore) -> None:
    """Copy this process's snapshot of ``store`` into buffers with room to grow (a service worker, once loaded):
    its later extensions then append in place instead of the first one copying every memory-mapped column."""
    d = cache_dir_for(store)
    with _BUILD_LOCK, _MEMO_LOCK:
        memo = _MEMO.get(d)
        if memo is not None:
            _MEMO[d] = replace(memo, snapshot=memo.snapshot.with_room(),
                               store_lot_idx=append_rows(memo.store_lot_idx, memo.store_lot_idx[:0]),
                               store_run_idx=append_rows(memo.store_run_idx, memo.store_run_idx[:0]))


def snapshot_holding(store: SqlStore, lot_id: str) -> Snapshot:
    """A snapshot holding ``lot_id`` whose upstream of that lot is the current head's: this process's last
    snapshot when it holds the lot and only lots, runs and events the lot graph does not read were recorded since
    (an appended lot changes no earlier lot's upstream), refreshed meanwhile in the background; else
    :func:`load_snapshot`. For upstream reads only (downstream, later lots matter)."""
    d = cache_dir_for(store)
    with _MEMO_LOCK:
        memo = _MEMO.get(d)
    if memo is not None and memo.seq >= 0:
        from lichain.services.footprint_extend import CHANGES_GRAPH, appended_only

        seq, head = store.head()
        if memo.head == head or ahead_of(memo.seq, seq):
            return memo.snapshot
        try:
            lot_position(memo.snapshot, lot_id)
        except LookupError:
            return load_snapshot(store).snapshot
        if appended_only(store, memo.seq, memo.head, seq, head, CHANGES_GRAPH):
            _REFRESH.start(store)
            return memo.snapshot
    return load_snapshot(store).snapshot


#: Background refreshes start at most this often [s]: reads of lots already held do not need them, reads of new
#: lots extend at once, and a busy writer moves the head many times a second.
REFRESH_EVERY_S = 10.0


class BackgroundRefresh:
    """Brings a process's kept state (``work(store)``) to the chain head in a background thread: at most one run at
    a time, at most every :data:`REFRESH_EVERY_S`, its result put out of the collector's full passes. A failed
    run leaves the state as it was (reads then compute their own)."""

    def __init__(self, work: Callable[[SqlStore], object]) -> None:
        self._work = work
        self._running = threading.Lock()  # held while a refresh waits or runs
        self._last = 0.0

    def start(self, store: SqlStore) -> None:
        """Start a refresh unless one already waits or runs."""
        if self._running.acquire(blocking=False):
            threading.Thread(target=self._run, args=(store,), daemon=True).start()

    def _run(self, store: SqlStore) -> None:
        import time

        from lichain.core.gcpause import settle_heap

        try:
            time.sleep(max(0.0, self._last + REFRESH_EVERY_S - time.monotonic()))
            self._work(store)
            settle_heap()  # the refreshed state is long-lived: out of the collector's full passes
            self._last = time.monotonic()
        except Exception:
            pass
        finally:
            self._running.release()


_REFRESH = BackgroundRefresh(load_snapshot)


def _as_of(result: LoadedSnapshot, as_of: datetime | None) -> LoadedSnapshot:
    if as_of is None:
        return result
    return LoadedSnapshot(result.snapshot.as_of(to_us(as_of) // 1_000_000), result.how, result.head,
                          result.store_lot_idx, result.store_run_idx, result.seq, result.retractions)


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
