"""The template's example rows: a tiny chain that both the reader and the ledger accept, to copy from.

Two MHP lots from an Indonesian HPAL plant ship to a Chinese refinery, two refining runs turn them into nickel
and cobalt sulfates (element balances close within the ledger's 0.5 % tolerance with the declared losses), and a
nickel sulfate lot ships on to a Korean precursor plant; that shipment was entered twice, and the corrections
sheet retracts the duplicate. Units are mixed on purpose (t, kg, lb) to show them. The second MHP lot, bought in
without activity data, carries its supplier's PCF per kg of Ni contained (20 kg CO2e/kg Ni, the HPAL figure of
``material:MHP:HPAL``); the sea legs use ``sea_bulk``, a mode with a cited factor.
Assays of the salts are their formula mass fractions (NiSO4·6H2O: Ni 0.2233; CoSO4·7H2O: Co 0.2097).
The materials are declared exactly as the demo chain declares them (:mod:`lichain.demo.sites`) and transport
modes are ones the emission-factor library knows, so the example ingests into a demo ledger as well as into an
empty one (a test checks both).
"""

from __future__ import annotations

from decimal import Decimal as D

__all__ = ["TEMPLATE"]

_MINE, _REF, _PCAM = "HPAL-ID-01", "REF-CN-01", "PCAM-KR-01"

