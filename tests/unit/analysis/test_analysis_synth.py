"""The synthetic ledgers obey the ledger's invariants (DESIGN §2) and have the promised shape."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lichain.analysis.snapshot import LedgerArrays, Snapshot
from lichain.analysis.synth import STAGES, blend_tank, random_ledger, synthetic_ledger


def check_invariants(a: LedgerArrays) -> None:
    n, r = a.n_lots, a.n_runs
    assert (a.lot_mass_kg > 0).all()
    assert ((a.lot_assay >= 0) & (a.lot_assay <= 1)).all() and (a.lot_assay.sum(axis=1) <= 1 + 1e-12).all()
    consumed = np.bincount(a.cons_lot, weights=a.cons_kg, minlength=n)
    assert (consumed <= a.lot_mass_kg * (1 + 1e-12)).all()
    el_in = np.zeros((r, len(a.elements)))
    np.add.at(el_in, a.cons_run, a.cons_kg[:, None] * a.lot_assay[a.cons_lot])
    el_out = np.zeros_like(el_in)
    prod = a.lot_run >= 0
    np.add.at(el_out, a.lot_run[prod], a.lot_mass_kg[prod, None] * a.lot_assay[prod])
    assert np.allclose(el_in, el_out + a.run_loss_kg, rtol=1e-9, atol=1e-9)
    assert (a.run_loss_kg >= -1e-9 * np.maximum(el_in, 1)).all()
    first_out = np.full(r, n)
    np.minimum.at(first_out, a.lot_run[prod], np.flatnonzero(prod))
    assert (a.cons_lot < first_out[a.cons_run]).all()
    assert (np.diff(a.lot_time) >= 0).all()
    assert np.array_equal(a.run_time[a.lot_run[prod]], a.lot_time[prod])


@pytest.mark.parametrize("kw", [{}, {"tank_lines": 2, "recycling": 0.05}, {"eol_linked": 0.0, "recycling": 0.0}])
def test_synthetic_chain_invariants_and_shape(kw: dict[str, float]) -> None:
    a = synthetic_ledger(30_000, seed=1, **kw)
    check_invariants(a)
    snap = Snapshot.build(a)
    assert 0.9 * 30_000 < a.n_lots < 1.15 * 30_000
    assert 2.7 < snap.n_edges / a.n_lots < 3.3
    assert set(np.unique(a.lot_stage)) == set(range(len(STAGES)))
    assert set(np.unique(a.lot_origin)) == {0, 1, 2}
    assert (np.bincount(a.lot_run[a.lot_run >= 0]) <= 2).all()  # cell runs also make scrap
    consumed = np.bincount(a.cons_lot, weights=a.cons_kg, minlength=a.n_lots)
    assert ((consumed > 0) & (consumed < 0.999 * a.lot_mass_kg)).mean() > 0.5  # partial consumptions


def test_recycling_closes_loops_across_time() -> None:
    a = synthetic_ledger(30_000, seed=2, recycling=0.05, eol_linked=0.5)
    snap = Snapshot.build(a)
    pcam, recovered = STAGES.index("pcam"), STAGES.index("recovered_salt")
    dst = snap.edge_dst()
    into_pcam = (a.lot_stage[dst] == pcam) & (a.lot_stage[snap.up_src] == recovered)
    assert into_pcam.sum() > 10
    cell, scrap = STAGES.index("cell"), STAGES.index("scrap")
    linked = (a.lot_stage[dst] == scrap) & (a.lot_stage[snap.up_src] == cell) & (a.lot_origin[dst] == 2)
    assert (a.lot_time[dst[linked]] - a.lot_time[snap.up_src[linked]]).min() > 86_400 * 5


def test_seeded_and_reproducible() -> None:
    a, b = synthetic_ledger(5_000, seed=7), synthetic_ledger(5_000, seed=7)
    c = synthetic_ledger(5_000, seed=8)
    assert np.array_equal(a.cons_kg, b.cons_kg) and np.array_equal(a.lot_ids, b.lot_ids)
    assert not np.array_equal(a.lot_mass_kg[: c.n_lots], c.lot_mass_kg[: a.n_lots])


def test_blend_tank_depth() -> None:
    a = blend_tank(11_000, feeds_per_day=2, carry=0.6)
    check_invariants(a)
    tank = np.flatnonzero(a.lot_run >= 0)
    assert tank.size == 11_000 and a.n_lots == 33_000
    prev = a.cons_lot[np.isin(a.cons_lot, tank)]
    assert np.array_equal(np.sort(prev), tank[:-1])
    assert np.allclose(np.bincount(a.cons_lot, weights=a.cons_kg, minlength=a.n_lots)[tank[:-1]],
                       0.6 * a.lot_mass_kg[tank[:-1]])


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 80), st.integers(0, 2**32 - 1))
def test_random_ledger_invariants(n: int, seed: int) -> None:
    a = random_ledger(n, seed=seed)
    assert a.n_lots == n
    check_invariants(a)
