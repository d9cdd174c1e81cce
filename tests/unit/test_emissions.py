"""Own and transport emissions against hand arithmetic: location vs market electricity, causes, missing factors."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from lichain.core.emissions import (
    CAUSES,
    Emissions,
    activity_lines,
    line_factor,
    own_emissions,
    transport_emissions,
)
from lichain.core.factors import FactorLibrary, FactorResolver
from lichain.core.model import Activity, Electricity, FactorOverride, Fuel, Reagent, Shipment, Site

T = datetime(2026, 1, 15, tzinfo=UTC)
CN_EAST = Site("R1", "Refinery", "refinery", "CN", "Org", "CN-EAST")
CN = Site("R2", "Refinery 2", "refinery", "CN", "Org")
ID = Site("M1", "HPAL", "refinery", "ID", "Org")
R = FactorResolver()


def elec(*items: Electricity) -> Activity:
    return Activity(electricity=items)


def em(activity: Activity, site: Site = CN_EAST, resolver: FactorResolver = R) -> Emissions:
    return own_emissions(activity, site, T, resolver)


def test_grid_electricity_is_the_regional_grid_factor_in_both_totals() -> None:
    e = em(elec(Electricity(D("1000"), "grid")))
    assert e.location_kg_co2e == D("561.7") == D(1000) * D("0.5617")
    assert e.market_kg_co2e == D("561.7")  # no residual mix for CN-EAST in the library: the grid mix
    assert e.location_by_cause_kg_co2e["electricity"] == D("561.7") and e.complete and not e.problems


def test_guarantee_of_origin_changes_only_the_market_based_total() -> None:
    e = em(elec(Electricity(D("1000"), "guarantee_of_origin", "GO-2026-17", "generation:hydro")))
    assert e.location_kg_co2e == D("561.7")
    assert e.market_kg_co2e == D("26") == D(1000) * D("0.026")
    assert {f.key for f in e.factors} == {"grid:CN-EAST", "generation:hydro"}


def test_ppa_instrument_reference_can_name_a_recorded_factor() -> None:
    r = FactorResolver(overrides=[FactorOverride("PPA-wind-42", D("0.012"), "kg CO2e/kWh", "PPA contract annex")])
    e = em(elec(Electricity(D("2000"), "ppa", "PPA-wind-42")), resolver=r)
    assert e.location_kg_co2e == D("1123.4") and e.market_kg_co2e == D("24")  # 2000 × 0.012


def test_contract_without_a_usable_factor_falls_back_to_the_residual_mix_and_says_so() -> None:
    e = em(elec(Electricity(D("1000"), "guarantee_of_origin", "GO-unknown")), site=CN)
    assert e.location_kg_co2e == D("582")  # grid:CN (Ember, lifecycle) 1000 × 0.582
    assert e.market_kg_co2e == D("585.6")  # residual:CN (MEE, excl. market-traded non-fossil) 1000 × 0.5856
    assert e.complete and [p.kind for p in e.problems] == ["fallback"]
    assert "GO-unknown" in e.problems[0].message


def test_plain_grid_uses_the_residual_mix_in_the_market_based_total() -> None:
    e = em(elec(Electricity(D("1000"), "grid")), site=CN)
    assert (e.location_kg_co2e, e.market_kg_co2e) == (D("582"), D("585.6"))


@pytest.mark.parametrize(("source", "key", "factor"), [
    ("captive_coal", None, "0.995"),
    ("captive_gas", None, "0.743"),
    ("direct_line", "generation:hydro", "0.026"),
    ("captive_coal", "generation:gas", "0.743"),  # an explicit factor of the captive plant
])
def test_physical_supply_counts_at_its_generation_factor_in_both_totals(source: str, key: str | None,
                                                                         factor: str) -> None:
    e = em(elec(Electricity(D("1000"), source, None, key)), site=ID)
    assert e.location_kg_co2e == e.market_kg_co2e == D(1000) * D(factor)
    assert e.complete and not e.problems


def test_direct_line_without_a_generator_factor_counts_at_the_grid_and_says_so() -> None:
    e = em(elec(Electricity(D("1000"), "direct_line")), site=ID)
    assert e.location_kg_co2e == e.market_kg_co2e == D("676")  # grid:ID 0.676
    assert e.complete and e.problems[0].kind == "fallback" and "factor_key" in e.problems[0].message


def test_unknown_country_uses_the_world_average_with_a_fallback_problem() -> None:
    e = em(elec(Electricity(D("100"), "grid")), site=Site("X", "X", "mine", "ZZ", "Org"))
    assert e.location_kg_co2e == D("48.1")  # grid:world 0.481
    assert e.problems[0].kind == "fallback" and "ZZ" in e.problems[0].message


def test_fuels_reagents_water_and_process_by_cause() -> None:
    a = Activity(
        electricity=(Electricity(D("1000"), "grid"),),
        fuels=(Fuel("natural_gas", D("100")), Fuel("coal", D("1000"))),
        reagents=(Reagent("NaOH", D("10")), Reagent("H2SO4", D("20"))),
        water_m3=D("2"),
        process_kg_co2e=D("5"),
    )
    e = em(a)
    fuels = D(100) * D("0.0656") + D(1000) * D("0.1108")  # 6.56 + 110.8
    reagents = D(10) * D("1.50") + D(20) * D("0.182") + D(2) * D("0.1913")  # 15 + 3.64 + 0.3826
    assert e.location_by_cause_kg_co2e == {"electricity": D("561.7"), "fuels": fuels, "reagents": reagents,
                                           "process": D(5)}
    assert e.location_kg_co2e == D("561.7") + fuels + reagents + D(5) == D("703.0826")
    assert e.market_by_cause_kg_co2e == e.location_by_cause_kg_co2e
    assert tuple(e.location_by_cause_kg_co2e) == CAUSES


def test_missing_reagent_factor_counts_zero_and_is_reported_not_silent() -> None:
    e = em(Activity(reagents=(Reagent("NaOH", D("10")), Reagent("Unobtainium", D("5")))))
    assert e.location_kg_co2e == D("15.00")
    assert not e.complete
    assert [(p.kind, p.keys) for p in e.problems] == [("missing", ("reagent:Unobtainium",))]


def test_reagent_factor_key_with_the_wrong_unit_is_a_missing_factor() -> None:
    e = em(Activity(reagents=(Reagent("gas", D("5"), "fuel:natural_gas"),)))  # per MJ, not per kg
    assert e.location_kg_co2e == 0 and not e.complete and "per kg" in e.problems[0].message


def test_site_and_period_override_applies_to_that_site_and_period_only() -> None:
    o = FactorOverride("reagent:NaOH", D("0.9"), "kg CO2e/kg", "supplier EPD", "R1",
                       datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    r = FactorResolver(overrides=[o])
    a = Activity(reagents=(Reagent("NaOH", D("10")),))
    assert own_emissions(a, CN_EAST, T, r).location_kg_co2e == D("9.0")
    assert own_emissions(a, CN, T, r).location_kg_co2e == D("15.00")
    assert own_emissions(a, CN_EAST, datetime(2026, 2, 1, tzinfo=UTC), r).location_kg_co2e == D("15.00")


def test_empty_activity_is_zero_and_complete() -> None:
    e = em(Activity())
    assert e.location_kg_co2e == e.market_kg_co2e == 0 and e.complete


def test_lines_mirror_the_store_rows() -> None:
    a = Activity(electricity=(Electricity(D("1"), "ppa", "X", "k"),), fuels=(Fuel("diesel", D("2")),),
                 reagents=(Reagent("NaOH", D("3"), "reagent:NaOH:placeholder"),), water_m3=D("4"),
                 process_kg_co2e=D("5"))
    assert [(ln.kind, ln.name, ln.amount) for ln in activity_lines(a)] == [
        ("electricity", "ppa", D(1)), ("fuel", "diesel", D(2)), ("reagent", "NaOH", D(3)), ("water", "water", D(4)),
        ("process", "process", D(5))]
    lf = line_factor("reagent", "NaOH", "reagent:NaOH:placeholder", None, CN_EAST, T, R)
    assert lf.location == D("1.2") and lf.cause == "reagents"
    assert line_factor("nonsense", "x", None, None, CN_EAST, T, R).counted is False


def test_transport_is_tonnes_times_km_times_mode_factor() -> None:
    s = Shipment("S1", "L1", 25_000_000_000, "R1", "C1", T, "sea_container", D("9000"))  # 25 t in mg
    t = transport_emissions(s, R)
    assert t.tonne_km == D("225000") and t.kg_co2e == D("3627") == D(25) * D(9000) * D("0.01612")
    assert t.factor is not None and t.factor.key == "transport:sea_container" and not t.problems


def test_transport_with_an_unknown_mode_is_reported() -> None:
    s = Shipment("S1", "L1", 1_000_000, "R1", "C1", T, "teleport", D("10"))
    t = transport_emissions(s, R)
    assert t.kg_co2e == 0 and t.factor is None and t.problems[0].kind == "missing"
    assert "transport:teleport" in t.problems[0].message


def test_transport_override_from_the_origin_site() -> None:
    r = FactorResolver(overrides=[FactorOverride("transport:road", D("0.05"), "kg CO2e/t-km", "carrier data", "M1")])
    s = Shipment("S1", "L1", 10_000_000_000, "M1", "R1", T, "road", D("100"))  # 10 t × 100 km
    assert transport_emissions(s, r).kg_co2e == D("50")
    assert transport_emissions(Shipment("S2", "L1", 10_000_000_000, "X", "R1", T, "road", D("100")),
                               r).kg_co2e == D("77.03")  # default 0.07703


def test_a_library_without_grid_factors_reports_missing_electricity() -> None:
    e = own_emissions(elec(Electricity(D("10"), "grid")), CN_EAST, T, FactorResolver(FactorLibrary([])))
    assert e.location_kg_co2e == 0 and not e.complete


def test_a_recorded_site_grid_factor_is_not_mixed_with_the_library_residual() -> None:
    r = FactorResolver(overrides=[FactorOverride("grid:CN", D("0.3"), "kg CO2/kWh", "site meter mix", "R2")])
    e = em(elec(Electricity(D("1000"), "grid")), site=CN, resolver=r)
    assert e.location_kg_co2e == e.market_kg_co2e == D("300")