TEMPLATE: dict[str, list[dict[str, object]]] = {
    "sites": [
        {
            "id": _MINE,
            "name": "Example HPAL plant, Obi",
            "kind": "mine",
            "country": "ID",
            "organisation": "Example Nickel",
            "grid_region": "ID-SULAWESI",
            "certifications": "IRMA;ISO 14001",
        },
        {
            "id": _REF,
            "name": "Example sulfate refinery, Ningbo",
            "kind": "refinery",
            "country": "CN",
            "organisation": "Example Materials",
            "grid_region": "CN-EAST",
            "certifications": "ISO 14001;RMAP",
        },
        {
            "id": _PCAM,
            "name": "Example precursor plant, Pohang",
            "kind": "precursor_plant",
            "country": "KR",
            "organisation": "Example Cathode Korea",
            "grid_region": "KR",
            "certifications": "ISO 14001",
        },
    ],
    "materials": [
        {"code": "MHP", "name": "Mixed hydroxide precipitate (Ni-Co), dry basis", "stage": "intermediate"},
        {
            "code": "NISO4",
            "name": "Nickel sulfate hexahydrate, battery grade",
            "stage": "refined_salt",
            "formula": "NiSO4·6H2O",
        },
        {
            "code": "COSO4",
            "name": "Cobalt sulfate heptahydrate, battery grade",
            "stage": "refined_salt",
            "formula": "CoSO4·7H2O",
        },
    ],
    "lots": [
        {
            "id": "MHP-2024-0001",
            "material": "MHP",
            "site": _MINE,
            "produced_at": "2024-01-10T06:00:00+08:00",
            "mass": 20,
            "mass_unit": "t",
            "origin": "virgin",
            "Ni": D("0.39"),
            "Co": D("0.04"),
            "Mn": D("0.02"),
            "assay:Fe": D("0.008"),
            "assay_method": "ICP-OES",
            "assay_lab": "Obi site lab",
            "electricity_kwh": 180000,
            "electricity_source": "captive_coal",
            "fuel_kind": "diesel",
            "fuel_mj": 250000,
            "reagent:H2SO4": 52000,
        },
        {
            "id": "MHP-2024-0002",
            "material": "MHP",
            "site": _MINE,
            "produced_at": "2024-01-12T06:00:00+08:00",
            "mass": 20000,
            "mass_unit": "lb",
            "origin": "virgin",
            "Ni": D("0.41"),
            "Co": D("0.035"),
            "Mn": D("0.025"),
            "assay_method": "ICP-OES",
            "assay_lab": "Obi site lab",
        },
    ],
    "runs": [
        {
            "id": "RUN-REF-0001",
            "site": _REF,
            "kind": "refining",
            "started_at": "2024-02-01T08:00:00+08:00",
            "ended_at": "2024-02-03T08:00:00+08:00",
            "electricity_kwh": 420000,
            "electricity_source": "grid",
            "fuel_kind": "natural_gas",
            "fuel_mj": 900000,
            "water_m3": 850,
            "reagent:H2SO4": 15000,
            "reagent:NaOH": 4200,
            "loss_Ni": D("137.4"),
            "loss_Co": D("21.6"),
            "loss_Mn": D("466.8"),
        },
        {
            "id": "RUN-REF-0002",
            "site": _REF,
            "kind": "refining",
            "started_at": "2024-02-05T00:00:00Z",
            "ended_at": "2024-02-06T00:00:00Z",
            "electricity_kwh": 260000,
            "electricity_source": "grid",
            "water_m3": 520,
            "reagent:H2SO4": 10000,
            "loss_Ni": D("60.8"),
            "loss_Co": D("5.45"),
            "loss_Mn": 160,
        },
    ],
    "run_inputs": [
        {"run": "RUN-REF-0001", "lot": "MHP-2024-0001", "mass": 12, "mass_unit": "t"},
        {"run": "RUN-REF-0001", "lot": "MHP-2024-0002", "mass": 20000, "mass_unit": "lb"},
        {"run": "RUN-REF-0002", "lot": "MHP-2024-0001", "mass": 8000, "mass_unit": "kg"},
    ],
    "run_outputs": [
        {
            "run": "RUN-REF-0001",
            "lot": "NISO4-2024-0001",
            "material": "NISO4",
            "mass": 37,
            "mass_unit": "t",
            "origin": "virgin",
            "Ni": D("0.2233"),
        },
        {
            "run": "RUN-REF-0001",
            "lot": "COSO4-2024-0001",
            "material": "COSO4",
            "mass": 3700,
            "mass_unit": "kg",
            "origin": "virgin",
            "Co": D("0.2097"),
        },
        {
            "run": "RUN-REF-0002",
            "lot": "NISO4-2024-0002",
            "material": "NISO4",
            "mass": D("13.7"),
            "mass_unit": "t",
            "origin": "virgin",
            "Ni": D("0.2233"),
            "produced_at": "2024-02-05T23:30:00Z",
        },
        {
            "run": "RUN-REF-0002",
            "lot": "COSO4-2024-0002",
            "material": "COSO4",
            "mass": 1500,
            "mass_unit": "kg",
            "origin": "virgin",
            "Co": D("0.2097"),
        },
    ],
    "shipments": [
        {
            "id": "SHP-0001",
            "lot": "MHP-2024-0001",
            "mass": 20,
            "mass_unit": "t",
            "from_site": _MINE,
            "to_site": _REF,
            "shipped_at": "2024-01-15T10:00:00+08:00",
            "mode": "sea_bulk",
            "distance_km": 4800,
        },
        {
            "id": "SHP-0002",
            "lot": "MHP-2024-0002",
            "mass": 20000,
            "mass_unit": "lb",
            "from_site": _MINE,
            "to_site": _REF,
            "shipped_at": "2024-01-16T10:00:00+08:00",
            "mode": "sea_bulk",
            "distance_km": 4800,
        },
        {
            "id": "SHP-0003",
            "lot": "NISO4-2024-0001",
            "mass": 10,
            "mass_unit": "t",
            "from_site": _REF,
            "to_site": _PCAM,
            "shipped_at": "2024-02-10T09:00:00+08:00",
            "mode": "sea_container",
            "distance_km": 1200,
            "to_organisation": "Example Cathode Korea",
        },
        {
            "id": "SHP-0004",
            "lot": "NISO4-2024-0001",
            "mass": 10,
            "mass_unit": "t",
            "from_site": _REF,
            "to_site": _PCAM,
            "shipped_at": "2024-02-10T09:00:00+08:00",
            "mode": "sea_container",
            "distance_km": 1200,
            "to_organisation": "Example Cathode Korea",
        },
    ],
    "supplier_pcfs": [
        {
            "lot": "MHP-2024-0002",
            "value": 20,
            "unit": "kg CO2e/kg Ni",
            "supplier": "Example Nickel",
            "document": "EN-PCF-2024-0002",
            "boundary": "cradle-to-gate",
            "standard": "ISO 14067:2018",
            "data_quality_rating": D("2.5"),
            "primary_data_share": 60,
            "valid_from": "2024-01-01T00:00:00Z",
            "valid_until": "2024-12-31T23:59:59Z",
            "declared_at": "2024-01-20T00:00:00Z",
        },
    ],
    "corrections": [
        {
            "retract": "SHP-0004",
            "reason": "entered twice: same container as SHP-0003",
            "declared_at": "2024-02-12T09:00:00+08:00",
            "kind": "shipment",
        },
    ],
}
