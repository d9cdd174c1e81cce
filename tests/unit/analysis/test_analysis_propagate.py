"""Propagation against independent sparse solves: W is built here from the ledger arrays, not by the engine."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import spsolve, spsolve_triangular

from lichain.analysis.propagate import intensity, plan_of, propagate
from lichain.analysis.shares import (
    nan_to_none,
    origin_shares,
    recycled_share,
    reset_points,
    shares,
    to_optional,
)
from lichain.analysis.snapshot import LedgerArrays, Snapshot
from lichain.analysis.synth import blend_tank, random_ledger, synthetic_ledger

SEEDS = st.integers(0, 2**32 - 1)
SIZES = st.integers(1, 70)


def outputs_of(a: LedgerArrays) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for lot, r in enumerate(a.lot_run):
        if r >= 0:
            out.setdefault(int(r), []).append(lot)
    return out


def mass_matrix(a: LedgerArrays) -> sp.csr_matrix:
    """W[o, i] = kg of i allocated to o / mass of o, with allocation by output mass (the default)."""
    outs = outputs_of(a)
    rows, cols, vals = [], [], []
    for r, i, kg in zip(a.cons_run, a.cons_lot, a.cons_kg, strict=True):
        os_ = outs.get(int(r), [])
        total = sum(a.lot_mass_kg[o] for o in os_)
        for o in os_:
            rows.append(o)
            cols.append(int(i))
            vals.append(kg * (a.lot_mass_kg[o] / total) / a.lot_mass_kg[o])
    n = a.n_lots
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


def edge_list(a: LedgerArrays) -> list[tuple[int, int, float]]:
    """(input, output, kg) per lot-to-lot edge, allocation by output mass."""
    outs = outputs_of(a)
    edges = []
    for r, i, kg in zip(a.cons_run, a.cons_lot, a.cons_kg, strict=True):
        os_ = outs.get(int(r), [])
        total = sum(a.lot_mass_kg[o] for o in os_)
        edges += [(int(i), o, kg * a.lot_mass_kg[o] / total) for o in os_]
    return edges


def share_system(a: LedgerArrays, e: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """W_e, the reset mask and the defined mask, from the definitions in DESIGN §3 (plain Python loops)."""
    n = a.n_lots
    inputs: dict[int, list[tuple[int, float]]] = {}
    for i, o, kg in edge_list(a):
        inputs.setdefault(o, []).append((i, kg))
    origin = a.lot_origin
    reset = np.array([not inputs.get(o) or (origin[o] != 0 and all(origin[i] == 0 for i, _ in inputs[o]))
                      for o in range(n)])
    defined = np.zeros(n, bool)
    f = a.lot_assay[:, e]
    rows, cols, vals = [], [], []
    for o in range(n):
        if reset[o]:
            defined[o] = f[o] > 0
            continue
        den = sum(kg * f[i] for i, kg in inputs[o] if defined[i])
        defined[o] = f[o] > 0 and den > 0
        if defined[o]:
            for i, kg in inputs[o]:
                if defined[i]:
                    rows.append(o)
                    cols.append(i)
                    vals.append(kg * f[i] / den)
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n)), reset, defined


def solve(w: sp.csr_matrix, b: np.ndarray) -> np.ndarray:
    a = (sp.identity(w.shape[0], format="csc") - w).tocsc()
    if b.ndim == 1:
        return np.atleast_1d(spsolve(a, b))
    return np.column_stack([np.atleast_1d(spsolve(a, b[:, k])) for k in range(b.shape[1])])


def close(x: np.ndarray, y: np.ndarray, rtol: float = 1e-9) -> bool:
    """Equal to ``rtol`` relative (absolute 1e-12 of the largest value for exact zeros)."""
    scale = max(1.0, float(np.abs(y).max())) if y.size else 1.0
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=rtol, atol=1e-12 * scale))


@settings(max_examples=60, deadline=None)
@given(SIZES, SEEDS, st.integers(1, 9))
def test_intensity_equals_sparse_solve(n: int, seed: int, k: int) -> None:
    a = random_ledger(n, seed=seed)
    own = np.random.default_rng(seed).uniform(0.0, 5.0, (n, k))
    x = intensity(Snapshot.build(a), own)
    assert close(x, solve(mass_matrix(a), own))


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 40), SEEDS)
def test_wide_and_one_dimensional_paths(n: int, seed: int) -> None:
    a = random_ledger(n, seed=seed)
    snap = Snapshot.build(a)
    own = np.random.default_rng(seed).uniform(0.0, 5.0, (n, 21))
    ref = solve(mass_matrix(a), own)
    assert close(intensity(snap, own), ref)
    assert close(intensity(snap, own[:, 3].copy()), ref[:, 3])
    assert close(intensity(snap, own[:, 3:4].copy()), ref[:, 3:4])


def test_in_place_and_topological_check() -> None:
    snap = Snapshot.build(random_ledger(50, seed=1))
    own = np.linspace(0, 1, 50)
    ref = intensity(snap, own)
    x = own.copy()
    propagate(snap.up_indptr, snap.up_src, snap.up_w, x, out=x, check=True)
    assert np.allclose(x, ref, rtol=1e-13)
    bad = snap.up_src.copy()
    bad[-1] = snap.n_lots - 1
    with pytest.raises(ValueError, match="topological"):
        propagate(snap.up_indptr, bad, snap.up_w, own, check=True)
    with pytest.raises(ValueError):
        propagate(snap.up_indptr, snap.up_src, snap.up_w, own[:-1])


@settings(max_examples=60, deadline=None)
@given(SIZES, SEEDS, st.integers(0, 3))
def test_shares_equal_sparse_solve_and_stay_in_unit_interval(n: int, seed: int, e: int) -> None:
    a = random_ledger(n, seed=seed)
    snap = Snapshot.build(a)
    w, reset, defined = share_system(a, e)
    assert np.array_equal(reset_points(snap), reset)
    values = (a.lot_origin != 0).astype(float)
    got = recycled_share(snap, e)
    assert np.array_equal(got.defined, defined)
    b = np.where(reset & defined, values, 0.0)
    ref = solve(w, b)
    assert close(got.values[defined], ref[defined])
    assert np.all(np.isnan(got.values[~defined]))
    assert np.all((got.values[defined] >= -1e-12) & (got.values[defined] <= 1 + 1e-12))
    # lots holding none of the element are undefined, and never leak NaN into JSON
    assert not got.defined[a.lot_assay[:, e] == 0].any()
    assert "NaN" not in json.dumps(to_optional(got.values, got.defined))


@settings(max_examples=40, deadline=None)
@given(SIZES, SEEDS)
def test_origin_shares_sum_to_one(n: int, seed: int) -> None:
    snap = Snapshot.build(random_ledger(n, seed=seed))
    for by in ("origin", "country", "organisation"):
        s = origin_shares(snap, "Ni", by=by)
        assert s.values.shape == (n, len(s.classes))
        assert np.allclose(s.values[s.defined].sum(axis=1), 1.0, atol=1e-12)
        assert np.all(s.values[s.defined] >= -1e-15)
        assert all(s.of(i) is None for i in np.flatnonzero(~s.defined))


def test_custom_values_with_k_classes() -> None:
    a = random_ledger(60, seed=7)
    snap = Snapshot.build(a)
    vals = np.random.default_rng(0).random((60, 5))
    got = shares(snap, "Co", vals)
    w, reset, defined = share_system(a, 1)
    ref = solve(w, np.where((reset & defined)[:, None], vals, 0.0))
    assert close(got.values[defined], ref[defined])


def test_deep_blend_tank_against_triangular_solve() -> None:
    a = blend_tank(12_000, seed=3)
    snap = Snapshot.build(a)
    w = mass_matrix_fast(a)
    own = np.random.default_rng(1).uniform(0, 2, (a.n_lots, 2))
    lower = (sp.identity(a.n_lots, format="csr") - w).tocsr()
    ref = spsolve_triangular(lower, own, lower=True)
    assert close(intensity(snap, own), ref)
    assert plan_of(snap).perm is None  # a deep chain: one indicator runs in CSR order
    assert close(intensity(snap, own[:, 1].copy()), ref[:, 1])
    # depth: every tank lot feeds the next, so the last one sits 12 000 runs deep
    tank = np.flatnonzero(a.lot_run >= 0)
    pairs = set(zip(snap.up_src.tolist(), snap.edge_dst().tolist(), strict=True))
    assert all((int(p), int(q)) in pairs for p, q in itertools.pairwise(tank))
    got = recycled_share(snap, "Ni")
    ws, reset, defined = share_system_fast(a, 0)
    ref_s = spsolve_triangular((sp.identity(a.n_lots, format="csr") - ws).tocsr(),
                               np.where(reset & defined, (a.lot_origin != 0).astype(float), 0.0), lower=True)
    assert close(got.values[defined], ref_s[defined])


def mass_matrix_fast(a: LedgerArrays) -> sp.csr_matrix:
    """The same W as :func:`mass_matrix`, vectorised for single-output runs (the blend tank)."""
    out_of_run = np.full(a.n_runs, -1)
    prod = np.flatnonzero(a.lot_run >= 0)
    assert np.unique(a.lot_run[prod]).size == prod.size
    out_of_run[a.lot_run[prod]] = prod
    o = out_of_run[a.cons_run]
    return sp.csr_matrix((a.cons_kg / a.lot_mass_kg[o], (o, a.cons_lot)), shape=(a.n_lots, a.n_lots))


def share_system_fast(a: LedgerArrays, e: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """W_e for the blend tank, where every lot holds nickel, so every lot is defined."""
    f = a.lot_assay[:, e]
    assert (f > 0).all()
    out_of_run = np.full(a.n_runs, -1)
    prod = np.flatnonzero(a.lot_run >= 0)
    out_of_run[a.lot_run[prod]] = prod
    o = out_of_run[a.cons_run]
    flow = a.cons_kg * f[a.cons_lot]
    den = np.bincount(o, weights=flow, minlength=a.n_lots)
    w = sp.csr_matrix((flow / den[o], (o, a.cons_lot)), shape=(a.n_lots, a.n_lots))
    origin = a.lot_origin
    reset = a.lot_run < 0
    dirty = np.bincount(o, weights=(origin[a.cons_lot] != 0).astype(float), minlength=a.n_lots) > 0
    reset |= (origin != 0) & ~dirty
    w = sp.diags((~reset).astype(float)) @ w
    return w.tocsr(), reset, np.ones(a.n_lots, bool)


def test_synthetic_chain_against_triangular_solve() -> None:
    a = synthetic_ledger(20_000, seed=5, tank_lines=1)
    snap = Snapshot.build(a)
    d = snap.edge_dst()
    w = sp.csr_matrix((snap.up_kg / a.lot_mass_kg[d], (d, snap.up_src)), shape=(snap.n_lots,) * 2)
    own = np.random.default_rng(2).random((snap.n_lots, 6))
    lower = (sp.identity(snap.n_lots, format="csr") - w).tocsr()
    ref = spsolve_triangular(lower, own, lower=True)
    assert close(intensity(snap, own), ref)
    # one indicator runs on the degree-grouped plan: same numbers
    p = plan_of(snap)
    assert p.perm is not None and p.group_end is not None and p.src is not None
    assert np.array_equal(np.sort(p.perm), np.arange(snap.n_lots))
    assert close(intensity(snap, own[:, 2].copy()), ref[:, 2])
    done = np.zeros(snap.n_lots, bool)  # plan order is topological: every input is done before its row
    for r in p.perm:
        assert done[snap.up_src[snap.up_indptr[r]:snap.up_indptr[r + 1]]].all()
        done[r] = True
    assert np.diff(np.r_[0, p.group_end]).min() > 0 and p.group_end[-1] == snap.n_lots


def test_nan_to_none() -> None:
    assert nan_to_none([1.0, float("nan"), [float("inf"), 2.0]]) == [1.0, None, [None, 2.0]]
    assert nan_to_none(np.array([np.nan, 1.0])) == [None, 1.0]
    assert nan_to_none({"a": float("nan")}) == {"a": None}
