"""Bulk emission arrays from the ledger (SQLite and PostgreSQL) against hand arithmetic and the pure functions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import numpy as np
import pytest

from lichain.core.emissions import own_emissions
from lichain.core.factors import FactorResolver
from lichain.core.model import (
    Activity,
    Consumption,
    Electricity,
    FactorOverride,
    Fuel,
    Lot,
    Material,
    Reagent,
    Retraction,
    Run,
    Shipment,
    Site,
)
from lichain.core.validate import LocatedEvent
from lichain.services.ingest import ingest_events
from lichain.storage.arrays import read_arrays
from lichain.storage.emissions_reader import read_emissions
from lichain.storage.sql import SqlStore
from tests.support.chain_text import event


def t(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


KG = 1_000_000  # mg per kg
SITES = (Site("M1", "Mine", "mine", "ID", "Org"), Site("R1", "Refinery", "refinery", "CN", "Org", "CN-EAST"),
         Site("C1", "Cells", "cell_plant", "KR", "Customer"))
MINING = Activity(electricity=(Electricity(D("2000"), "captive_coal"),), fuels=(Fuel("diesel", D("500")),))
REFINING = Activity(
    electricity=(Electricity(D("1000"), "grid"), Electricity(D("1000"), "guarantee_of_origin", "GO-1",
                                                            "generation:hydro")),
    reagents=(Reagent("NaOH", D("100")), Reagent("Unobtainium", D("5"))),
    water_m3=D("10"), process_kg_co2e=D("7"),
)
SECOND = Activity(electricity=(Electricity(D("1000"), "grid"),))
# an override from February for R1's grid, and one with a wrong unit (ignored, reported)
OVERRIDES = (FactorOverride("grid:CN-EAST", D("0.5"), "kg CO2/kWh", "R1 supplier mix 2026", "R1", t("2026-02-01")),
             FactorOverride("reagent:NaOH", D("9"), "kg CO2e/kWh", "typo"))


def chain() -> list[list[LocatedEvent]]:
    """Documents in ingest order (a retraction must come in a later document than its target)."""
    l1 = Lot("L1", "ORE", "M1", t("2026-01-01"), 1000 * KG, {"Ni": 12_000_000, "Co": 1_000_000}, activity=MINING)
    r1 = Run("R-1", "R1", "refining", t("2026-01-02"), t("2026-01-03"), (Consumption("L1", 500 * KG),),
             (Lot("L2", "NSO", "R1", t("2026-01-03"), 26_800_000, {"Ni": 223_300_000}),),
             {"Ni": 15_560, "Co": 500_000}, REFINING)
    # Ni in 100 × 0.012 = 1.2 kg; out 5.36 × 0.2233 = 1.196888 kg; loss 0.003112 kg
    r2 = Run("R-2", "R1", "refining", t("2026-03-01"), t("2026-03-01"), (Consumption("L1", 100 * KG),),
             (Lot("L3", "NSO", "R1", t("2026-03-01"), 5_360_000, {"Ni": 223_300_000}),),
             {"Ni": 3_112, "Co": 100_000}, SECOND)
    s0 = Shipment("S0", "L1", 600 * KG, "M1", "R1", t("2026-01-01"), "road", D(0))  # custody move, 0 t·km
    s1 = Shipment("S1", "L2", 12 * KG, "R1", "C1", t("2026-01-04"), "sea_container", D("9000"))
    s2 = Shipment("S2", "L2", 10 * KG, "R1", "C1", t("2026-01-05"), "sea_container", D("9000"))
    s3 = Shipment("S3", "L3", 5 * KG, "R1", "C1", t("2026-03-02"), "teleport", D("100"))
    first = [*SITES, Material("ORE", "ore", "ore"), Material("NSO", "nickel sulfate", "refined_salt", "NiSO4·6H2O"),
             *OVERRIDES, l1, s0, r1, r2, s1, s2, s3]
    docs = [[LocatedEvent(f"doc:{i}", event(b, getattr(b, "shipped_at", None) or getattr(b, "ended_at", None)
                                            or getattr(b, "produced_at", None) or t("2026-01-01")))
             for i, b in enumerate(first)]]
    s2_id = docs[0][-2].event.event_id
    docs.append([LocatedEvent("err:1", event(Retraction(s2_id, t("2026-01-06"), "double entry"), t("2026-01-06")))])
    return docs


@pytest.fixture
def loaded(store: SqlStore) -> SqlStore:
    for doc in chain():
        r = ingest_events(doc, store)
        assert r.ok, r.problems
    return store


def test_arrays_match_hand_arithmetic(loaded: SqlStore) -> None:
    sa = read_arrays(loaded)
    assert list(sa.arrays.lot_ids) == ["L1", "L2", "L3"] and len(sa.store_run_idx) == 2
    e = read_emissions(loaded, sa.store_run_idx, sa.store_lot_idx)

    # R-1 (January, before the override): grid 1000 × 0.5617 + GO 1000 × 0.5617 (location) or × 0.026 (market);
    # reagents 100 × 1.50 + water 10 × 0.1913 (Unobtainium has no factor: zero, reported); process 7
    loc = [2 * 561.7, 0.0, 150 + 1.913, 7.0]
    mkt = [561.7 + 26.0, 0.0, 150 + 1.913, 7.0]
    np.testing.assert_allclose(e.run_location_by_cause_kg_co2e[0], loc)
    np.testing.assert_allclose(e.run_market_by_cause_kg_co2e[0], mkt)
    assert e.run_location_kg_co2e[0] == pytest.approx(1282.313)
    assert e.run_market_kg_co2e[0] == pytest.approx(746.613)
    # R-2 (March, after the R1 override from February): 1000 × 0.5
    assert e.run_location_kg_co2e[1] == pytest.approx(500.0) == e.run_market_kg_co2e[1]
    assert e.run_complete.tolist() == [False, True]

    # L1 commissioning (mining): captive coal 2000 × 0.995 + diesel 500 MJ × 0.0919, both totals
    assert e.lot_location_kg_co2e.tolist() == pytest.approx([1990 + 45.95, 0, 0])
    assert e.lot_market_kg_co2e.tolist() == pytest.approx([1990 + 45.95, 0, 0])
    np.testing.assert_allclose(e.lot_location_by_cause_kg_co2e[0], [1990, 45.95, 0, 0])

    # transport: S1 0.012 t × 9000 km × 0.01612; S2 retracted; S3 by an unknown mode (zero, reported)
    assert e.lot_transport_tkm.tolist() == pytest.approx([0, 108, 0.5])
    assert e.lot_transport_kg_co2e.tolist() == pytest.approx([0, 108 * 0.01612, 0])
    assert e.lot_complete.tolist() == [True, True, False]

    probs = {(p.kind, p.location): p for p in e.problems}
    assert probs[("missing", "run R-1")].count == 1 and "Unobtainium" in probs[("missing", "run R-1")].message
    assert "transport:teleport" in probs[("missing", "shipment S3")].message
    assert ("unit", "override reagent:NaOH") in probs
    keys = {(f.key, f.version) for f in e.factors_used}
    assert {("grid:CN-EAST", "2026.11"), ("grid:CN-EAST", "override"), ("generation:hydro", "2026.11"),
            ("captive:coal", "2026.11"), ("fuel:diesel", "2026.11"), ("transport:sea_container", "2026.11")} <= keys
    assert e.library_version == "2026.11" and e.causes == ("electricity", "fuels", "reagents", "process")


def test_bulk_reader_agrees_with_the_pure_function(loaded: SqlStore) -> None:
    sa = read_arrays(loaded)
    e = read_emissions(loaded, sa.store_run_idx, sa.store_lot_idx)
    r = FactorResolver(overrides=OVERRIDES)
    site = {s.id: s for s in SITES}
    for i, (act, when) in enumerate(((REFINING, t("2026-01-03")), (SECOND, t("2026-03-01")))):
        pure = own_emissions(act, site["R1"], when, r)
        assert e.run_location_kg_co2e[i] == pytest.approx(float(pure.location_kg_co2e))
        assert e.run_market_kg_co2e[i] == pytest.approx(float(pure.market_kg_co2e))
    mine = own_emissions(MINING, site["M1"], t("2026-01-01"), r)
    assert e.lot_location_kg_co2e[0] == pytest.approx(float(mine.location_kg_co2e))


def test_subset_numbering_reads_only_those_rows(loaded: SqlStore) -> None:
    sa = read_arrays(loaded)
    e = read_emissions(loaded, sa.store_run_idx[1:], sa.store_lot_idx[2:])
    assert e.run_location_kg_co2e.tolist() == pytest.approx([500.0])
    assert e.lot_location_kg_co2e.tolist() == [0.0] and e.lot_transport_tkm.tolist() == pytest.approx([0.5])
    assert not any(p.location == "run R-1" for p in e.problems)


def test_empty_ledger_gives_empty_arrays(store: SqlStore) -> None:
    e = read_emissions(store, np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert e.run_location_kg_co2e.shape == (0,) and e.lot_location_by_cause_kg_co2e.shape == (0, 4)
    assert e.problems == () and e.factors_used == ()
