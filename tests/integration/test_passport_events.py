"""Cell makers' cell data and battery registrations as ledger events, on SQLite and PostgreSQL: recorded,
refused with their field when they break a rule (nothing written), round-tripped through EPCIS and the workbook."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

from lichain.core.codec import canonical_payload, content_event_id, kind_of
from lichain.core.model import BatteryRegistration, CellSpec, Event, LocatedEvent
from lichain.io.tabular_read import read_workbook
from lichain.io.tabular_write import write_workbook
from lichain.services.exchange import export_epcis
from lichain.services.ingest import ingest_events
from lichain.services.record import ingest_file
from lichain.storage.passport_sql import cell_specs, registrations
from lichain.storage.sql import SqlStore, open_store
from tests.support.chain_text import parse_chain

CHAIN = """
site CAM1 cathode_plant CN
site CELL1 cell_plant HU
material NCM cam LiNi0.8Co0.1Mn0.1O2
material CELL cell
lot CAM-A NCM @CAM1 2026-01-01 1000kg Ni=0.4837 Co=0.0607 Mn=0.0566 Li=0.0715
ship S1 CAM-A 1000kg CAM1->CELL1 2026-01-10 road 100km
run RUN-C cell_manufacturing @CELL1 2026-02-01..2026-02-02 in CAM-A:1000kg out CELLS:CELL:2500kg:Ni=0.19348:Co=0.02428:Mn=0.02264:Li=0.0286
"""
T = datetime(2026, 2, 3, tzinfo=UTC)
SPEC = CellSpec("CELLS", "DEMO-P80", "ev", "NMC811", D("80"), D("3.65"), D("0.292"), D("1.25"), "Demo Cell Kft.",
                2000, D("10"), chemistry_name="lithium nickel manganese cobalt oxide", manufacturer_country="HU",
                temp_idle_min_c=D("-20"), temp_idle_max_c=D("45"), internal_resistance_ohm=D("0.0012"))


def located(body: CellSpec | BatteryRegistration, where: str, at: datetime = T) -> LocatedEvent:
    k = kind_of(body)
    return LocatedEvent(where, Event(content_event_id(k, canonical_payload(body)), k, at, body))


def _ledger(store: SqlStore) -> None:
    r = ingest_events(parse_chain(CHAIN), store)
    assert r.ok, r.problems


def test_spec_and_batteries_are_recorded_and_read_back(store: SqlStore) -> None:
    _ledger(store)
    reg = BatteryRegistration("CELLS", ("BAT-1", "BAT-2"))
    r = ingest_events([located(SPEC, "spec"), located(reg, "reg")], store)
    assert r.ok and r.events_written == 2, r.problems
    assert [e.body for e in cell_specs(store, "CELLS")] == [SPEC]
    assert [e.body for e in registrations(store)] == [reg]


def test_refusals_are_located_and_nothing_is_written(store: SqlStore) -> None:
    _ledger(store)
    head = store.head()
    bad = dataclasses.replace(SPEC, rated_capacity_ah=D("80000"), rated_energy_kwh=D("0.5"), category="car",
                              temp_idle_min_c=D("50"))
    r = ingest_events([located(SPEC, "ok"), located(bad, "bad")], store)
    assert not r.ok and store.head() == head
    locs = {p.location for p in r.problems}
    assert {"bad/rated_capacity_ah", "bad/category", "bad/temp_idle_max_c"} <= locs, r.problems
    energy = dataclasses.replace(SPEC, rated_energy_kwh=D("0.5"))  # 80 Ah × 3.65 V = 0.292 kWh, 71 % off
    r = ingest_events([located(energy, "e")], store)
    assert [p.location for p in r.problems] == ["e/rated_energy_kwh"]
    r = ingest_events([located(dataclasses.replace(SPEC, lot="NOPE"), "x")], store)
    assert [p.location for p in r.problems] == ["x/lot"]
    assert store.head() == head


def test_a_battery_id_is_registered_once_and_a_second_life_names_its_predecessor(store: SqlStore) -> None:
    _ledger(store)
    assert ingest_events([located(BatteryRegistration("CELLS", ("BAT-1",)), "a")], store).ok
    r = ingest_events([located(BatteryRegistration("CELLS", ("BAT-2", "BAT-1")), "b")], store)
    assert [p.location for p in r.problems] == ["b/battery_ids/1"]
    r = ingest_events([located(BatteryRegistration("CELLS", ("BAT-3", "BAT-3")), "c")], store)
    assert [p.location for p in r.problems] == ["c/battery_ids/1"]
    second = BatteryRegistration("CELLS", ("BAT-1-R",), "repurposed", "BAT-9", "Second Life GmbH")
    r = ingest_events([located(second, "d")], store)
    assert [p.location for p in r.problems] == ["d/predecessor"]
    ok = dataclasses.replace(second, predecessor="BAT-1")
    assert ingest_events([located(ok, "e")], store).ok
    r = ingest_events([located(dataclasses.replace(ok, operator=None, battery_ids=("BAT-1-S",)), "f")], store)
    assert [p.location for p in r.problems] == ["f/operator"]


def test_epcis_and_workbook_round_trip(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    _ledger(store)
    reg = BatteryRegistration("CELLS", ("BAT-1", "BAT-2"))
    assert ingest_events([located(SPEC, "spec"), located(reg, "reg")], store).ok
    out = tmp_path / "l.jsonld"
    with out.open("w", encoding="utf-8") as fp:
        export_epcis(store, fp)
    text = out.read_text(encoding="utf-8")
    assert '"lichain:cellSpec"' in text and '"battery_ids":["BAT-1","BAT-2"]' in text
    copy = open_store(f"sqlite:///{tmp_path / 'b.db'}")
    assert ingest_file(copy, out).ok
    assert [e.body for e in cell_specs(copy, "CELLS")] == [SPEC]
    assert [e.body for e in registrations(copy)] == [reg]
    events = [le.event for le in parse_chain(CHAIN)]
    xlsx = tmp_path / "w.xlsx"
    write_workbook([*events, located(SPEC, "s").event, located(reg, "r").event], xlsx)
    back, problems = read_workbook(xlsx)
    assert problems == []
    bodies = [le.event.body for le in back]
    assert SPEC in bodies and reg in bodies
