"""A passport as Battery Pass Data Model 1.2 aspects (DIN DKE SPEC 99100), each valid against its shipped schema.

Why this exists: the Battery Pass consortium's model is the reference data model of the Art. 77 passport. This
module writes :class:`lichain.core.passport_data.PassportData` as its seven aspects, filling what the ledger knows
and listing every other field as a missing input (:func:`lichain.io.passport_schemas.absent_required`), with
the reason. Units follow the model: kg CO2e/kWh, kg, Ah, V, kWh, kW, Ω, %, °C, years, cycles; recycled shares
and concentrations in percent (0..100), material masses in grams.

Carbon footprint per life-cycle stage: the ledger's footprint of the cell lot is cradle-to-gate. The cell maker's
own step (its run at the cell plant) is ``MainProduction``; everything upstream (mining, refining, pCAM and CAM,
recycled feed, transport) is ``RawMaterialExtraction`` — the reading of Annex II point 4 that the footprint
notes give ([R]; the delegated act is not adopted). ``Distribution`` (the battery after the factory gate) and
``Recycling`` (the battery's own end of life) are outside that boundary: listed missing, never written as 0.
"""

from __future__ import annotations

from typing import Any

from lichain.core.codec import format_time
from lichain.core.passport_data import MissingInput, PassportData
from lichain.io.passport_schemas import BATTERYPASS_SCHEMAS, absent_required, load_schema

__all__ = ["REASONS", "batterypass_aspects", "clean"]

_STATUS = {"original": "Original", "reused": "Reused", "repurposed": "Repurposed",
           "remanufactured": "Remanufactured"}
_RECYCLED = (("Co", "Cobalt"), ("Ni", "Nickel"), ("Li", "Lithium"), ("Pb", "Lead"))
_OPERATOR = "the economic operator's input (not in the ledger)"
#: Why a field is missing, by property name (default: the cell maker's input, not recorded).
REASONS: dict[str, str] = {
    "carbonFootprintPerformanceClass": "performance classes are set by a delegated act under Art. 7(2), not "
                                       "adopted",
    "carbonFootprintStudy": "URL of the public carbon-footprint study: " + _OPERATOR,
    "operatorInformation": _OPERATOR, "puttingIntoService": "information from use (Annex XIII 4(c))",
    "warrentyPeriod": "commercial warranty: " + _OPERATOR, "batteryCondition": "state of health in use: from the "
    "battery management system (Annex XIII 4(a))", "thirdPartyAussurances": "third-party verification (Art. 51): "
    "not recorded", "supplyChainIndicies": "no index is defined by the regulation: not computed",
    "hazardousSubstanceClass": "CLP hazard class: not derived from an assay (cell maker's input)",
    "hazardousSubstanceIdentifier": "CAS number of the substance: cell maker's input",
    "hazardousSubstanceImpact": "impact of the substance: cell maker's input (safety data sheet)",
    "dismantlingAndRemovalInformation": "dismantling documents: cell maker's input",
    "sparePartSources": "spare-part sources: " + _OPERATOR, "safetyMeasures": "safety instructions and "
    "extinguishing agent: cell maker's input", "endOfLifeInformation": "end-of-life information (Art. 60(1)): "
    + _OPERATOR, "renewableContent": "renewable content is not tracked by the ledger",
    "labels": "labels and symbols: " + _OPERATOR, "declarationOfConformity": "EU declaration of conformity: "
    + _OPERATOR, "resultOfTestReport": "test reports proving compliance: notified body's documents",
}
_DEFAULT = "not recorded in the ledger: the cell maker's input (cell_specs sheet or lichain:CellSpec event)"


def _num(v: Any) -> float | None:
    return None if v is None else float(v)


