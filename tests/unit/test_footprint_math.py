"""Footprint arithmetic: a small chain computed by hand, allocation, stages, per-kWh, and conservation properties.

The hand-computed chain (numbers in kg and kg CO2e)::

    A ore 1000 kg (commissioning: 50 electricity + 30 fuels; shipment 20)   B purchased 200 kg (no data)
        └── 500 kg ──┐                                                          ┌── 200 kg ──┘
                     run 0 "refining": 300 electricity, 40 fuels, 50 reagents, 10 process (market 250)
                     ├── C 300 kg (shipment 30)        └── D 100 kg
                     └── 150 kg ──┐          ┌── 100 kg ──┘
                                  run 1 "calcination": 72 electricity, 18 reagents (market 60)
                                  └── E 180 kg (shipment 9)
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lichain.analysis import footprint as fp
from lichain.analysis.snapshot import LedgerArrays, Snapshot
from lichain.analysis.trace import trace_up

REL = 1e-9


def ledger(mass: list[float], lot_run: list[int], cons: list[tuple[int, int, float]], n_runs: int,
           lot_site: list[int] | None = None) -> Snapshot:
    """A snapshot from plain lists: lot masses [kg], producing run per lot, (run, lot, kg) consumptions."""
    n = len(mass)
    return Snapshot.build(LedgerArrays(
        elements=("Ni",), lot_ids=tuple(f"L{i}" for i in range(n)), lot_mass_kg=np.array(mass, float),
        lot_assay=np.full((n, 1), 0.1), lot_run=np.array(lot_run, np.int32),
        lot_site=np.array(lot_site or [0] * n, np.int32), lot_material=np.zeros(n, np.int32),
        lot_stage=np.zeros(n, np.int8), lot_origin=np.zeros(n, np.int8), lot_time=np.arange(n, dtype=np.int64),
        run_time=np.arange(n_runs, dtype=np.int64), run_site=np.zeros(n_runs, np.int32),
        cons_run=np.array([c[0] for c in cons], np.int32), cons_lot=np.array([c[1] for c in cons], np.int32),
        cons_kg=np.array([c[2] for c in cons], float), run_loss_kg=np.zeros((n_runs, 1)),
        site_ids=tuple(f"S{i}" for i in range(max(lot_site or [0]) + 1))))


def own(n: int, r: int, run_loc: list[list[float]], run_mkt: list[float], lot_loc: dict[int, list[float]],
        lot_mkt: dict[int, float], transport: dict[int, float], run_stage: list[int]) -> fp.OwnEmissions:
    ll = np.zeros((n, 4))
    lm = np.zeros(n)
    for i, v in lot_loc.items():
        ll[i] = v
        lm[i] = lot_mkt[i]
    tr = np.zeros(n)
    for i, v in transport.items():
        tr[i] = v
    return fp.OwnEmissions(np.array(run_loc, float).reshape(r, 4), np.array(run_mkt, float),
                           np.array(run_stage, np.int8), np.ones(r, bool), ll, lm, tr, np.zeros(n, np.int8),
                           np.ones(n, bool))


A, B, C, D, E = range(5)
MASS = [1000.0, 200.0, 300.0, 100.0, 180.0]
LOT_RUN = [-1, -1, 0, 0, 1]
CONS = [(0, A, 500.0), (0, B, 200.0), (1, C, 150.0), (1, D, 100.0)]
SITES = [0, 1, 2, 2, 3]


def hand_chain() -> tuple[Snapshot, fp.OwnEmissions]:
    snap = ledger(MASS, LOT_RUN, CONS, 2, SITES)
    em = own(5, 2, [[300, 40, 50, 10], [72, 0, 18, 0]], [250, 60], {A: [50, 30, 0, 0]}, {A: 80},
             {A: 20, C: 30, E: 9}, [fp.RAW, fp.MAIN])
    return snap, em


def col(name: str) -> int:
    return fp.COLUMNS.index(name)


def test_hand_computed_chain_mass_allocation() -> None:
    snap, em = hand_chain()
    alloc = fp.allocation(snap.lot_run, snap.lot_mass_kg, 2)
    assert alloc.factor.tolist() == [0, 0, 0.75, 0.25, 1.0]
    _, x = fp.footprint(snap, em, alloc.factor)
    # by hand: x_A = (80 + 20) / 1000; C gets 3/4 of run 0 and of its inputs, D 1/4
    x_a = (80 + 20) / 1000
    x_c = (400 * 0.75 + 30 + 0.75 * (500 * x_a + 200 * 0)) / 300  # = 1.225
    x_d = (400 * 0.25 + 0.25 * (500 * x_a)) / 100  # = 1.125
    x_e = (90 + 9 + 150 * x_c + 100 * x_d) / 180  # = 395.25 / 180
    np.testing.assert_allclose(x[:, 0], [x_a, 0, x_c, x_d, x_e], rtol=REL)
    assert x_c == pytest.approx(1.225) and x_e == pytest.approx(395.25 / 180)
    # market: electricity of run 0 is 150 lower (250 vs 400), of run 1 30 lower
    m_c = (250 * 0.75 + 30 + 0.75 * 500 * x_a) / 300
    m_d = (250 * 0.25 + 0.25 * 500 * x_a) / 100
    m_e = (60 + 9 + 150 * m_c + 100 * m_d) / 180
    np.testing.assert_allclose(x[[C, D, E], 1], [m_c, m_d, m_e], rtol=REL)
    # stages of E: raw = A's commissioning and run 0; distribution = the three shipments; main = run 1
    t_a = 20 / 1000  # A's shipment per kg of A
    dist_e = (9 + 150 * (30 / 300 + 0.75 * 500 * t_a / 300) + 100 * (0.25 * 500 * t_a / 100)) / 180
    raw_e = (150 * (0.75 * (400 + 500 * 0.08)) / 300 + 100 * (0.25 * (400 + 500 * 0.08)) / 100) / 180
    main_e = 90 / 180
    got = fp.named(x[E], "stage:")
    assert got["distribution"] == pytest.approx(dist_e, rel=REL)
    assert got["raw_material_acquisition_and_pre_processing"] == pytest.approx(raw_e, rel=REL)
    assert got["main_product_production"] == pytest.approx(main_e, rel=REL)
    assert got["end_of_life_and_recycling"] == 0
    # causes of E: electricity 50 (A) → 300 (run 0) → 72 (run 1), carried by the same weights
    w_ae = (150 * 0.75 * 500 / 300 + 100 * 0.25 * 500 / 100) / 180  # kg of A behind 1 kg of E
    w_run0 = (150 * 0.75 / 300 + 100 * 0.25 / 100) / 180  # share of run 0 behind 1 kg of E
    assert fp.named(x[E], "cause:")["electricity"] == pytest.approx(w_ae * 50 / 1000 + w_run0 * 300 + 72 / 180,
                                                                    rel=REL)
    assert x[E, col("incomplete")] == 0


def test_hand_computed_chain_economic_allocation_and_sites() -> None:
    snap, em = hand_chain()
    value = np.array([np.nan, np.nan, 3000.0, 3000.0, np.nan])  # C and D declared equal value
    alloc = fp.allocation(snap.lot_run, snap.lot_mass_kg, 2, value)
    assert alloc.economic.tolist() == [True, False] and alloc.factor.tolist() == [0, 0, 0.5, 0.5, 1.0]
    snap_e = fp.reallocated(snap, alloc)
    own_kg, x = fp.footprint(snap_e, em, alloc.factor)
    x_c = (200 + 30 + 0.5 * 500 * 0.1) / 300  # 0.85
    x_d = (200 + 0.5 * 500 * 0.1) / 100  # 2.25
    x_e = (99 + 150 * x_c + 100 * x_d) / 180
    np.testing.assert_allclose(x[[C, D, E], 0], [x_c, x_d, x_e], rtol=REL)
    # by site of E: site 0 brings A's burden, site 2 run 0 and C's shipment, site 3 run 1 and E's shipment
    got = fp.upstream_breakdown(snap_e, own_kg[:, 0], E, snap.lot_site)
    s0 = (150 * 0.5 * 500 / 300 + 100 * 0.5 * 500 / 100) * 0.1 / 180
    s2 = (150 * (200 + 30) / 300 + 100 * 200 / 100) / 180
    assert got == pytest.approx({0: s0, 1: 0.0, 2: s2, 3: 99 / 180}, rel=REL)  # B (site 1) brings nothing
    assert sum(got.values()) == pytest.approx(x_e, rel=REL)
    closure = trace_up(snap_e, E).lots  # the caller's closure and labels per lot of it: the same split
    assert fp.upstream_breakdown(snap_e, own_kg[:, 0], E, snap.lot_site[closure], lots=closure) == got


def test_economic_allocation_falls_back_when_a_value_is_missing() -> None:
    snap, _ = hand_chain()
    a = fp.allocation(snap.lot_run, snap.lot_mass_kg, 2, np.array([np.nan, np.nan, 5.0, np.nan, np.nan]))
    assert a.fallback.tolist() == [True, False] and not a.economic.any()
    assert a.factor.tolist() == [0, 0, 0.75, 0.25, 1.0]
    assert fp.reallocated(snap, a) is snap


def test_incomplete_data_propagates_downstream_only() -> None:
    snap, em = hand_chain()
    em = fp.OwnEmissions(**{**em.__dict__, "run_complete": np.array([True, False])})
    _, x = fp.footprint(snap, em, fp.allocation(snap.lot_run, snap.lot_mass_kg, 2).factor)
    assert (x[:, col("incomplete")] > 0).tolist() == [False, False, False, False, True]


def test_stage_mapping() -> None:
    assert fp.stage_code("leaching", "intermediate", "refinery") == fp.RAW
    assert fp.stage_code("co_precipitation", "pcam", "precursor_plant") == fp.MAIN
    assert fp.stage_code("hydromet_recycling", "recovered_salt", "recycler") == fp.EOL
    assert fp.stage_code("cell_manufacturing", "scrap", "cell_plant") == fp.MAIN  # run kind first
    assert fp.stage_code("blending", "cam", None) == fp.MAIN  # unknown kind: the output's material
    assert fp.stage_code(None, None, "recycler", default=fp.RAW) == fp.EOL
    assert fp.stage_code(None, None, None, default=fp.RAW) == fp.RAW


def test_per_kwh_for_ncm811() -> None:
    e = fp.cam_energy("LiNi0.8Co0.1Mn0.1O2")
    assert e is not None and e.kwh_per_kg == pytest.approx(0.74)  # 200 mAh/g × 3.7 V
    assert fp.per_kwh(25.0, e.capacity_mah_per_g, e.voltage_v) == pytest.approx(25 / 0.74)
    with pytest.raises(ValueError):
        fp.per_kwh(1.0, 0.0, 3.7)


# --- properties ------------------------------------------------------------------------------------------------


#: masses, producing runs, consumptions, run count, declared values, run / commissioning / transport emissions
Chain = tuple[list[float], list[int], list[tuple[int, int, float]], int, list[float], list[float], list[float],
              list[float]]


@st.composite
def chains(draw: st.DrawFn) -> Chain:
    """A random ledger built by merges and splits: each run consumes whole lots of the open pool."""
    n_src = draw(st.integers(1, 4))
    mass = [draw(st.floats(1.0, 1000.0)) for _ in range(n_src)]
    lot_run = [-1] * n_src
    pool = list(range(n_src))
    cons: list[tuple[int, int, float]] = []
    values: list[float] = [np.nan] * n_src
    n_runs = draw(st.integers(0, 6))
    for r in range(n_runs):
        take = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=min(3, len(pool)), unique=True))
        for i in take:
            cons.append((r, i, mass[i]))
            pool.remove(i)
        economic = draw(st.booleans())
        for _ in range(draw(st.integers(1, 3))):
            pool.append(len(mass))
            mass.append(draw(st.floats(0.5, 1000.0)))
            lot_run.append(r)
            values.append(draw(st.floats(0.1, 100.0)) if economic else np.nan)
    n = len(mass)
    run_em = [draw(st.floats(0.0, 500.0)) for _ in range(n_runs)]
    lot_em = [draw(st.floats(0.0, 50.0)) if lot_run[i] < 0 else 0.0 for i in range(n)]
    transport = [draw(st.floats(0.0, 20.0)) for _ in range(n)]
    return mass, lot_run, cons, n_runs, values, run_em, lot_em, transport


def _footprint(c: Chain) -> tuple[fp.Allocation, np.ndarray]:
    mass, lot_run, cons, r, values, run_em, lot_em, transport = c
    n = len(mass)
    snap = ledger(mass, lot_run, cons, r)
    em = own(n, r, [[e * 0.6, e * 0.3, e * 0.1, 0.0] for e in run_em], [e * 0.5 for e in run_em],
             {i: [v, 0, 0, 0] for i, v in enumerate(lot_em)}, dict(enumerate(lot_em)), dict(enumerate(transport)),
             [i % 4 for i in range(r)])
    alloc = fp.allocation(snap.lot_run, snap.lot_mass_kg, r, np.array(values))
    snap = fp.reallocated(snap, alloc)
    _, x = fp.footprint(snap, em, alloc.factor)
    return alloc, x


@settings(max_examples=150, deadline=None)
@given(chains())
def test_footprint_is_additive_over_splits_and_merges(c: Chain) -> None:
    mass, lot_run, cons, r, _, run_em, lot_em, transport = c
    alloc, x = _footprint(c)
    m = np.array(mass)
    kg = x[:, 0] * m  # kg CO2e held by each lot
    # every run: its outputs hold its emissions, their shipments and everything its inputs held (merge, split)
    for run in range(r):
        outs = [i for i, q in enumerate(lot_run) if q == run]
        ins = sum(kg[i] for rr, i, _ in cons if rr == run)
        assert sum(kg[o] for o in outs) == pytest.approx(run_em[run] + sum(transport[o] for o in outs) + ins,
                                                         rel=1e-9, abs=1e-9)
    # the whole chain: lots never consumed hold every emission of the ledger
    consumed = {i for _, i, _ in cons}
    open_lots = [i for i in range(len(mass)) if i not in consumed]
    assert sum(kg[i] for i in open_lots) == pytest.approx(sum(run_em) + sum(lot_em) + sum(transport), rel=1e-9,
                                                          abs=1e-9)
    # breakdowns are additive: stages and causes each sum to the total
    stages = x[:, fp.COLUMNS.index(f"stage:{fp.LCA_STAGES[0]}"):][:, :4].sum(axis=1)
    causes = x[:, [fp.COLUMNS.index(f"cause:{k}") for k in fp.CAUSES]].sum(axis=1)
    np.testing.assert_allclose(stages, x[:, 0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(causes, x[:, 0], rtol=1e-9, atol=1e-12)
    # allocation factors of each run sum to one
    for run in range(r):
        assert alloc.factor[[i for i, q in enumerate(lot_run) if q == run]].sum() == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(chains(), st.floats(0.0, 10.0))
def test_footprint_is_additive_over_burdens(c: Chain, k: float) -> None:
    mass, lot_run, cons, r, values, run_em, lot_em, transport = c
    _, x1 = _footprint(c)
    _, x2 = _footprint((mass, lot_run, cons, r, values, [k * e for e in run_em], lot_em, transport))
    _, x3 = _footprint((mass, lot_run, cons, r, values, [(1 + k) * e for e in run_em], [2 * e for e in lot_em],
                        [2 * t for t in transport]))
    np.testing.assert_allclose(x1[:, 0] + x2[:, 0], x3[:, 0], rtol=1e-9, atol=1e-9)
