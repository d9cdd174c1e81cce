"""A passport as IDTA-02035 Digital Battery Passport submodels (SAMM value-only JSON), each valid against its schema.

Why this exists: IDTA-02035 is the integrated IDTA / Catena-X successor of the Battery Pass model (Catena-X uses it
from release 26.03). lichain fills the five parts it has data for — Part 1 Digital Nameplate, Part 3 Product
Carbon Footprint, Part 4 Technical Data, Part 6 Material Composition, Part 7 Circularity — in the value-only JSON
of their SAMM aspect models (the payload a submodel's ``$value`` serialisation carries), and lists every other
field as a missing input. Part 2 (handover documentation) and Part 5 (product condition: state of health in use)
are documents and battery-management data the ledger does not hold. Multi-language texts are ``[{"en": ...}]``.
The same figures and the same missing-input reasons as the Battery Pass form (:mod:`lichain.io.passport_batterypass`).
"""

from __future__ import annotations

from typing import Any

from lichain.core.passport_data import MissingInput, PassportData
from lichain.io.passport_batterypass import REASONS, clean
from lichain.io.passport_schemas import IDTA_SCHEMAS, absent_required, load_schema

__all__ = ["idta_submodels"]

_STAGE = {"original": "original", "reused": "re-used", "repurposed": "repurposed", "remanufactured": "remanufactured"}
_RECYCLED = (("Co", "Cobalt"), ("Ni", "Nickel"), ("Li", "Lithium"), ("Pb", "Lead"))
_REASONS = {
    "URIOfTheProduct": "product web page: the economic operator's input",
    "SerialNumber": "a lot's passport describes its battery model: register battery ids for serial numbers",
    "Markings": REASONS["labels"], "EUDeclarationOfConformity": REASONS["declarationOfConformity"],
    "ResultsOfTestReportsProvingCompliance": REASONS["resultOfTestReport"],
    "WarrantyInformation": REASONS["warrentyPeriod"], "PcfCalculationMethods": "calculation method named by the "
    "delegated act under Art. 7(1), not adopted", "PerformanceClass": REASONS["carbonFootprintPerformanceClass"],
    "WebLinkToPublicCarbonFootprintStudy": REASONS["carbonFootprintStudy"],
    "RenewableContent": REASONS["renewableContent"], "DismantlingAndRemovalInformation":
    REASONS["dismantlingAndRemovalInformation"], "SparePartSources": REASONS["sparePartSources"],
    "SafetyMeasures": REASONS["safetyMeasures"], "EndOfLifeInformation": REASONS["endOfLifeInformation"],
    "HazardousSubstanceIdentifier": REASONS["hazardousSubstanceIdentifier"],
}
_DEFAULT = "not recorded in the ledger: the cell maker's input (cell_specs sheet or lichain:CellSpec event)"


def _t(text: str | None) -> list[dict[str, str]] | None:
    return None if text is None else [{"en": text}]


def _f(v: Any) -> float | None:
    return None if v is None else float(v)


def _nameplate(d: PassportData) -> dict[str, Any]:
    s = d.spec
    return clean({
        "ManufacturerName": _t(s.manufacturer),
        "AddressInformation": {"NationalCode": _t(s.manufacturer_country), "Street": _t(s.manufacturer_street),
                               "ZipCode": _t(s.manufacturer_postal_code)},
        "SerialNumber": d.battery_id, "DateOfManufacture": d.manufactured_at.date().isoformat(),
        "UniqueFacilityIdentifier": d.site, "LifeCycleStage": _STAGE[d.status],
        "ManufacturerIdentifier": s.manufacturer_id,
    })


