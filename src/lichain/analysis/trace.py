"""Trace one lot: where its elements came from (upstream) or went (downstream, recall), with shares.

Compliance asks, for one cathode lot, which mines, refineries and recyclers it came from per element and in what
share; a recall asks which customers' lots hold a given mine lot's nickel. Both are a closure of one lot over the
CSR adjacency (a compiled BFS restricted to the closure) followed by a dynamic programme over the closure in
creation order (closure lots sorted, so every lot is final before it is used). Per element e, the flow through
an edge i → o is the element mass the input brings, so the fraction of lot o's element that came from input i is

.. math:: \\varphi_{io} = \\frac{\\mathrm{kg}_{io}\\, f_{e,i}}{\\sum_{i' \\to o} \\mathrm{kg}_{i'o}\\, f_{e,i'}}

and the contribution of an ancestor a to lot o is the sum over paths of the product of φ. Contributions are
fractions of what *arrived* in each lot, so declared losses upstream do not break conservation: the
contributions of the source lots (and of lots at the depth limit) sum to 1 per element whenever o holds the
element. Element kilograms are contribution × the element mass of the traced lot (upstream) or of the reached
lot (downstream). Downstream contributions are the same numbers seen from the other end: the share of a's
element in a descendant b equals b's upstream contribution of a.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from lichain.analysis.shares import nan_to_none
from lichain.analysis.snapshot import F64, I32, I64, Snapshot, jit

__all__ = ["Trace", "aggregate", "trace_down", "trace_graph", "trace_up"]

Bool = npt.NDArray[np.bool_]
_NO_LIMIT = np.iinfo(np.int64).max
_local = threading.local()


@jit
def _sort(a: I32, bits: int) -> I32:
    """Sort non-negative int32 values below ``2**bits``: insertion sort when short, else LSD radix (11 bits)."""
    n = a.shape[0]
    if n <= 48:
        for i in range(1, n):
            v, j = a[i], i - 1
            while j >= 0 and a[j] > v:
                a[j + 1] = a[j]
                j -= 1
            a[j + 1] = v
        return a
    tmp = np.empty_like(a)
    count = np.empty(2049, np.int64)
    for shift in range(0, bits, 11):
        count[:] = 0
        for i in range(n):
            count[((a[i] >> shift) & 2047) + 1] += 1
        for b in range(2048):
            count[b + 1] += count[b]
        for i in range(n):
            d = (a[i] >> shift) & 2047
            tmp[count[d]] = a[i]
            count[d] += 1
        a, tmp = tmp, a
    return a


@jit
def _closure(indptr: I64, nbr: I32, root: int, max_depth: int, t_max: int, lot_time: I64,
             mark: I32) -> tuple[I32, I32]:
    """BFS from ``root`` over one CSR; closure lots sorted ascending with their BFS depth.

    During the walk ``mark[v]`` holds depth + 1 (0 = unseen); on return it holds the position in the sorted
    closure + 1, for the dynamic programme (callers reset it to 0).
    """
    nodes = np.empty(64, np.int32)
    nodes[0], mark[root], cnt, head = root, 1, 1, 0
    while head < cnt:
        v = nodes[head]
        head += 1
        d = mark[v]  # depth + 1
        if d - 1 == max_depth:
            continue
        for j in range(indptr[v], indptr[v + 1]):
            u = nbr[j]
            if mark[u] != 0 or (t_max != _NO_LIMIT and lot_time[u] > t_max):
                continue
            if cnt == nodes.shape[0]:
                nodes = np.concatenate((nodes, np.empty(cnt, np.int32)))
            mark[u] = d + 1
            nodes[cnt] = u
            cnt += 1
    nodes = _sort(nodes[:cnt].copy(), 1 + int(np.log2(max(indptr.shape[0], 2))))
    depth = np.empty(cnt, np.int32)
    for p in range(cnt):
        depth[p] = mark[nodes[p]] - 1
        mark[nodes[p]] = p + 1
    return nodes, depth


@jit
def _trace_up(indptr: I64, src: I32, kg: F64, mass: F64, assay: F64, lot_time: I64, root: int, max_depth: int,
              t_max: int, mark: I32) -> tuple[I32, I32, F64, F64, Bool]:
    nodes, depth = _closure(indptr, src, root, max_depth, t_max, lot_time, mark)
    cnt, n_el = nodes.shape[0], assay.shape[1]
    share = np.zeros((cnt, n_el))
    leaf = depth == max_depth
    den = np.zeros(n_el)
    for e in range(n_el):
        share[cnt - 1, e] = 1.0 if assay[root, e] > 0.0 else 0.0
    for p in range(cnt - 1, -1, -1):
        v = nodes[p]
        if leaf[p]:
            continue
        den[:] = 0.0
        leaf[p] = True
        for j in range(indptr[v], indptr[v + 1]):
            s = src[j]
            if t_max == _NO_LIMIT or lot_time[s] <= t_max:
                leaf[p] = False
                for e in range(n_el):
                    den[e] += kg[j] * assay[s, e]
        for e in range(n_el):  # den becomes share / den: the per-kg-of-element weight of this lot's inputs
            den[e] = share[p, e] / den[e] if den[e] > 0.0 else 0.0
        for j in range(indptr[v], indptr[v + 1]):
            s = src[j]
            if t_max == _NO_LIMIT or lot_time[s] <= t_max:
                q = mark[s] - 1
                for e in range(n_el):
                    share[q, e] += den[e] * kg[j] * assay[s, e]
    ekg = np.empty((cnt, n_el))
    for p in range(cnt):
        mark[nodes[p]] = 0
        for e in range(n_el):
            ekg[p, e] = share[p, e] * mass[root] * assay[root, e]
    return nodes, depth, share, ekg, leaf


@jit
def _trace_down(down_indptr: I64, down_dst: I32, down_pos: I32, up_indptr: I64, up_src: I32, kg: F64, mass: F64,
                assay: F64, lot_time: I64, root: int, max_depth: int, t_max: int,
                mark: I32) -> tuple[I32, I32, F64, F64, Bool]:
    nodes, depth = _closure(down_indptr, down_dst, root, max_depth, t_max, lot_time, mark)
    cnt, n_el = nodes.shape[0], assay.shape[1]
    share = np.zeros((cnt, n_el))
    leaf = depth == max_depth
    inv = np.zeros((cnt, n_el))  # 1 / element mass arriving in each closure lot (all its inputs)
    for p in range(1, cnt):
        v = nodes[p]
        for j in range(up_indptr[v], up_indptr[v + 1]):
            s = up_src[j]
            if t_max == _NO_LIMIT or lot_time[s] <= t_max:
                for e in range(n_el):
                    inv[p, e] += kg[j] * assay[s, e]
        for e in range(n_el):  # a lot holding none of the element takes no share of it
            inv[p, e] = 1.0 / inv[p, e] if inv[p, e] > 0.0 and assay[v, e] > 0.0 else 0.0
    for e in range(n_el):
        share[0, e] = 1.0 if assay[root, e] > 0.0 else 0.0
    for p in range(cnt):
        v = nodes[p]
        if leaf[p]:
            continue
        leaf[p] = True
        for j in range(down_indptr[v], down_indptr[v + 1]):
            u = down_dst[j]
            if t_max != _NO_LIMIT and lot_time[u] > t_max:
                continue
            leaf[p] = False
            q = mark[u] - 1
            k = kg[down_pos[j]]
            for e in range(n_el):
                share[q, e] += share[p, e] * k * assay[v, e] * inv[q, e]
    ekg = np.empty((cnt, n_el))
    for p in range(cnt):
        v = nodes[p]
        mark[v] = 0
        for e in range(n_el):
            ekg[p, e] = share[p, e] * mass[v] * assay[v, e]
    return nodes, depth, share, ekg, leaf


def _mark(n: int) -> I32:
    """A zeroed per-thread scratch of at least ``n`` int32 (kernels leave it zeroed)."""
    m: I32 | None = getattr(_local, "mark", None)
    if m is None or m.shape[0] < n:
        m = np.zeros(n, np.int32)
        _local.mark = m
    return m


@dataclass(frozen=True, eq=False)
class Trace:
    """The closure of one lot with per-element contributions.

    ``lots`` int32[C] ascending (the root included), ``depth`` its BFS distance from the root [edges], ``share``
    float64[C, E]: upstream, the fraction of the root's element e that came from / passed through each lot;
    downstream, the fraction of each lot's element e that came from the root. ``element_kg`` [kg] is that share
    times the element mass of the root (upstream) or of the lot (downstream). ``leaf`` marks lots not expanded
    (sources, lots at the depth limit, or end lots downstream): upstream, leaf shares sum to 1 per element.
    """

    root: int
    direction: str
    elements: tuple[str, ...]
    lots: I32
    depth: I32
    share: F64
    element_kg: F64
    leaf: Bool
    t_max: int = _NO_LIMIT

    def __len__(self) -> int:
        return int(self.lots.shape[0])

    def select(self, keep: Bool) -> Trace:
        """The same trace restricted to the lots where ``keep`` is true."""
        return Trace(self.root, self.direction, self.elements, self.lots[keep], self.depth[keep], self.share[keep],
                     self.element_kg[keep], self.leaf[keep], self.t_max)


def _prepare(snap: Snapshot, lot: int | str, max_depth: int | None, as_of: int | None) -> tuple[int, int, int]:
    root = snap.index_of(lot) if isinstance(lot, str) else int(lot)
    if not 0 <= root < snap.n_lots:
        raise IndexError(f"lot {root} out of range 0..{snap.n_lots - 1}")
    t_max = _NO_LIMIT if as_of is None else int(as_of)
    if as_of is not None and snap.lot_time[root] > t_max:
        raise ValueError(f"lot {snap.lot_id(root)} did not exist at {as_of}")
    if max_depth is not None and max_depth < 0:
        raise ValueError("max_depth must be ≥ 0")
    return root, -1 if max_depth is None else int(max_depth), t_max


def _stages(snap: Snapshot, t: Trace, stages: Iterable[str | int] | None) -> Trace:
    if stages is None:
        return t
    codes = [snap.stage_names.index(s) if isinstance(s, str) else int(s) for s in stages]
    return t.select(np.isin(snap.lot_stage[t.lots], codes) | (t.lots == t.root))


def trace_up(snap: Snapshot, lot: int | str, *, max_depth: int | None = None,
             stages: Iterable[str | int] | None = None, as_of: int | None = None) -> Trace:
    """Upstream closure of ``lot`` with the per-element contribution of every ancestor.

    Parameters
    ----------
    snap
        The lot graph.
    lot
        Lot number or external lot id.
    max_depth
        Keep lots at most this many edges away; lots at the limit are leaves (their inputs are not followed).
    stages
        Report only lots of these stages (names or codes); the computation still runs over the whole closure.
    as_of
        Epoch seconds: ignore lots produced after this time.

    Returns
    -------
    :class:`Trace` with ``share[:, e]`` = fraction of the root's element e that came from (sources) or passed
    through (intermediates) each lot, and ``element_kg`` = share × element mass of the root [kg].
    """
    root, lim, t_max = _prepare(snap, lot, max_depth, as_of)
    r = _trace_up(snap.up_indptr, snap.up_src, snap.up_kg, snap.lot_mass_kg, snap.lot_assay, snap.lot_time, root,
                  lim, t_max, _mark(snap.n_lots))
    return _stages(snap, Trace(root, "up", snap.elements, *r, t_max=t_max), stages)


def trace_down(snap: Snapshot, lot: int | str, *, max_depth: int | None = None,
               stages: Iterable[str | int] | None = None, as_of: int | None = None) -> Trace:
    """Downstream closure of ``lot`` (recall): where its elements ended up, in which lots, how many kg.

    Parameters are those of :func:`trace_up`. ``share[:, e]`` is the fraction of each descendant's element e
    that came from the root, ``element_kg`` = share × the descendant's element mass [kg]. Leaves are the lots
    not consumed further (stock, products shipped) or at the depth limit.
    """
    root, lim, t_max = _prepare(snap, lot, max_depth, as_of)
    r = _trace_down(snap.down_indptr, snap.down_dst, snap.down_pos, snap.up_indptr, snap.up_src, snap.up_kg,
                    snap.lot_mass_kg, snap.lot_assay, snap.lot_time, root, lim, t_max, _mark(snap.n_lots))
    return _stages(snap, Trace(root, "down", snap.elements, *r, t_max=t_max), stages)


_KEYS = ("site", "country", "organisation", "material", "stage", "lot")


def _labels(snap: Snapshot, lots: I32, by: str) -> list[str]:
    site = snap.lot_site[lots]
    if by == "site":
        return [snap.site_ids[s] if s >= 0 else "" for s in site]
    if by == "country":
        return [snap.site_country[s] if s >= 0 else "" for s in site]
    if by == "organisation":
        return [snap.site_org[s] if s >= 0 else "" for s in site]
    if by == "material":
        return [snap.material_codes[m] for m in snap.lot_material[lots]]
    if by == "stage":
        return [snap.stage_names[s] for s in snap.lot_stage[lots]]
    if by == "lot":
        return [snap.lot_id(int(v)) for v in lots]
    raise ValueError(f"by must be one of {', '.join(_KEYS)}, not {by!r}")


def aggregate(snap: Snapshot, trace: Trace, by: str = "site", *, leaves_only: bool = True) -> dict[str, Any]:
    """Sum a trace's shares and element kg by site, country, organisation, material, stage or lot.

    With ``leaves_only`` (default) only leaf lots count (the root too when it is a leaf, e.g. a mine lot traced
    upstream), so upstream the shares of each element sum to 1 over the groups; otherwise every lot but the root
    counts, i.e. material once per lot it passed through (sums can exceed 1). Downstream, sum ``element_kg``.

    Returns
    -------
    ``{label: {"share": {element: fraction}, "element_kg": {element: kg}, "lots": count}}``, largest first.
    """
    keep = trace.leaf if leaves_only else trace.lots != trace.root
    labels = np.array(_labels(snap, trace.lots[keep], by) or [""], dtype=object)[: int(keep.sum())]
    uniq, inv = np.unique(labels, return_inverse=True)
    n = uniq.shape[0]
    sh = np.zeros((n, len(trace.elements)))
    kg = np.zeros_like(sh)
    np.add.at(sh, inv, trace.share[keep])
    np.add.at(kg, inv, trace.element_kg[keep])
    count = np.bincount(inv, minlength=n)
    order = np.argsort(-kg.sum(axis=1), kind="stable")
    return {str(uniq[g]): {"share": dict(zip(trace.elements, map(float, sh[g]), strict=True)),
                           "element_kg": dict(zip(trace.elements, map(float, kg[g]), strict=True)),
                           "lots": int(count[g])} for g in order}


def _row_edges(snap: Snapshot, rows: I32) -> tuple[I64, I64]:
    """Positions of all upstream edges of ``rows`` and the index (into ``rows``) of the row of each."""
    starts, lens = snap.up_indptr[rows], np.diff(snap.up_indptr)[rows]
    owner = np.repeat(np.arange(rows.shape[0]), lens)
    return np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum())), owner


def trace_graph(snap: Snapshot, trace: Trace) -> dict[str, list[dict[str, Any]]]:
    """Nodes and edges of a trace for dashboards (Sankey of element flows), JSON-safe.

    Edges are the lot-to-lot edges inside the closure with their lot mass [kg] and the element mass of the
    traced flow they carry [kg]: upstream, the part of the root's element that went through the edge;
    downstream, the part of the root's element the edge delivered.
    """
    lots, up = trace.lots, trace.direction == "up"
    rows = lots[~trace.leaf] if up else lots
    e_pos, owner = _row_edges(snap, rows)
    src, kg = snap.up_src[e_pos], snap.up_kg[e_pos]
    arrived = snap.lot_time[src] <= trace.t_max
    den = np.zeros((rows.shape[0], len(trace.elements)))
    np.add.at(den, owner[arrived], kg[arrived, None] * snap.lot_assay[src[arrived]])
    ps = np.minimum(np.searchsorted(lots, src), lots.shape[0] - 1)
    ok = arrived & (lots[ps] == src) & (True if up else ~trace.leaf[ps])
    e_pos, owner, src, kg, ps = e_pos[ok], owner[ok], src[ok], kg[ok], ps[ok]
    dst = rows[owner]
    pd = np.searchsorted(lots, dst)
    den = den[owner]
    phi = np.divide(kg[:, None] * snap.lot_assay[src], den, out=np.zeros_like(den), where=den > 0)
    if up:
        flow = trace.share[pd] * phi * snap.element_kg_of(trace.root)
    else:
        flow = trace.share[ps] * phi * snap.element_kg[dst]
    el = trace.elements

    def per_element(v: F64) -> Any:
        return nan_to_none(dict(zip(el, v.tolist(), strict=True)))

    nodes = [{"lot": snap.lot_id(int(v)), "index": int(v), "depth": int(trace.depth[p]),
              "stage": snap.stage_names[snap.lot_stage[v]] if snap.stage_names else int(snap.lot_stage[v]),
              "site": snap.site_ids[snap.lot_site[v]] if snap.site_ids else int(snap.lot_site[v]),
              "leaf": bool(trace.leaf[p]), "share": per_element(trace.share[p]),
              "element_kg": per_element(trace.element_kg[p])} for p, v in enumerate(lots)]
    edges = [{"src": snap.lot_id(int(a)), "dst": snap.lot_id(int(b)), "kg": float(k), "element_kg": per_element(f)}
             for a, b, k, f in zip(src, dst, kg, flow, strict=True)]
    return {"nodes": nodes, "edges": edges}