def clean(d: dict[str, Any]) -> dict[str, Any]:
    """Drop None values and emptied objects (what is left out is listed missing)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            v = clean(v)
        if v is not None and v != {}:
            out[k] = v
    return out


def _general(d: PassportData) -> dict[str, Any]:
    s = d.spec
    return clean({
        "productIdentifier": s.model, "batteryPassportIdentifier": d.passport_id, "batteryCategory": s.category,
        "manufacturerInformation": {"contactName": s.manufacturer, "identifier": s.manufacturer_id,
                                    "postalAddress": {"addressCountry": s.manufacturer_country,
                                                      "postalCode": s.manufacturer_postal_code,
                                                      "streetAddress": s.manufacturer_street}},
        "manufacturingDate": format_time(d.manufactured_at), "batteryStatus": _STATUS[d.status],
        "batteryMass": float(s.mass_kg),
        "manufacturingPlace": {"addressCountry": d.site_country, "postalCode": s.place_postal_code,
                               "streetAddress": s.place_street},
        "operatorInformation": {"contactName": d.operator} if d.operator else None,
    })


def _carbon(d: PassportData) -> dict[str, Any]:
    stages = [{"lifecycleStage": name, "carbonFootprint": v} for name, v in
              (("RawMaterialExtraction", d.per_kwh(d.upstream_kg_co2e_per_kg)),
               ("MainProduction", d.per_kwh(d.own_kg_co2e_per_kg))) if v is not None]
    total = d.footprint_kg_co2e_per_kg
    return clean({
        "batteryCarbonFootprint": d.per_kwh(total), "carbonFootprintPerLifecycleStage": stages or None,
        "absoluteCarbonFootprint": None if total is None else total * float(d.spec.mass_kg),
    })


def _composition(d: PassportData) -> dict[str, Any]:
    s = d.spec
    return clean({
        "batteryChemistry": {"shortName": s.chemistry, "clearName": s.chemistry_name},
        "batteryMaterials": [{"batteryMaterialLocation": {"componentName": m.component},
                              "batteryMaterialIdentifier": m.cas, "batteryMaterialName": m.name,
                              "batteryMaterialMass": m.mass_g, "isCriticalRawMaterial": m.critical}
                             for m in d.materials] or None,
        "hazardousSubstances": [{"hazardousSubstanceName": h.name, "hazardousSubstanceConcentration":
                                 h.concentration_pct, "hazardousSubstanceLocation": {"componentName": h.component}}
                                for h in d.hazards] or None,
    })


def _circularity(d: PassportData) -> dict[str, Any]:
    by = {r.element: r for r in d.recycled}
    rows = []
    for el, name in _RECYCLED:
        r = by.get(el)
        if r is not None and r.pre_consumer is not None and r.post_consumer is not None:
            rows.append({"recycledMaterial": name, "preConsumerShare": 100 * r.pre_consumer,
                         "postConsumerShare": 100 * r.post_consumer})
    return clean({"recycledContent": rows or None})


def _performance(d: PassportData) -> dict[str, Any]:
    s = d.spec
    props = {
        "ratedCapacity": _num(s.rated_capacity_ah), "ratedEnergy": _num(s.rated_energy_kwh),
        "nominalVoltage": _num(s.nominal_voltage_v), "minimumVoltage": _num(s.min_voltage_v),
        "maximumVoltage": _num(s.max_voltage_v), "ratedMaximumPower": _num(s.rated_max_power_kw),
        "expectedNumberOfCycles": s.expected_lifetime_cycles, "expectedLifetime": _num(s.expected_lifetime_years),
        "roundtripEfficiency": _num(s.round_trip_efficiency_pct),
        "roundTripEfficiencyat50PerCentCycleLife": _num(s.round_trip_efficiency_50_pct),
        "roundTripEfficiencyFade": _num(s.round_trip_efficiency_fade_pct), "powerFade": _num(s.power_fade_pct),
        "capacityThresholdForExhaustion": _num(s.capacity_threshold_exhaustion_pct),
        "initialSelfDischarge": _num(s.self_discharge_pct_per_month), "cRate": _num(s.c_rate),
        "cRateLifeCycleTest": _num(s.c_rate_life_cycle_test), "lifetimeReferenceTest": s.lifetime_reference_test,
        "initialInternalResistance": None if s.internal_resistance_ohm is None else [
            {"ohmicResistance": float(s.internal_resistance_ohm),
             "batteryComponent": s.internal_resistance_level or "cell"}],
        "temperatureRangeIdleState": {"minimum": _num(s.temp_idle_min_c), "maximum": _num(s.temp_idle_max_c)},
    }
    cond = None
    if s.capacity_fade_pct is not None:
        cond = {"capacityFade": {"capacityFadeValue": float(s.capacity_fade_pct),
                                 "lastUpdate": format_time(d.manufactured_at)}}
    return clean({"batteryTechicalProperties": props, "batteryCondition": cond})


def _missing(aspect: str, payload: dict[str, Any]) -> list[MissingInput]:
    out = []
    for ptr in absent_required(load_schema(BATTERYPASS_SCHEMAS[aspect]), payload):
        name = ptr.rsplit("/", 1)[-1]
        out.append(MissingInput(aspect, ptr, REASONS.get(name, _DEFAULT)))
    return out


def batterypass_aspects(d: PassportData) -> tuple[dict[str, dict[str, Any]], list[MissingInput]]:
    """The seven Battery Pass 1.2 aspects of a passport, and every field left empty with the reason."""
    aspects = {
        "GeneralProductInformation": _general(d), "CarbonFootprint": _carbon(d),
        "SupplyChainDueDiligence": clean({"supplyChainDueDiligenceReport": d.diligence_report}),
        "MaterialComposition": _composition(d), "Circularity": _circularity(d),
        "PerformanceAndDurability": _performance(d), "Labeling": {},
    }
    missing = [m for a, p in aspects.items() for m in _missing(a, p)]
    if d.footprint_kg_co2e_per_kg is not None:
        missing += [
            MissingInput("CarbonFootprint", "/carbonFootprintPerLifecycleStage/Distribution",
                         "the battery's distribution after the cell plant's gate is outside the ledger's "
                         "cradle-to-gate footprint"),
            MissingInput("CarbonFootprint", "/carbonFootprintPerLifecycleStage/Recycling",
                         "the battery's own end of life and recycling is outside the cradle-to-gate footprint"),
        ]
    if d.footprint_kg_co2e_per_kg is None:
        missing.append(MissingInput("CarbonFootprint", "/batteryCarbonFootprint", "the lot has no footprint"))
    have = {r["recycledMaterial"] for r in aspects["Circularity"].get("recycledContent", [])}
    missing += [MissingInput("Circularity", f"/recycledContent/{name}",
                             "lead is not tracked by the ledger" if el == "Pb" else
                             f"no defined recycled share of {el} in the lot")
                for el, name in _RECYCLED if name not in have]
    missing.append(MissingInput("MaterialComposition", "/batteryMaterials/anode, electrolyte, separator, casing",
                                "the ledger tracks the cathode elements (Ni, Co, Mn, Li) only: the cell maker's "
                                "input"))
    return aspects, missing
