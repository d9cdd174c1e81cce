"""The scenario engine: graph changes by hand on a tiny chain, copy-on-write sharing, and evaluation equal to a full
recomputation on the changed graph (random ledgers with the awkward cases: multi-output runs, repeated inputs,
lots without an element, economic allocation)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lichain.analysis import footprint as fp
from lichain.analysis import scenario as sc
from lichain.analysis.propagate import intensity
from lichain.analysis.snapshot import LedgerArrays, Snapshot
from lichain.analysis.synth import random_ledger


def tiny() -> Snapshot:
    """Lots 0 (supplier A, Ni 0.2), 1 (supplier B, Ni 0.25), 2 (other input), 3 (recycled pool, Ni 0.2),
    4 made by run 0 from 10 kg of lot 0, 6 kg of lot 0 again and 4 kg of lot 2."""
    assay = np.zeros((5, 1))
    assay[[0, 3], 0], assay[1, 0], assay[4, 0] = 0.2, 0.25, 0.16
    a = LedgerArrays(("Ni",), ["a", "b", "c", "rec", "out"], np.array([100.0, 100, 100, 100, 20]), assay,
                     np.array([-1, -1, -1, -1, 0], np.int32), np.array([0, 1, 2, 3, 4], np.int32),
                     np.zeros(5, np.int32), np.zeros(5, np.int8), np.array([0, 0, 0, 2, 0], np.int8),
                     np.arange(5, dtype=np.int64), np.array([4], np.int64), np.array([4], np.int32),
                     np.zeros(3, np.int32), np.array([0, 0, 2], np.int32), np.array([10.0, 6.0, 4.0]),
                     np.zeros((1, 1)))
    return Snapshot.build(a)


def row(g: sc.Graph, lot: int) -> list[tuple[int, float]]:
    return [(int(g.src[j]), float(g.kg[j])) for j in range(int(g.indptr[lot]), int(g.indptr[lot + 1]))]


def test_swap_is_kg_for_kg_and_rewrites_only_the_sources() -> None:
    s = tiny()
    g = sc.Graph.of(s)
    r = sc.swap_sources(s, g, s.lot_site == 0, np.ones(5, np.bool_), np.array([1]))
    assert row(r.graph, 4) == [(1, 10.0), (1, 6.0), (2, 4.0)]
    assert r.lots.tolist() == [4] and r.skipped.size == 0
    assert r.graph.indptr is g.indptr and r.graph.kg is g.kg  # copy-on-write: only src is new
    assert row(g, 4) == [(0, 10.0), (0, 6.0), (2, 4.0)]  # the ledger's graph is untouched


def test_a_route_change_conserves_the_element() -> None:
    s = tiny()
    r = sc.swap_sources(s, sc.Graph.of(s), s.lot_site == 0, np.ones(5, np.bool_), np.array([1]), element=0)
    assert row(r.graph, 4) == [(1, 10.0 * 0.2 / 0.25), (1, 6.0 * 0.2 / 0.25), (2, 4.0)]


def test_blend_takes_a_share_from_the_pool_and_skips_consumers_older_than_it() -> None:
    s = tiny()
    r = sc.blend_sources(sc.Graph.of(s), s.lot_site == 0, np.ones(5, np.bool_), np.array([3]), 0.25)
    assert row(r.graph, 4) == [(0, 7.5), (0, 4.5), (2, 4.0), (3, 0.25 * 16.0)]
    none = sc.blend_sources(sc.Graph.of(s), s.lot_site == 0, np.ones(5, np.bool_), np.array([4]), 0.25)
    assert none.lots.size == 0 and none.skipped.tolist() == [4]  # pool lot 4 is not older than consumer 4


def test_evaluate_by_hand_on_the_tiny_chain() -> None:
    s = tiny()
    own = np.zeros((5, 2))
    own[:4] = [[1.0, 1.0], [2.0, 0.5], [3.0, 3.0], [0.1, 0.1]]
    alloc = fp.allocation(s.lot_run, s.lot_mass_kg, s.n_runs)
    x = intensity(s, own)
    base = sc.Base(s, alloc, own, x, {"Ni": sc.recycled_of(s, "Ni")})
    assert x[4, 0] == pytest.approx((16 * 1.0 + 4 * 3.0) / 20)
    r = sc.blend_sources(sc.Graph.of(s), s.lot_site == 0, np.ones(5, np.bool_), np.array([3]), 0.25)
    out = sc.evaluate(base, r.graph, r.lots)
    assert out.x[4, 0] == pytest.approx((12 * 1.0 + 4 * 3.0 + 4 * 0.1) / 20, rel=1e-15)
    # Ni: 12 kg × 0.2 virgin, 4 kg × 0.2 post-consumer; lot 2 has no Ni
    assert out.recycled["Ni"][0][4] == pytest.approx(0.8 / 3.2, rel=1e-15)
    assert np.array_equal(out.x[:4], x[:4, :2]) and out.footprint_changed.tolist() == [False] * 4 + [True]


def test_with_rows_refuses_an_edge_from_a_newer_lot() -> None:
    s = tiny()
    with pytest.raises(sc.EdgeProblem) as exc:
        sc.with_rows(sc.Graph.of(s), np.array([2]), np.array([0, 1]), np.array([4], np.int32), np.array([1.0]))
    assert exc.value.lot == 2


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 1.0), st.booleans())
def test_evaluate_equals_a_full_recomputation_on_the_changed_graph(seed: int, share: float, economic: bool) -> None:
    s = Snapshot.build(random_ledger(60, seed=seed))
    rng = np.random.default_rng(seed)
    value = np.where(rng.random(s.n_lots) < 0.5, rng.random(s.n_lots) * 10, np.nan) if economic else None
    alloc = fp.allocation(s.lot_run, s.lot_mass_kg, s.n_runs, value)
    sa = fp.reallocated(s, alloc)
    own = np.ascontiguousarray(rng.random((s.n_lots, 3)))
    x = intensity(sa, own)
    rec = {e: sc.recycled_of(s, e) for e in s.elements}
    base = sc.Base(s, alloc, own, x, rec)
    src = rng.random(s.n_lots) < 0.3
    cons = rng.random(s.n_lots) < 0.5
    pool = np.flatnonzero(rng.random(s.n_lots) < 0.2)
    r1 = sc.swap_sources(s, sc.Graph.of(s), src, cons, pool)
    r2 = sc.blend_sources(r1.graph, ~src, cons, pool[::-1], share)
    own_lots = np.flatnonzero(rng.random(s.n_lots) < 0.1)
    delta = rng.random((own_lots.size, 2)) - 0.5
    edges = np.union1d(r1.lots, r2.lots)
    out = sc.evaluate(base, r2.graph, edges, own_lots, delta)
    full = sc.snapshot_of(s, r2.graph)
    own2 = np.array(own[:, :2])
    own2[own_lots] += delta
    xf = intensity(fp.reallocated(full, alloc), own2)
    assert np.allclose(out.x, xf, rtol=1e-12, atol=1e-12)
    for e in s.elements:
        v, d = sc.recycled_of(full, e)
        assert np.array_equal(out.recycled[e][1], d), e
        assert np.allclose(out.recycled[e][0][d], v[d], rtol=1e-12, atol=1e-12), e
    untouched = ~out.footprint_changed
    assert np.array_equal(out.x[untouched], x[untouched, :2])  # exactly the base figures
