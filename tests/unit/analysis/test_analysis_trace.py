"""Trace against a dense path-sum computed here: C = (I − Φ)⁻¹ with Φ the per-element input fractions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lichain.analysis.snapshot import LedgerArrays, Snapshot
from lichain.analysis.synth import blend_tank, random_ledger, synthetic_ledger
from lichain.analysis.trace import aggregate, trace_down, trace_graph, trace_up

SEEDS = st.integers(0, 2**32 - 1)


def dense(a: LedgerArrays) -> tuple[np.ndarray, np.ndarray]:
    """Reachability R[o, a] (a is an ancestor of o, or o itself) and C[e, o, a] = Σ_paths Π φ, from the ledger."""
    n, n_el = a.n_lots, len(a.elements)
    outs: dict[int, list[int]] = {}
    for lot, r in enumerate(a.lot_run):
        if r >= 0:
            outs.setdefault(int(r), []).append(lot)
    kg = np.zeros((n, n))
    for r, i, k in zip(a.cons_run, a.cons_lot, a.cons_kg, strict=True):
        os_ = outs.get(int(r), [])
        total = sum(a.lot_mass_kg[o] for o in os_)
        for o in os_:
            kg[o, i] += k * a.lot_mass_kg[o] / total
    reach = np.eye(n, dtype=bool) | (kg > 0)
    for _ in range(int(np.ceil(np.log2(max(n, 2)))) + 1):
        reach = reach | ((reach.astype(np.int64) @ reach.astype(np.int64)) > 0)
    c = np.zeros((n_el, n, n))
    for e in range(n_el):
        flow = kg * a.lot_assay[:, e][None, :]
        den = flow.sum(axis=1, keepdims=True)
        phi = np.divide(flow, den, out=np.zeros_like(flow), where=den > 0)
        c[e] = np.linalg.inv(np.eye(n) - phi)
    return reach, c


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 45), SEEDS)
def test_up_and_down_match_the_dense_path_sums(n: int, seed: int) -> None:
    a = random_ledger(n, seed=seed)
    snap = Snapshot.build(a)
    reach, c = dense(a)
    has = a.lot_assay > 0
    for o in range(n):
        up = trace_up(snap, o)
        assert up.lots.tolist() == np.flatnonzero(reach[o]).tolist()
        want = (c[:, o, up.lots] * has[o][:, None]).T
        assert np.allclose(up.share, want, rtol=1e-9, atol=1e-12)
        assert np.allclose(up.element_kg, want * snap.element_kg[o], rtol=1e-9, atol=1e-9)
        down = trace_down(snap, o)
        assert down.lots.tolist() == np.flatnonzero(reach[:, o]).tolist()
        want_d = (c[:, down.lots, o] * has[o][:, None]).T * has[down.lots]
        assert np.allclose(down.share, want_d, rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), SEEDS)
def test_upstream_and_downstream_are_mirror_images(n: int, seed: int) -> None:
    snap = Snapshot.build(random_ledger(n, seed=seed))
    ups = {o: trace_up(snap, o) for o in range(n)}
    downs = {o: trace_down(snap, o) for o in range(n)}
    for b, up in ups.items():
        for p, a_ in enumerate(up.lots.tolist()):
            d = downs[a_]
            q = int(np.searchsorted(d.lots, b))
            assert d.lots[q] == b
            assert np.allclose(d.share[q], up.share[p], rtol=1e-9, atol=1e-12)
    for a_, d in downs.items():
        assert all(a_ in ups[int(b)].lots for b in d.lots)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), SEEDS, st.integers(0, 6))
def test_leaf_contributions_sum_to_one(n: int, seed: int, depth: int) -> None:
    snap = Snapshot.build(random_ledger(n, seed=seed))
    for o in range(n):
        for lim in (None, depth):
            t = trace_up(snap, o, max_depth=lim)
            held = snap.element_kg[o] > 0
            total = t.share[t.leaf].sum(axis=0)
            assert np.allclose(total[held], 1.0, atol=1e-12)
            assert np.all(t.share[:, ~held] == 0)
            if lim is not None:
                assert t.depth.max() <= lim
            groups = aggregate(snap, t, "country")
            agg = np.array([[g["share"][e] for e in snap.elements] for g in groups.values()]).sum(axis=0)
            assert np.allclose(agg[held], 1.0, atol=1e-12)


def test_synthetic_chain_sums_and_balances() -> None:
    snap = Snapshot.build(synthetic_ledger(30_000, seed=2))
    rng = np.random.default_rng(0)
    for o in rng.integers(0, snap.n_lots, 50):
        t = trace_up(snap, int(o))
        held = snap.element_kg[o] > 0
        assert np.allclose(t.share[t.leaf].sum(axis=0)[held], 1.0, atol=1e-10)
        assert np.all(snap.is_source[t.lots[t.leaf]])
        d = trace_down(snap, int(o))
        # the root's element that reached the end lots never exceeds what the root held
        assert np.all(d.element_kg[d.leaf & (d.lots != o)].sum(axis=0) <= snap.element_kg[o] * (1 + 1e-9))


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 50), SEEDS, st.floats(0.0, 1.0))
def test_as_of_matches_the_time_travelled_snapshot(n: int, seed: int, where: float) -> None:
    a = random_ledger(n, seed=seed)
    snap = Snapshot.build(a)
    t = int(a.lot_time.min() + where * (a.lot_time.max() - a.lot_time.min()))
    past = snap.as_of(t)
    new = np.cumsum(a.lot_time <= t) - 1
    for o in np.flatnonzero(a.lot_time <= t):
        for fn in (trace_up, trace_down):
            got, want = fn(snap, int(o), as_of=t), fn(past, int(new[o]))
            assert new[got.lots].tolist() == want.lots.tolist()
            assert np.allclose(got.share, want.share, rtol=1e-12, atol=1e-15)
    later = np.flatnonzero(a.lot_time > t)
    if later.size:
        with pytest.raises(ValueError, match="did not exist"):
            trace_up(snap, int(later[0]), as_of=t)


def test_stage_filter_lookup_by_id_and_graph() -> None:
    snap = Snapshot.build(synthetic_ledger(20_000, seed=4))
    root = snap.n_lots - 1
    full = trace_up(snap, snap.lot_id(root))
    mines = trace_up(snap, root, stages=["ore"])
    assert set(snap.lot_stage[mines.lots[mines.lots != root]]) <= {snap.stage_names.index("ore")}
    assert len(mines) < len(full)
    g = trace_graph(snap, full)
    text = json.dumps(g, allow_nan=False)
    assert len(g["nodes"]) == len(full) and "NaN" not in text
    into_root = np.array([[e["element_kg"][el] for el in snap.elements] for e in g["edges"]
                          if e["dst"] == snap.lot_id(root)]).sum(axis=0)
    held = snap.element_kg[root] > 0
    assert np.allclose(into_root[held], snap.element_kg[root][held], rtol=1e-9)
    d = trace_down(snap, 10, max_depth=3)
    gd = trace_graph(snap, d)
    assert all(e["dst"] in {n["lot"] for n in gd["nodes"]} for e in gd["edges"])
    by_stage = aggregate(snap, d, "stage")
    assert all(v["lots"] > 0 for v in by_stage.values())


def test_deep_blend_tank_trace() -> None:
    a = blend_tank(12_000, seed=1)
    snap = Snapshot.build(a)
    last = snap.n_lots - 1
    t = trace_up(snap, last)
    assert len(t) == snap.n_lots and t.depth.max() == 12_000
    held = snap.element_kg[last] > 0
    assert np.allclose(t.share[t.leaf].sum(axis=0)[held], 1.0, atol=1e-9)
    d = trace_down(snap, 0)
    assert d.lots[-1] == last
    q = int(np.searchsorted(d.lots, last))
    assert np.allclose(d.share[q], t.share[0], rtol=1e-9, atol=1e-300)
    assert len(trace_up(snap, last, max_depth=5)) < 20


def test_bad_arguments() -> None:
    snap = Snapshot.build(random_ledger(10, seed=1))
    with pytest.raises(IndexError):
        trace_up(snap, 10)
    with pytest.raises(ValueError):
        trace_down(snap, 0, max_depth=-1)
    with pytest.raises(ValueError):
        aggregate(snap, trace_up(snap, 5), "colour")
