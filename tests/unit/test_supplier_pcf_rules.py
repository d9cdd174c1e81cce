"""Supplier-PCF rules and units without a store: per-kg conversion, per-element factors, cited transport modes,
and the supplier_pcfs sheet's round trip."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from lichain.core.codec import body_from_json, body_to_json, canonical_payload
from lichain.core.emissions import own_emissions
from lichain.core.factors import FactorResolver, default_library, per_element
from lichain.core.model import Activity, Event, EventKind, Reagent, Site, SupplierPcf
from lichain.core.supplier_pcf import LotFacts, pcf_per_kg, pcf_problems
from lichain.demo.sites import ROUTES
from lichain.io.tabular_read import read_workbook
from lichain.io.tabular_template import TEMPLATE
from lichain.io.tabular_write import write_workbook

T = datetime(2026, 1, 1, tzinfo=UTC)
SITE = Site("R1", "Refinery", "refinery", "CN", "Own", "CN-EAST")


def test_units_per_kg_of_lot_and_per_kg_of_element() -> None:
    assert per_element("kg CO2e/kg Ni") == "Ni" and per_element("kg CO2e/kg") is None
    assert per_element("kg CO2e/kg Xx") is None  # not an element symbol
    p = SupplierPcf("L", D("20"), "S", "D", "kg CO2e/kg Ni")
    assert pcf_per_kg(p, {"Ni": 390_000_000}) == D("7.8")  # 20 x 0.39
    assert "has no Ni assay" in str(pcf_per_kg(p, {"Co": 1}))
    assert pcf_per_kg(SupplierPcf("L", D("5.0"), "S", "D"), {}) == D("5.0")
    assert "not supported" in str(pcf_per_kg(SupplierPcf("L", D(5), "S", "D", "kg CO2e/t"), {}))


def test_canonical_json_round_trip_and_optional_fields() -> None:
    p = SupplierPcf("L", D("5.000"), "S", "DOC", "kg CO2e/kg", "cradle-to-gate", "ISO 14067:2018", D("2.5"), None,
                    T, None)
    d = body_to_json(p)
    assert d["value"] == "5" and "primary_data_share" not in d and "valid_until" not in d
    back = body_from_json(EventKind.SUPPLIER_PCF, d)
    assert canonical_payload(back) == canonical_payload(p)


def test_rules_name_every_problem_with_its_field() -> None:
    facts = LotFacts({"Li": 188_000_000}, T, None)
    p = SupplierPcf("L", D("NaN"), "S", "D")
    assert pcf_problems(p, facts) == [("/value", "supplier PCF of lot L: value must be a finite number, got NaN")]
    bad = SupplierPcf("L", D(1), " ", "", "kg CO2e/kg", "gate-to-gate", "my own method", D(0), D(101),
                      datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    assert [ptr for ptr, _ in pcf_problems(bad, facts)] == [
        "/boundary", "/standard", "/data_quality_rating", "/primary_data_share", "/supplier", "/document",
        "/valid_until"]
    assert pcf_problems(SupplierPcf("L", D(1), "S", "D", standard="pact methodology v2"), facts) == []


def test_per_element_factor_uses_the_owner_assay_and_is_refused_without_it() -> None:
    key = "material:Co(OH)2:DRC"
    f = float(default_library()[key].value)  # 23.7 kg CO2e/kg Co
    act = Activity(reagents=(Reagent("COH", D(1000), key),))
    r = FactorResolver()
    e = own_emissions(act, SITE, T, r, {"Co": D("0.3")}, "lot CO")
    assert float(e.location_kg_co2e) == pytest.approx(1000 * 0.3 * f, rel=1e-12) and e.complete
    run = own_emissions(act, SITE, T, r)  # a run's reagent: no assay at all
    assert run.location_kg_co2e == 0 and not run.complete
    assert "per kg of Co contained (kg CO2e/kg Co)" in run.problems[0].message
    no_co = own_emissions(act, SITE, T, r, {"Ni": D("0.4")}, "lot CO")
    assert not no_co.complete and "lot CO has no Co assay" in no_co.problems[0].message


def test_every_transport_mode_of_the_template_and_the_demo_has_a_cited_factor() -> None:
    lib = default_library()
    modes = {str(s.get("mode") or "sea_container") for s in TEMPLATE["shipments"]} | {r.mode for r in ROUTES.values()}
    assert "sea_bulk" in modes
    for mode in sorted(modes):
        f = lib.get(f"transport:{mode}")
        assert f is not None, mode
        assert f.per == "t-km" and f.is_emission and f.citations, mode


@pytest.mark.parametrize("name", ["pcf.xlsx", "pcf"])
def test_supplier_pcf_sheet_round_trips(tmp_path: Path, name: str) -> None:
    p = SupplierPcf("MHP-1", D("20.5"), "Example Nickel", "EN-PCF-1", "kg CO2e/kg Ni", "cradle-to-gate",
                    "Catena-X PCF Rulebook", D("2.5"), D("60"), T, datetime(2026, 12, 31, tzinfo=UTC))
    ev = Event("", EventKind.SUPPLIER_PCF, datetime(2026, 1, 20, tzinfo=UTC), p)
    write_workbook([ev], tmp_path / name)
    events, problems = read_workbook(tmp_path / name)
    assert problems == []
    (back,) = events
    assert back.event.kind is EventKind.SUPPLIER_PCF and back.event.time == ev.time
    assert canonical_payload(back.event.body) == canonical_payload(p)
    assert back.location.endswith("supplier_pcfs!A2") or back.location.endswith("supplier_pcfs.csv:2:lot")
