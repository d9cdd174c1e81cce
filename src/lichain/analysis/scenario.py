"""What-if evaluation on a copy-on-write lot graph: changed edges and own burdens → footprints and recycled shares.

Why this exists: R&D and purchasing ask "what if we bought this salt from another refinery, fed more recycled
material, or ran this plant on a PPA?" without writing anything to the ledger. A scenario changes the two inputs
of the engine's linear systems (DESIGN §3): the lot graph's upstream rows (who consumes how many kg of whom) and
the own burden of some lots [kg CO2e kg⁻¹].

Copy-on-write: a changed graph is a :class:`Graph` (upstream CSR) that shares every array it does not change
with the ledger's snapshot (a supplier swap rewrites ``src`` alone; a blend rewrites the rows); per-lot arrays
are never copied. Evaluation solves only the lots the changes reach (the downstream closure of the changed lots):
they and their direct inputs form a sub-snapshot in which the inputs outside the closure are sources carrying
their ledger figures, and the same kernels as the ledger's figures solve it —
:func:`lichain.analysis.propagate.intensity` for the footprint and :func:`lichain.analysis.shares.shares` for
recycled shares. A lot's row is computed exactly as in a whole-graph pass (same edges, same order), and lots no
change reaches keep the ledger's figures bit for bit; a scenario that changes nothing returns them unchanged.

Changes are expressed on the mass-allocation snapshot (edges ``kg = consumed × mass share``, as
:meth:`Snapshot.build` makes them); footprint rows are re-allocated as
:func:`lichain.analysis.footprint.reallocated` does for the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from lichain.analysis import footprint as fp
from lichain.analysis.propagate import intensity, propagate
from lichain.analysis.shares import ORIGINS, origin_shares, reset_points, shares
from lichain.analysis.snapshot import F64, I32, I64, Snapshot, jit

__all__ = [
    "HEADLINE",
    "Base",
    "EdgeProblem",
    "Graph",
    "Outcome",
    "Rewired",
    "blend_sources",
    "downstream",
    "evaluate",
    "recycled_of",
    "snapshot_of",
    "swap_sources",
    "with_rows",
]

Bool = npt.NDArray[np.bool_]
HEADLINE = 2  # footprint columns a scenario re-solves: location- and market-based totals (fp.COLUMNS[:2])
_TABLES = ("site_ids", "site_country", "site_org", "material_codes", "stage_names")
_GRAPH = ("up_indptr", "up_src", "up_kg", "down_indptr", "down_dst", "down_pos")


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
class Graph:
    """Upstream CSR of a lot graph: row ``o`` holds the inputs ``src`` [lot] and ``kg`` [kg] of lot ``o``."""

    indptr: I64
    src: I32
    kg: F64

    @classmethod
    def of(cls, snap: Snapshot) -> Graph:
        """The snapshot's own graph (arrays shared, not copied)."""
        return cls(snap.up_indptr, snap.up_src, snap.up_kg)

    @property
    def n_lots(self) -> int:
        """Number of lots (rows)."""
        return int(self.indptr.shape[0] - 1)

    def dst(self) -> I32:
        """Output lot of every edge, int32[E]."""
        return np.repeat(np.arange(self.n_lots, dtype=np.int32), np.diff(self.indptr))


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
    element, the lots each reached (``footprint_changed``, ``shares_changed``) and the changed ``graph``."""

    graph: Graph
    x: F64
    recycled: Mapping[str, tuple[F64, Bool]]
    footprint_changed: Bool
    shares_changed: Bool


@dataclass(frozen=True, eq=False)
class Rewired:
    """A changed graph, the lots whose upstream rows changed, and the consumers left as recorded because no
    replacement lot was older than them."""

    graph: Graph
    lots: I64
    skipped: I64


def with_rows(graph: Graph, lots: I64, indptr: I64, src: I32, kg: F64) -> Graph:
    """``graph`` with the upstream rows of ``lots`` (ascending, unique) replaced by ``(src, kg)`` rows.

    Raises :class:`EdgeProblem` when a new edge would not go from an older to a newer lot (creation order is the
    engine's topological order).
    """
    lots = np.asarray(lots, np.int64)
    n = graph.n_lots
    new_len = np.diff(indptr)
    row_of = np.repeat(lots, new_len)
    bad = np.flatnonzero(np.asarray(src, np.int64) >= row_of)
    if bad.size:
        raise EdgeProblem(f"lot {int(src[bad[0]])} is not older than lot {int(row_of[bad[0]])}", int(row_of[bad[0]]))
    changed = np.zeros(n, np.bool_)
    changed[lots] = True
    out_len = np.diff(graph.indptr)
    out_len[lots] = new_len
    up_indptr = np.zeros(n + 1, np.int64)
    np.cumsum(out_len, out=up_indptr[1:])
    up_src = np.empty(int(up_indptr[-1]), np.int32)
    up_kg = np.empty(int(up_indptr[-1]), np.float64)
    dst = graph.dst()
    keep = np.flatnonzero(~changed[dst])
    d = dst[keep]
    tgt = up_indptr[d] + (keep - graph.indptr[d])
    up_src[tgt] = graph.src[keep]
    up_kg[tgt] = graph.kg[keep]
    tgt = np.repeat(up_indptr[lots] - indptr[:-1], new_len) + np.arange(int(indptr[-1]))
    up_src[tgt] = src
    up_kg[tgt] = kg
    return Graph(up_indptr, up_src, up_kg)


def snapshot_of(snap: Snapshot, graph: Graph) -> Snapshot:
    """A full snapshot on ``graph`` sharing every per-lot and per-run array with ``snap`` (for checks and export)."""
    if graph.indptr is snap.up_indptr and graph.src is snap.up_src and graph.kg is snap.up_kg:
        return snap
    cols = {f: getattr(snap, f) for f in snap.__dataclass_fields__ if f not in ("elements", *_TABLES, *_GRAPH)}
    return Snapshot._assemble(cols, {f: getattr(snap, f) for f in _TABLES}, snap.elements, graph.indptr,
                              graph.src, graph.kg)


@jit
def _swap(indptr: I64, src: I32, kg: F64, from_lots: Bool, consumers: Bool, pool: I64, f_old: F64, f_new: F64,
          by_element: bool) -> tuple[I32, F64, Bool, Bool]:
    """One pass over the rows: edges from ``from_lots`` into ``consumers`` come from the newest older pool lot."""
    n = indptr.shape[0] - 1
    out_src = src.copy()
    out_kg = kg.copy() if by_element else np.zeros(0)  # rescaled kg, only for a change of route
    changed = np.zeros(n, np.bool_)
    skipped = np.zeros(n, np.bool_)
    q = -1  # pool[q] is the newest pool lot older than o
    for o in range(n):
        while q + 1 < pool.shape[0] and pool[q + 1] < o:
            q += 1
        if not consumers[o]:
            continue
        for j in range(indptr[o], indptr[o + 1]):
            if from_lots[src[j]]:
                if q < 0:
                    skipped[o] = True
                    continue
                new = pool[q]
                if by_element:
                    out_kg[j] = kg[j] * f_old[src[j]] / f_new[new]
                out_src[j] = new
                changed[o] = True
    return out_src, out_kg, changed, skipped


def swap_sources(snap: Snapshot, graph: Graph, from_lots: Bool, consumers: Bool, pool: I64,
                 element: int | None = None) -> Rewired:
    """Every edge from a ``from_lots`` lot into a ``consumers`` lot now comes from a ``pool`` lot.

    The replacement is the newest pool lot older than the consuming lot (what the supplier had made by then);
    a consumer older than every pool lot keeps its recorded inputs (``skipped``). Kg for kg by default (only
    ``src`` is rewritten); with ``element`` (a column of ``snap.lot_assay``) the kg are scaled so that the edge
    carries the same mass of that element (a change of route: another material for the same element).
    """
    pool = np.sort(np.asarray(pool, np.int64))
    f = np.ascontiguousarray(snap.lot_assay[:, element if element is not None else 0])
    if element is not None and pool.size and (f[pool] <= 0).any():
        raise EdgeProblem("a replacement lot holds none of the element", int(pool[np.argmin(f[pool])]))
    src, kg, changed, skipped = _swap(graph.indptr, graph.src, graph.kg, np.ascontiguousarray(from_lots),
                                      np.ascontiguousarray(consumers), pool, f, f, element is not None)
    skipped &= ~changed
    lots = np.flatnonzero(changed).astype(np.int64)
    if not lots.size:
        return Rewired(graph, lots, np.flatnonzero(skipped).astype(np.int64))
    return Rewired(Graph(graph.indptr, src, kg if element is not None else graph.kg), lots,
                   np.flatnonzero(skipped).astype(np.int64))


@jit
def _blend(indptr: I64, src: I32, kg: F64, from_lots: Bool, consumers: Bool, pool: I64, share: float
           ) -> tuple[I64, I32, F64, Bool, Bool]:
    """One pass: blended rows get their ``from_lots`` edges × (1 − share) and one pool edge of share × their kg."""
    n = indptr.shape[0] - 1
    take = np.full(n, -1, np.int64)
    skipped = np.zeros(n, np.bool_)
    out_indptr = np.zeros(n + 1, np.int64)
    q = -1
    for o in range(n):
        while q + 1 < pool.shape[0] and pool[q + 1] < o:
            q += 1
        extra = 0
        if consumers[o]:
            for j in range(indptr[o], indptr[o + 1]):
                if from_lots[src[j]]:
                    if q < 0:
                        skipped[o] = True
                    else:
                        take[o] = pool[q]
                        extra = 1
                    break
        out_indptr[o + 1] = out_indptr[o] + indptr[o + 1] - indptr[o] + extra
    out_src = np.empty(out_indptr[n], np.int32)
    out_kg = np.empty(out_indptr[n], np.float64)
    for o in range(n):
        p = out_indptr[o]
        taken = 0.0
        for j in range(indptr[o], indptr[o + 1]):
            w = kg[j]
            if take[o] >= 0 and from_lots[src[j]]:
                taken += w
                w = w * (1.0 - share)
            out_src[p] = src[j]
            out_kg[p] = w
            p += 1
        if take[o] >= 0:
            out_src[p] = take[o]
            out_kg[p] = share * taken
    return out_indptr, out_src, out_kg, take >= 0, skipped


def blend_sources(graph: Graph, from_lots: Bool, consumers: Bool, pool: I64, share: float) -> Rewired:
    """Each ``consumers`` lot takes fraction ``share`` of what it drew from ``from_lots`` lots from a pool lot.

    Its edges from ``from_lots`` lots are scaled by ``1 − share`` and one edge is added from the newest pool lot
    older than it, carrying ``share × Σ`` of those edges' kg [kg]; a consumer older than every pool lot keeps
    its recorded inputs (``skipped``).
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be within 0..1, got {share}")
    indptr, src, kg, changed, skipped = _blend(graph.indptr, graph.src, graph.kg, np.ascontiguousarray(from_lots),
                                               np.ascontiguousarray(consumers), np.sort(np.asarray(pool, np.int64)),
                                               float(share))
    lots = np.flatnonzero(changed).astype(np.int64)
    if not lots.size:
        return Rewired(graph, lots, np.flatnonzero(skipped).astype(np.int64))
    return Rewired(Graph(indptr, src, kg), lots, np.flatnonzero(skipped).astype(np.int64))


def downstream(graph: Graph, seeds: I64) -> Bool:
    """The seeds and every lot made from them, directly or not (one pass of the propagation kernel)."""
    mark = np.zeros(graph.n_lots)
    mark[np.asarray(seeds, np.int64)] = 1.0
    x = propagate(graph.indptr, graph.src, np.ones(graph.src.shape[0]), mark)
    out: Bool = x > 0
    return out


def _reach(g: Graph, edge_lots: I64, own_lots: I64) -> tuple[Bool, Bool]:
    """Lots reached by any change (footprint) and by edge changes (shares), in one two-column pass."""
    mark = np.zeros((g.n_lots, 2))
    mark[edge_lots] = 1.0
    mark[own_lots, 0] = 1.0
    x = propagate(g.indptr, g.src, np.ones(g.src.shape[0]), mark)
    return x[:, 0] > 0, x[:, 1] > 0


def _sub(snap: Snapshot, graph: Graph, lots: Bool, scale: F64 | None) -> tuple[Snapshot, I64, Bool, I64]:
    """The sub-snapshot of the ``lots`` mask (downstream-closed) and their direct inputs, the inputs as sources.

    Returns it, the original numbers of its lots, which of them are solved (the others are the boundary
    inputs), and the sub-snapshot number of every original lot (-1 outside). ``scale`` optionally rescales each
    solved row's kg (re-allocation).
    """
    rows = np.flatnonzero(lots)
    starts, ends = graph.indptr[rows], graph.indptr[rows + 1]
    lens = ends - starts
    pos = np.repeat(starts - np.r_[0, np.cumsum(lens)[:-1]], lens) + np.arange(int(lens.sum()))
    keep = lots.copy()
    keep[graph.src[pos]] = True
    b = np.flatnonzero(keep)
    number = np.cumsum(keep, dtype=np.int64) - 1
    solved = lots[b]
    sub_len = np.zeros(b.shape[0], np.int64)
    sub_len[solved] = lens
    indptr = np.zeros(b.shape[0] + 1, np.int64)
    np.cumsum(sub_len, out=indptr[1:])
    kg = graph.kg[pos] if scale is None else graph.kg[pos] * np.repeat(scale[rows], lens)
    cols = {f: getattr(snap, f)[b] for f in ("lot_mass_kg", "lot_assay", "lot_origin")}
    n = b.shape[0]
    none = np.zeros(0, np.int32)
    # Solved upstream only: per-lot columns the kernels do not read are left blank (the downstream CSR is built
    # only if read, and nothing here reads it); the sub-snapshot never leaves this module.
    sub = Snapshot(elements=snap.elements, lot_ids=b, lot_run=np.full(n, -1, np.int32), lot_site=cols["lot_origin"],
                   lot_material=cols["lot_origin"], lot_stage=cols["lot_origin"], lot_time=np.zeros(n, np.int64),
                   run_time=np.zeros(0, np.int64), run_site=none, run_loss_kg=np.zeros((0, len(snap.elements))),
                   site_ids=(), site_country=(), site_org=(), material_codes=(), stage_names=(), up_indptr=indptr,
                   up_src=number[graph.src[pos]].astype(np.int32), up_kg=kg, **cols)
    return sub, b.astype(np.int64), solved, number


def _realloc_scale(base: Base) -> F64 | None:
    """Per-lot factor turning mass-allocated edge kg into the footprint's allocation (None: mass allocation)."""
    if not base.alloc.economic.any():
        return None
    s = base.snap
    mass = fp.allocation(s.lot_run, s.lot_mass_kg, s.n_runs)
    out: F64 = np.divide(base.alloc.factor, mass.factor, out=np.ones(s.n_lots), where=mass.factor > 0)
    return out


def evaluate(base: Base, graph: Graph | None = None, edge_lots: I64 | None = None,
             own_lots: I64 | None = None, own_delta: F64 | None = None) -> Outcome:
    """Footprints and recycled shares with changed edges and own burdens; unreached lots keep the base figures.

    Parameters
    ----------
    base : Base
        The ledger's figures.
    graph : Graph, optional
        The changed graph (from :func:`swap_sources`, :func:`blend_sources`, :func:`with_rows`); default the base's.
    edge_lots : int64 array, optional
        Lots whose upstream rows differ from the base's.
    own_lots, own_delta : int64[M] and float64[M, 2], optional
        Lots whose own burden changes, and by how much (location, market) [kg CO2e kg⁻¹].

    Returns
    -------
    Outcome
        ``x[o] = own'[o] + Σ kg'/m · x'[in]`` where a change reaches ``o``, else the base's ``x[o]`` exactly;
        recycled shares likewise.
    """
    g = Graph.of(base.snap) if graph is None else graph
    edge_lots = np.zeros(0, np.int64) if edge_lots is None else np.asarray(edge_lots, np.int64)
    own_lots = np.zeros(0, np.int64) if own_lots is None else np.asarray(own_lots, np.int64)
    n = g.n_lots
    x = np.ascontiguousarray(base.x[:, :HEADLINE])
    recycled = dict(base.recycled)
    fp_changed = np.zeros(n, np.bool_)
    sh_changed = np.zeros(n, np.bool_)
    if edge_lots.size or own_lots.size:
        fp_changed, sh_changed = _reach(g, edge_lots, own_lots)
        sub, b, solved, number = _sub(base.snap, g, fp_changed, _realloc_scale(base))
        own = np.where(solved[:, None], base.own[b, :HEADLINE], base.x[b, :HEADLINE])  # boundary: their footprint
        if own_lots.size:
            np.add.at(own, number[own_lots], np.asarray(own_delta, np.float64).reshape(-1, HEADLINE))
        x = x.copy()
        x[fp_changed] = intensity(sub, np.ascontiguousarray(own))[solved]
    if edge_lots.size and base.recycled:
        sub, b, solved, _ = _sub(base.snap, g, sh_changed, None)
        reset = reset_points(sub) | ~solved
        recycled_class = (sub.lot_origin != 0).astype(np.float64)
        for e in base.recycled:
            bv, bd = base.recycled[e]
            k = sub.element_index(e)
            assay = sub.lot_assay.copy()
            assay[~solved & ~bd[b], k] = 0.0  # an input without a defined share carries no weight, as in the ledger
            s = shares(replace(sub, lot_assay=assay), e, np.where(solved, recycled_class, np.nan_to_num(bv[b])),
                       reset)
            v, d = bv.copy(), bd.copy()
            v[sh_changed], d[sh_changed] = s.values[solved], s.defined[solved]
            recycled[e] = (v, d)
    return Outcome(g, x, recycled, fp_changed, sh_changed)
