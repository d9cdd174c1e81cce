"""Use case: a lot's own origin class beside the recycled content its elements carry.

Why this exists: ``origin`` is the class declared for the lot itself (virgin, pre_consumer, post_consumer) when
it was made or received; it is not its recycled content. A cathode lot made from 30 % recycled nickel sulfate is
of class ``virgin`` (it is new material, not scrap) and holds 30 % recycled Ni. Showing one without the other
misleads, so every lot display shows both, named: the class as "this lot's own class", and the physical
recycled share per element (pre- plus post-consumer, element-mass weighted over the lot graph,
:func:`lichain.analysis.shares.origin_shares`, the figure of ``lichain recycled`` and Regulation (EU)
2023/1542 Art. 8).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ORIGIN_CLASS_MEANING", "ElementRecycled", "LotOrigin", "lot_origins"]

_FORMAT = 1

ORIGIN_CLASS_MEANING = ("the class declared for this lot itself (virgin, pre_consumer or post_consumer), not its "
                        "recycled content: see recycled_content, the physical pre- plus post-consumer share of "
                        "each element, element-mass weighted over the lot's inputs")


@dataclass(frozen=True, slots=True)
class ElementRecycled:
    """Physical recycled shares of one element in a lot [kg kg⁻¹]; None when the lot holds none of it."""

    element: str
    recycled: float | None
    pre_consumer: float | None
    post_consumer: float | None


@dataclass(frozen=True, slots=True)
class LotOrigin:
    """A lot's own origin class and its recycled content per element."""

    lot: str
    origin_class: str
    recycled_content: tuple[ElementRecycled, ...]

    def to_json(self) -> dict[str, Any]:
        """``origin_class``, its meaning, and ``recycled_content`` per element (fractions 0..1)."""
        return {"origin_class": self.origin_class, "origin_class_meaning": ORIGIN_CLASS_MEANING,
                "recycled_content": {r.element: {"recycled": r.recycled, "pre_consumer": r.pre_consumer,
                                                 "post_consumer": r.post_consumer}
                                     for r in self.recycled_content}}

    def summary(self) -> str:
        """For people: ``virgin (this lot's own class); recycled content Ni 30.0 %, Co 0.0 %``."""
        parts = [f"{r.element} {100 * r.recycled:.1f} %" for r in self.recycled_content if r.recycled is not None]
        return (f"{self.origin_class} (this lot's own class); recycled content "
                + (", ".join(parts) if parts else "not defined (no tracked element)"))


def _opt(x: float) -> float | None:
    return None if x != x else float(x)  # NaN: undefined share


def _cache_dir(store: Any) -> Path:
    """``<cache>/<url hash>/recycled``: the rule of :func:`lichain.services.snapshot.cache_dir_for`, restated so
    that ``show`` reads cached shares without importing the analysis engine (numba); a test keeps them equal."""
    root = Path(os.environ.get("LICHAIN_CACHE") or Path.home() / ".cache" / "lichain")
    url = store.url
    if store.is_sqlite and "///" in url:
        url = "sqlite:///" + str(Path(url.split("///", 1)[1]).resolve())
    return root / hashlib.sha256(url.encode()).hexdigest()[:20] / "recycled"


def _from_cache(d: Path, head: str, lot_ids: Sequence[str]) -> dict[str, LotOrigin] | None:
    """Origins from the shares cached at chain head ``head``; None when there is no such cache.

    A few lots (``lichain show``) are found in the memory-mapped files without numpy
    (:mod:`lichain.storage.npy_lite`); many at once with numpy."""
    try:
        meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != _FORMAT or meta.get("head") != head:
            return None
        if len(lot_ids) <= 8:
            return _few_from_cache(d, meta, lot_ids)
        import numpy as np

        ids = np.load(d / "lot_ids.npy", mmap_mode="r")
        vals = np.load(d / "shares.npy", mmap_mode="r")
        cls = np.load(d / "origin.npy", mmap_mode="r")
    except (OSError, ValueError):
        return None
    where = {v: i for i, v in enumerate(ids.tolist())}
    pos = [where.get(x.encode()) for x in lot_ids]
    return {lot: _origin(lot, meta["origins"][int(cls[i])], meta["elements"], vals[i])
            for lot, i in zip(lot_ids, pos, strict=True) if i is not None}


def _few_from_cache(d: Path, meta: dict[str, Any], lot_ids: Sequence[str]) -> dict[str, LotOrigin]:
    from lichain.storage.npy_lite import open_npy

    ids, vals, cls = open_npy(d / "lot_ids.npy"), open_npy(d / "shares.npy"), open_npy(d / "origin.npy")
    n_el = len(meta["elements"])
    out = {}
    for lot in lot_ids:
        i = ids.find_bytes(lot.encode())
        if i is None:
            continue
        flat = vals.row(i)
        row = [(flat[2 * k], flat[2 * k + 1]) for k in range(n_el)]
        out[lot] = _origin(lot, meta["origins"][int(cls.row(i)[0])], meta["elements"], row)
    return out


