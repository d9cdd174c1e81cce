"""A partial shipment's transport burden lands on the mass that travelled (SQLite and PostgreSQL; docs/footprint.md
"Transport follows custody"): runs at the destination carry it in proportion to what they consume there, runs at
the origin carry none of it, a customer delivery reports it per kg shipped, and the footprint stays additive."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from lichain.core.factors import default_library
from lichain.core.model import Activity, Consumption, Fuel, Lot, Material, Run, Shipment, Site
from lichain.core.validate import LocatedEvent
from lichain.services import footprint as service
from lichain.services.footprint import footprint_of
from lichain.services.ingest import ingest_events
from lichain.storage.sql import SqlStore
from tests.support.chain_text import event

KG = 1_000_000  # mg per kg


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    service._memo.clear()


def t(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def f(key: str) -> float:
    """The shipped library's central value (UK DESNZ 2025 for transport:road and transport:sea_container)."""
    return float(default_library().get(key).value)


MASTER = [Site("A", "Plant A", "refinery", "CN", "Org"), Site("B", "Plant B", "precursor_plant", "KR", "Org"),
          Site("C", "Plant C", "cathode_plant", "HU", "Org"), Site("K", "Customer", "cell_plant", "PL", "CellCo"),
          Material("NSO", "nickel sulfate", "refined_salt")]
DIESEL = 1000.0  # MJ burnt to make the 20 t lot


def _lot(lid: str, site: str, day: str, kg: int, activity: Activity | None = None) -> Lot:
    return Lot(lid, "NSO", site, t(day), kg * KG, {}, activity=activity)


def _run(rid: str, site: str, day: str, lot: str, kg: int) -> Run:
    return Run(rid, site, "blending", t(day), t(day), (Consumption(lot, kg * KG),), (_lot(f"{rid}-OUT", site, day, kg),))


def _ingest(store: SqlStore, bodies: list[object]) -> None:
    r = ingest_events([LocatedEvent(f"t:{i}", event(b, t("2026-02-01"))) for i, b in enumerate(bodies)],  # type: ignore[arg-type]
                      store)
    assert r.ok, r.problems


def test_half_shipped_lot_charges_its_leg_only_to_destination_consumers(store: SqlStore) -> None:
    src = _lot("L", "A", "2026-01-01", 20_000, Activity(fuels=(Fuel("diesel", D(str(DIESEL))),)))
    _ingest(store, [*MASTER, src,
                    Shipment("S1", "L", 10_000 * KG, "A", "B", t("2026-01-02"), "road", D(1000)),
                    _run("RB", "B", "2026-01-03", "L", 10_000), _run("RA", "A", "2026-01-03", "L", 10_000)])
    leg = 10 * 1000 * f("transport:road")  # 10 t × 1000 km × kg CO2e/(t·km) = 770.3 kg CO2e
    made = DIESEL * f("fuel:diesel")  # the lot's own commissioning emissions, half to each run
    b, a, lot = footprint_of(store, "RB-OUT"), footprint_of(store, "RA-OUT"), footprint_of(store, "L")
    assert b["by_cause"]["transport"] * b["mass_kg"] == pytest.approx(leg, rel=1e-9)
    assert b["own_kg_co2e"] == pytest.approx(leg, rel=1e-9)  # inbound transport is the B run's own emission
    assert b["kg_co2e"] == pytest.approx(made / 2 + leg, rel=1e-9)
    assert a["by_cause"]["transport"] == 0 and a["kg_co2e"] == pytest.approx(made / 2, rel=1e-9)
    # the lot itself does not carry the leg over all its 20 t any more
    assert lot["by_cause"]["transport"] == 0 and lot["kg_co2e"] == pytest.approx(made, rel=1e-9)
    assert b["by_site"]["B"] * b["mass_kg"] == pytest.approx(leg, rel=1e-9)
    assert b["by_stage"]["raw_material_acquisition_and_pre_processing"] * b["mass_kg"] == pytest.approx(
        made / 2 + leg, rel=1e-9)
    # additive: what the end products carry is every emission once
    assert a["kg_co2e"] + b["kg_co2e"] == pytest.approx(made + leg, rel=1e-9)
    assert lot["deliveries"] == [pytest.approx({
        "shipment": "S1", "to_site": "B", "to_organisation": None, "mass_kg": 10_000.0, "transport_kg_co2e": leg,
        "earlier_legs_kg_co2e_per_kg": 0.0, "delivered_kg_co2e_per_kg": made / 20_000 + leg / 10_000})]


def test_multi_leg_burden_follows_the_mass_and_delivery_is_per_kg_shipped(store: SqlStore) -> None:
    _ingest(store, [*MASTER, _lot("L", "A", "2026-01-01", 20_000),
                    Shipment("S1", "L", 10_000 * KG, "A", "B", t("2026-01-02"), "road", D(1000)),
                    Shipment("S2", "L", 4_000 * KG, "B", "C", t("2026-01-03"), "road", D(500)),
                    _run("RB", "B", "2026-01-04", "L", 6_000), _run("RC", "C", "2026-01-04", "L", 4_000),
                    Shipment("S3", "RC-OUT", 1_000 * KG, "C", "K", t("2026-01-05"), "sea_container", D(900),
                             "CellCo")])
    e1 = 10 * 1000 * f("transport:road")
    e2 = 4 * 500 * f("transport:road")
    e3 = 1 * 900 * f("transport:sea_container")
    # B keeps 6 of the 10 t that came from A: 6/10 of leg 1; C got 4/10 of leg 1 plus all of leg 2
    b, c = footprint_of(store, "RB-OUT"), footprint_of(store, "RC-OUT")
    assert b["kg_co2e"] == pytest.approx(0.6 * e1, rel=1e-9)
    assert c["kg_co2e"] == pytest.approx(0.4 * e1 + e2, rel=1e-9)
    assert b["kg_co2e"] + c["kg_co2e"] == pytest.approx(e1 + e2, rel=1e-9)
    (d,) = c["deliveries"]
    assert d["shipment"] == "S3" and d["to_organisation"] == "CellCo" and d["mass_kg"] == 1000
    assert d["transport_kg_co2e"] == pytest.approx(e3, rel=1e-9)
    assert d["delivered_kg_co2e_per_kg"] == pytest.approx((0.4 * e1 + e2) / 4000 + e3 / 1000, rel=1e-9)
    # the second leg starts where the first left the lot: 1/10 t of leg 1 per kg at B
    s2 = next(x for x in footprint_of(store, "L")["deliveries"] if x["shipment"] == "S2")
    assert s2["earlier_legs_kg_co2e_per_kg"] == pytest.approx(e1 / 10_000, rel=1e-9)
