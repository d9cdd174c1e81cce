"""What-if evaluation on a copy-on-write snapshot: changed edges and own burdens → footprints and recycled shares.

Why this exists: R&D and purchasing ask "what if we bought this salt from another refinery, fed more recycled
material, or ran this plant on a PPA?" without writing anything to the ledger. A scenario is a set of changes to
the two inputs of the engine's linear systems (DESIGN §3): the lot graph's upstream rows (who consumes how many kg
of whom) and the own burden of some lots [kg CO2e kg⁻¹]. This module applies them to a *copy-on-write* snapshot —
only the arrays a change touches are new (a supplier swap rewrites ``up_src`` alone; a blend rewrites the upstream
CSR; own-burden changes leave the snapshot untouched) and every other array is shared, read-only, with the
ledger's snapshot — and re-solves with the same kernels as the ledger's own figures
(:func:`lichain.analysis.propagate.intensity`, :func:`lichain.analysis.shares.origin_shares`). Lots that no change
reaches (outside the downstream closure of the changed lots) keep the base figures *exactly*, so a scenario that
changes nothing returns the ledger's numbers bit for bit.

Changes are expressed on the mass-allocation snapshot (edges ``kg = consumed × mass share``, as
:meth:`Snapshot.build` makes them); the footprint is solved on its re-allocation
(:func:`lichain.analysis.footprint.reallocated`), exactly as :mod:`lichain.services.footprint` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lichain.analysis import footprint as fp
from lichain.analysis.propagate import intensity, propagate
from lichain.analysis.shares import ORIGINS, origin_shares
from lichain.analysis.snapshot import F64, I32, I64, Snapshot

__all__ = [
    "Base",
    "EdgeProblem",
    "Outcome",
    "Rewired",
    "blend_sources",
    "downstream",
    "evaluate",
    "recycled_of",
    "swap_sources",
    "with_rows",
]

Bool = npt.NDArray[np.bool_]
HEADLINE = 2  # footprint columns a scenario re-solves: location- and market-based totals (fp.COLUMNS[:2])


class EdgeProblem(ValueError):
    """A change that cannot be made on the graph; ``lot`` is the consuming lot where it failed."""

    def __init__(self, message: str, lot: int) -> None:
        super().__init__(message)
        self.lot = lot


def recycled_of(snap: Snapshot, element: str) -> tuple[F64, Bool]:
    """Physical recycled share (pre- plus post-consumer) of ``element`` in every lot [kg kg⁻¹], and where defined.

    One call of :func:`lichain.analysis.shares.origin_shares` (the circularity figures' own function).
    """
    s = origin_shares(snap, element)
    pre, post = ORIGINS.index("pre_consumer"), ORIGINS.index("post_consumer")
    return s.values[:, pre] + s.values[:, post], s.defined


@dataclass(frozen=True, eq=False)
class Base:
    """The ledger's figures a scenario starts from.

    ``snap`` is the snapshot with mass allocation (as built), ``alloc`` the allocation the footprint used,
    ``own`` and ``x`` the own burden and footprint per kg [kg CO2e kg⁻¹], float64[N, K ≥ 2] in
    :data:`lichain.analysis.footprint.COLUMNS` order, and ``recycled`` the recycled share per element with where
    it is defined (:func:`recycled_of`).
    """

    snap: Snapshot
    alloc: fp.Allocation
    own: F64
    x: F64
    recycled: Mapping[str, tuple[F64, Bool]]


@dataclass(frozen=True, eq=False)
class Outcome:
    """A scenario's figures: footprint ``x`` float64[N, 2] (location, market) [kg CO2e kg⁻¹], recycled shares per
    element, and the lots each reached (``footprint_changed``, ``shares_changed``)."""

    snap: Snapshot
    x: F64
    recycled: Mapping[str, tuple[F64, Bool]]
    footprint_changed: Bool
    shares_changed: Bool


def with_rows(snap: Snapshot, lots: I64, indptr: I64, src: I32, kg: F64) -> Snapshot:
    """``snap`` with the upstream rows of ``lots`` (ascending, unique) replaced by ``(src, kg)`` rows.

    Copy-on-write: per-lot and per-run arrays are shared with ``snap``; the upstream CSR is rewritten and the
    downstream one rebuilt from it. Raises :class:`EdgeProblem` when a new edge would not go from an older to a
    newer lot (creation order is the engine's topological order).
    """
    lots = np.asarray(lots, np.int64)
    n = snap.n_lots
    new_len = np.diff(indptr)
    row_of = np.repeat(lots, new_len)
    bad = np.flatnonzero(np.asarray(src, np.int64) >= row_of)
    if bad.size:
        raise EdgeProblem(f"lot {int(src[bad[0]])} is not older than lot {int(row_of[bad[0]])}", int(row_of[bad[0]]))
    changed = np.zeros(n, np.bool_)
    changed[lots] = True
    lens = np.diff(snap.up_indptr)
    out_len = lens.copy()
    out_len[lots] = new_len
    up_indptr = np.zeros(n + 1, np.int64)
    np.cumsum(out_len, out=up_indptr[1:])
    up_src = np.empty(int(up_indptr[-1]), np.int32)
    up_kg = np.empty(int(up_indptr[-1]), np.float64)
    dst = snap.edge_dst()
    keep = np.flatnonzero(~changed[dst])
    d = dst[keep]
    tgt = up_indptr[d] + (keep - snap.up_indptr[d])
    up_src[tgt] = snap.up_src[keep]
    up_kg[tgt] = snap.up_kg[keep]
    tgt = np.repeat(up_indptr[lots] - indptr[:-1], new_len) + np.arange(int(indptr[-1]))
    up_src[tgt] = src
    up_kg[tgt] = kg
    return _cow(snap, up_indptr, up_src, up_kg)


_TABLES = ("site_ids", "site_country", "site_org", "material_codes", "stage_names")
_GRAPH = ("up_indptr", "up_src", "up_kg", "down_indptr", "down_dst", "down_pos")


def _cow(snap: Snapshot, up_indptr: I64, up_src: I32, up_kg: F64) -> Snapshot:
    """A snapshot sharing every per-lot and per-run array with ``snap``, on new upstream rows."""
    cols = {f: getattr(snap, f) for f in snap.__dataclass_fields__ if f not in ("elements", *_TABLES, *_GRAPH)}
    tables = {f: getattr(snap, f) for f in _TABLES}
    return Snapshot._assemble(cols, tables, snap.elements, up_indptr, up_src, up_kg)


def _pool_lot(pool: I64, consumer: I64) -> I64:
    """The newest pool lot older than each consumer lot (-1 where none)."""
    k = np.searchsorted(pool, consumer) - 1
    return np.where(k >= 0, pool[np.maximum(k, 0)], -1)


@dataclass(frozen=True, eq=False)
class Rewired:
    """A changed graph, the lots whose upstream rows changed, and the consumers left as recorded because no
    replacement lot was older than them."""

    snap: Snapshot
    lots: I64
    skipped: I64


def swap_sources(snap: Snapshot, from_lots: Bool, consumers: Bool, pool: I64, element: int | None = None
                 ) -> Rewired:
    """Every edge from a ``from_lots`` lot into a ``consumers`` lot now comes from a ``pool`` lot.

    The replacement is the newest pool lot older than the consuming lot (what the supplier had made by then);
    a consumer older than every pool lot keeps its recorded inputs (``skipped``). Kg for kg by default (only
    ``up_src`` is rewritten); with ``element`` (a column of ``lot_assay``) the kg are scaled so that the edge
    carries the same mass of that element (a change of route: another material for the same element).
    """
    dst = snap.edge_dst()
    hit = np.flatnonzero(from_lots[snap.up_src] & consumers[dst])
    if not hit.size:
        return Rewired(snap, np.zeros(0, np.int64), np.zeros(0, np.int64))
    new = _pool_lot(np.asarray(pool, np.int64), dst[hit].astype(np.int64))
    skipped = np.unique(dst[hit][new < 0]).astype(np.int64)
    hit, new = hit[new >= 0], new[new >= 0]
    if not hit.size:
        return Rewired(snap, np.zeros(0, np.int64), skipped)
    up_kg = snap.up_kg
    if element is not None:
        f_new = snap.lot_assay[new, element]
        if (f_new <= 0).any():
            raise EdgeProblem("a replacement lot holds none of the element", int(dst[hit][np.argmin(f_new)]))
        up_kg = snap.up_kg.copy()
        up_kg[hit] *= snap.lot_assay[snap.up_src[hit], element] / f_new
    up_src = snap.up_src.copy()
    up_src[hit] = new
    return Rewired(_cow(snap, snap.up_indptr, up_src, up_kg), np.unique(dst[hit]).astype(np.int64), skipped)


def blend_sources(snap: Snapshot, from_lots: Bool, consumers: Bool, pool: I64, share: float) -> Rewired:
    """Each ``consumers`` lot takes fraction ``share`` of what it drew from ``from_lots`` lots from a pool lot.

    Its edges from ``from_lots`` lots are scaled by ``1 − share`` and one edge is added from the newest pool lot
    older than it, carrying ``share × Σ`` of those edges' kg [kg]; a consumer older than every pool lot keeps
    its recorded inputs (``skipped``).
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be within 0..1, got {share}")
    dst = snap.edge_dst()
    hit = from_lots[snap.up_src] & consumers[dst]
    lots = np.unique(dst[hit]).astype(np.int64)
    new = _pool_lot(np.asarray(pool, np.int64), lots)
    skipped = lots[new < 0]
    if skipped.size:
        hit &= ~np.isin(dst, skipped)
    lots, new = lots[new >= 0], new[new >= 0]
    if not lots.size:
        return Rewired(snap, lots, skipped)
    taken = np.bincount(dst[hit], weights=snap.up_kg[hit], minlength=snap.n_lots)[lots]
    starts, ends = snap.up_indptr[lots], snap.up_indptr[lots + 1]
    lens = ends - starts
    pos = np.repeat(starts - np.r_[0, np.cumsum(lens)[:-1]], lens) + np.arange(int(lens.sum()))
    old_src, old_kg = snap.up_src[pos], snap.up_kg[pos] * np.where(hit[pos], 1.0 - share, 1.0)
    indptr = np.zeros(lots.size + 1, np.int64)
    np.cumsum(lens + 1, out=indptr[1:])
    src = np.empty(int(indptr[-1]), np.int32)
    kg = np.empty(int(indptr[-1]), np.float64)
    last = indptr[1:] - 1
    body = np.ones(int(indptr[-1]), np.bool_)
    body[last] = False
    src[body], kg[body] = old_src, old_kg
    src[last], kg[last] = new, share * taken
    return Rewired(with_rows(snap, lots, indptr, src, kg), lots, skipped)


def downstream(snap: Snapshot, seeds: I64) -> Bool:
    """The seeds and every lot made from them, directly or not (one pass of the propagation kernel)."""
    mark = np.zeros(snap.n_lots)
    mark[np.asarray(seeds, np.int64)] = 1.0
    x = propagate(snap.up_indptr, snap.up_src, np.ones(snap.n_edges), mark)
    out: Bool = x > 0
    return out


def evaluate(base: Base, snap: Snapshot | None = None, edge_lots: I64 | None = None,
             own_lots: I64 | None = None, own_delta: F64 | None = None) -> Outcome:
    """Footprints and recycled shares with changed edges and own burdens; unchanged lots keep the base figures.

    Parameters
    ----------
    base : Base
        The ledger's figures.
    snap : Snapshot, optional
        The changed graph (from :func:`swap_sources`, :func:`blend_sources`, :func:`with_rows`); default the base's.
    edge_lots : int64 array, optional
        Lots whose upstream rows differ from the base's.
    own_lots, own_delta : int64[M] and float64[M, 2], optional
        Lots whose own burden changes, and by how much (location, market) [kg CO2e kg⁻¹].

    Returns
    -------
    Outcome
        ``x[o] = own'[o] + Σ kg'/m · x'[in]`` on the changed graph where a change reaches ``o``, else the base's
        ``x[o]`` exactly; recycled shares likewise.
    """
    s = base.snap if snap is None else snap
    edge_lots = np.zeros(0, np.int64) if edge_lots is None else np.asarray(edge_lots, np.int64)
    own_lots = np.zeros(0, np.int64) if own_lots is None else np.asarray(own_lots, np.int64)
    n = s.n_lots
    x = np.ascontiguousarray(base.x[:, :HEADLINE])
    recycled = dict(base.recycled)
    fp_changed = np.zeros(n, np.bool_)
    sh_changed = np.zeros(n, np.bool_)
    if edge_lots.size or own_lots.size:
        fp_changed = downstream(s, np.concatenate([edge_lots, own_lots]))
        own = np.array(base.own[:, :HEADLINE])
        if own_lots.size:
            np.add.at(own, own_lots, np.asarray(own_delta, np.float64).reshape(-1, HEADLINE))
        solved = intensity(fp.reallocated(s, base.alloc), own)
        x = np.where(fp_changed[:, None], solved, x)
    if edge_lots.size:
        sh_changed = downstream(s, edge_lots)
        for e in base.recycled:
            v, d = recycled_of(s, e)
            bv, bd = base.recycled[e]
            recycled[e] = (np.where(sh_changed, v, bv), np.where(sh_changed, d, bd))
    return Outcome(s, x, recycled, fp_changed, sh_changed)