def _origin(lot: str, cls: str, elements: Sequence[str], row: Any) -> LotOrigin:
    """A :class:`LotOrigin` from one row ``[element, (pre, post)]`` of shares (NaN where undefined)."""
    rows = tuple(ElementRecycled(e, _opt(float(row[k][0]) + float(row[k][1])), _opt(float(row[k][0])),
                                 _opt(float(row[k][1])))
                 for k, e in enumerate(elements) if row[k][0] == row[k][0])
    return LotOrigin(lot, cls, rows)


def _save(d: Path, head: str, ids: Any, origins: Sequence[str], elements: Sequence[str], vals: Any,
          cls: Any) -> None:
    import numpy as np

    from lichain.services.snapshot import new_cache_dir, put_in_place

    try:
        tmp = new_cache_dir(d)
    except OSError:  # a cache that cannot be written is only slower next time
        return
    try:
        np.save(tmp / "lot_ids.npy", ids)
        np.save(tmp / "shares.npy", vals)
        np.save(tmp / "origin.npy", cls)
        (tmp / "meta.json").write_text(json.dumps({"format": _FORMAT, "head": head, "elements": list(elements),
                                                   "origins": list(origins)}), encoding="utf-8")
        put_in_place(tmp, d)
    except OSError:  # a cache that cannot be written is only slower next time
        shutil.rmtree(tmp, ignore_errors=True)


#: At most this many lots are computed on their own upstream closures when the cache is of an older head.
_PER_LOT_MAX = 8


def _one_shot(store: Any) -> bool:
    """True for the standard library's reader of a one-shot ``lichain show``: it refreshes the cache instead."""
    from lichain.storage.sqlite_read import SqliteLotReader

    return isinstance(store, SqliteLotReader)


def _per_lot(store: Any, lot_ids: Sequence[str]) -> dict[str, LotOrigin]:
    """:class:`LotOrigin` of a few lots, each computed on its upstream closure alone
    (:func:`lichain.analysis.closure.upstream_part`: the whole snapshot's values bit for bit)."""
    import numpy as np

    from lichain.analysis.closure import upstream_part
    from lichain.analysis.shares import ORIGINS, origin_shares
    from lichain.services.snapshot import snapshot_holding

    pre, post = ORIGINS.index("pre_consumer"), ORIGINS.index("post_consumer")
    out = {}
    for lot in lot_ids:
        snap = snapshot_holding(store, lot)
        try:
            i = snap.index_of(lot)
        except (KeyError, ValueError):
            continue
        part, r, _ = upstream_part(snap, i)
        vals = np.full((len(part.elements), 2), np.nan)
        for k, e in enumerate(part.elements):
            sh = origin_shares(part, e)
            if sh.defined[r]:
                vals[k] = sh.values[r, pre], sh.values[r, post]
        out[lot] = _origin(lot, ORIGINS[int(part.lot_origin[r])], part.elements, vals)
    return out


def lot_origins(store: Any, lot_ids: Sequence[str]) -> dict[str, LotOrigin]:
    """:class:`LotOrigin` of each lot of ``lot_ids`` (ledger spelling).

    Shares are computed on the snapshot for every lot at once and cached by chain head, so a later call (e.g.
    ``lichain show``) reads them without the analysis engine. Lots not in the ledger are left out. Once that
    cache is of an older head, a long-lived process (the service, whose writers move the head many times a
    second) computes a few lots on their own upstream closures instead of the whole ledger again.
    """
    if not lot_ids:
        return {}
    _, head = store.head()
    d = _cache_dir(store)
    got = _from_cache(d, head, lot_ids)
    if got is not None:
        return got
    if len(lot_ids) <= _PER_LOT_MAX and (d / "meta.json").is_file() and not _one_shot(store):
        from lichain.core.lot_reader import LotReader

        return _per_lot(store.full_store() if isinstance(store, LotReader) else store, lot_ids)
    import numpy as np

    from lichain.analysis.shares import ORIGINS, origin_shares
    from lichain.core.lot_reader import LotReader
    from lichain.services.snapshot import load_snapshot

    ls = load_snapshot(store.full_store() if isinstance(store, LotReader) else store)
    snap = ls.snapshot
    pre, post = ORIGINS.index("pre_consumer"), ORIGINS.index("post_consumer")
    vals = np.full((snap.n_lots, len(snap.elements), 2), np.nan)
    for k, e in enumerate(snap.elements):
        sh = origin_shares(snap, e)
        vals[sh.defined, k, 0] = sh.values[sh.defined, pre]
        vals[sh.defined, k, 1] = sh.values[sh.defined, post]
    ids = snap.lot_ids if isinstance(snap.lot_ids, np.ndarray) and snap.lot_ids.dtype.kind == "S" else np.array(
        [v if isinstance(v, bytes) else str(v).encode() for v in snap.lot_ids], dtype=bytes)
    cls = np.asarray(snap.lot_origin, np.int8)
    if ls.head == head:
        _save(d, head, ids, ORIGINS, snap.elements, vals, cls)
    out = {}
    for lot in lot_ids:
        try:
            i = snap.index_of(lot)
        except (KeyError, ValueError):
            continue
        out[lot] = _origin(lot, ORIGINS[int(cls[i])], snap.elements, vals[i])
    return out