def _technical(d: PassportData) -> dict[str, Any]:
    s = d.spec
    level = s.internal_resistance_level or "cell"
    res = _f(s.internal_resistance_ohm)
    return clean({
        "GeneralInformation": {"ManufacturerName": s.manufacturer, "ManufacturerIdentifier": s.manufacturer_id,
                               "BatteryCategory": s.category, "BatteryMass": float(s.mass_kg)},
        "TechnicalPropertyAreas": {
            "CapacityEnergyVoltage": {"NominalVoltage": _f(s.nominal_voltage_v), "MinVoltage": _f(s.min_voltage_v),
                                      "MaxVoltage": _f(s.max_voltage_v), "RatedCapacity": _f(s.rated_capacity_ah),
                                      "CapacityFade": _f(s.capacity_fade_pct)},
            "RoundTripEnergyEfficiency": {
                "InitialRoundTripEnergyEfficiency": _f(s.round_trip_efficiency_pct),
                "RoundTripEnergyEfficiencyAt50PercentOfCycleLife": _f(s.round_trip_efficiency_50_pct),
                "EnergyRoundTripEfficiencyFade": _f(s.round_trip_efficiency_fade_pct),
                "InitialSelfDischargingRate": _f(s.self_discharge_pct_per_month)},
            "Resistance": {f"InitialInternalResistanceAtBattery{level.capitalize()}Level": res},
            "PowerCapability": {"MaximumPermittedBatteryPower": _f(s.rated_max_power_kw),
                                "PowerFade": _f(s.power_fade_pct)},
            "Temperature": {"TemperatureRangeIdleState_LowerBoundary": _f(s.temp_idle_min_c),
                            "TemperatureRangeIdleState_UpperBoundary": _f(s.temp_idle_max_c)},
            "Lifetime": {"ExpectedLifetimeInCalendarYears": _f(s.expected_lifetime_years),
                         "ExpectedNumberOfCycles": s.expected_lifetime_cycles,
                         "CapacityThresholdExhaustion": _f(s.capacity_threshold_exhaustion_pct),
                         "CycleLifeReferenceTest": [s.lifetime_reference_test] if s.lifetime_reference_test else None,
                         "CrateOfRelevantCycleLifeTest": _f(s.c_rate_life_cycle_test)},
        },
    })


def _carbon(d: PassportData) -> dict[str, Any]:
    v = d.per_kwh(d.footprint_kg_co2e_per_kg)
    if v is None:
        return {}
    return {"ProductCarbonFootprints": [{"PcfCo2eq": v, "ReferenceImpactUnitForCalculation": "kwH",
                                         "QuantityOfMeasureForCalculation": 1.0,
                                         "LifeCyclePhases": ["A1 - raw material supply (and upstream production)",
                                                             "A3 - production"]}]}


def _composition(d: PassportData) -> dict[str, Any]:
    s = d.spec
    return clean({
        "BatteryChemistry": {"ShortName": s.chemistry, "ClearName": s.chemistry_name},
        "BatteryMaterials": [{"BatteryMaterialLocation": {"ComponentName": m.component},
                              "BatteryMaterialIdentifier": m.cas, "BatteryMaterialName": m.name,
                              "BatteryMaterialMass": m.mass_g, "IsCriticalRawMaterial": m.critical}
                             for m in d.materials] or None,
        "HazardousSubstances": [{"HazardousSubstanceName": h.name, "HazardousSubstanceConcentration":
                                 h.concentration_pct, "HazardousSubstanceLocation": {"ComponentName": h.component}}
                                for h in d.hazards] or None,
    })


def _circularity(d: PassportData) -> dict[str, Any]:
    by = {r.element: r for r in d.recycled}
    rows = [{"RecycledMaterial": name, "PreConsumerShare": 100 * r.pre_consumer,
             "PostConsumerShare": 100 * r.post_consumer}
            for el, name in _RECYCLED if (r := by.get(el)) is not None
            and r.pre_consumer is not None and r.post_consumer is not None]
    return {"RecycledContentInformation": rows} if rows else {}


def idta_submodels(d: PassportData) -> tuple[dict[str, dict[str, Any]], list[MissingInput]]:
    """The five IDTA-02035 submodels lichain fills, and every field left empty with the reason."""
    subs = {"Nameplate": _nameplate(d), "TechnicalData": _technical(d), "CarbonFootprint": _carbon(d),
            "MaterialComposition": _composition(d), "Circularity": _circularity(d)}
    missing = []
    for name, payload in subs.items():
        for ptr in absent_required(load_schema(IDTA_SCHEMAS[name]), payload):
            key = ptr.rsplit("/", 1)[-1]
            missing.append(MissingInput(name, ptr, _REASONS.get(key, REASONS.get(key[:1].lower() + key[1:],
                                                                                  _DEFAULT))))
    if d.footprint_kg_co2e_per_kg is not None:
        missing.append(MissingInput("CarbonFootprint", "/ProductCarbonFootprints/0/LifeCyclePhases/A4, C1-C4",
                                    "distribution and end of life of the battery are outside the ledger's "
                                    "cradle-to-gate footprint"))
    have = {r["RecycledMaterial"] for r in subs["Circularity"].get("RecycledContentInformation", [])}
    missing += [MissingInput("Circularity", f"/RecycledContentInformation/{name}",
                             "lead is not tracked by the ledger" if el == "Pb" else
                             f"no defined recycled share of {el} in the lot") for el, name in _RECYCLED
                if name not in have]
    return subs, missing
