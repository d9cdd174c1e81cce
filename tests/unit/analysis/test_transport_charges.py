"""The array path of :func:`lichain.analysis.transport.charge_legs` (lots with one leg out of the site that made
them) gives what the per-lot reference (:func:`site_intensity` for every lot) gives, on random lots, legs and
consumptions, with other lots' legs mixed in, runs and lots outside the outputs, legs without a factor and legs of
no mass.

Measured before: charging transport lot by lot took 26.5 of the 40 s of a whole-ledger footprint at 1.16 M lots
(745,068 shipped lots, 2.2 M consumptions of them)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lichain.analysis.transport import charge_legs

SITES = ["A", "B", "C", "D"]


@st.composite
def ledgers(draw: Any) -> tuple[Any, ...]:
    n_lots = draw(st.integers(1, 12))
    produced, ships, uses = [], [], []
    for lot in range(n_lots):
        home = draw(st.sampled_from(SITES))
        produced.append((lot * 3, home, draw(st.integers(1, 10**9))))
        shape = draw(st.sampled_from(["one out", "one out", "none", "chain", "any"]))
        if shape == "one out":
            legs = [(home, draw(st.sampled_from([s for s in SITES if s != home])))]
        elif shape == "chain":
            a, b = draw(st.permutations(SITES))[:2]
            legs = [(home, a), (a, b)]
        elif shape == "any":
            legs = draw(st.lists(st.tuples(st.sampled_from(SITES), st.sampled_from(SITES)), max_size=3))
        else:
            legs = []
        for frm, to in legs:
            ships.append(("road", frm, len(ships), lot * 3, draw(st.sampled_from([0, 1, 10**6, 7 * 10**8])),
                          250.0, 0, to))
        for _ in range(draw(st.integers(0, 4))):
            uses.append((lot * 3, draw(st.integers(0, 15)), draw(st.sampled_from(SITES)),
                         draw(st.integers(0, 10**9))))
    order = draw(st.permutations(range(len(ships))))
    ships = [ships[i] for i in order]
    kg = np.array([draw(st.floats(0, 1e4)) for _ in ships])
    ok = np.array([draw(st.booleans()) or draw(st.booleans()) for _ in ships], np.bool_)
    runs = np.array(sorted(draw(st.sets(st.integers(0, 15)))), np.int64)
    lots = np.array(sorted(draw(st.sets(st.sampled_from([r[0] for r in produced])))), np.int64)
    return ships, kg, ok, produced, uses, runs, lots


@settings(max_examples=400, deadline=None)
@given(ledgers())
def test_the_array_path_equals_the_per_lot_reference(case: tuple[Any, ...]) -> None:
    ships, kg, ok, produced, uses, runs, lots = case
    fast = charge_legs(ships, kg, ok, produced, uses, runs, lots)
    ref = charge_legs(ships, kg, ok, produced, uses, runs, lots, fast=False)
    for got, want in zip(fast, ref, strict=True):
        if got.dtype == np.bool_:
            assert np.array_equal(got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


def test_a_single_leg_is_charged_per_kg_shipped_at_its_destination() -> None:
    """A worked case, by hand: 20 t made at A, 10 t shipped to B for 500 kg CO2e (50 kg CO2e per t); a run at B
    takes 4 t (charged 200 kg CO2e), a run at A takes 5 t (charged nothing); 6 t left at B hold 300 kg CO2e."""
    ships = [("road", "A", 0, 7, 10_000 * 10**6, 250.0, 0, "B")]
    uses = [(7, 1, "B", 4_000 * 10**6), (7, 2, "A", 5_000 * 10**6)]
    run, complete, held, origin = charge_legs(ships, np.array([500.0]), np.array([True]), [(7, "A", 20_000 * 10**6)],
                                              uses, np.array([1, 2], np.int64), np.array([7], np.int64))
    assert run.tolist() == [200.0, 0.0] and complete.tolist() == [True, True]
    assert held.tolist() == [300.0] and origin.tolist() == [0.0]
