"""Catena-X ``pcf_for_battery_component_supplier`` 1.0.0 payloads built from a lot's footprint, and their check.

Why: a cell maker assembles its Art. 7 declaration from its suppliers' figures; Catena-X defines the payload
a battery-component supplier sends (stage split, declared unit, data-quality ratings, BPN identifiers). This
module maps :func:`lichain.services.footprint.footprint_of`'s result onto that model and validates it against
the model's own JSON Schema, shipped in ``lichain/data/schemas/catenax`` (CC-BY-4.0, see SOURCES.md there).

Mapping choices (docs/footprint.md):

* ``stageValue`` is in the declared unit ``CO2KG/KG`` (kg CO2e per kg of the lot, location-based), so the four
  stages sum to ``absPcfValue``; the stage split is the producer's view of its own steps.
* No data-quality assessment is made: the ratings default to 3 ("fair" on the 1–5 PEF scale) and must be set by
  the sender; ``siteIdentifier``/``legalidentifier`` default to all-zero BPNs that match the schema's pattern and
  must be replaced by the sender's Catena-X business partner numbers.
* No silent zeros: a lot whose upstream closure lacks data (``complete`` false) is refused
  (:class:`IncompleteFootprintError`, naming the missing inputs). Only on request (``allow_incomplete``) is it
  written, marked: the three representativeness ratings and ``dataQualityRating`` are 5 (the worst grade of the
  PEF 1–5 scale the model uses), ``primaryDataShare`` is left out, and ``productQualityParameter`` opens with
  ``INCOMPLETE`` and the named gaps; ``absPcfValue`` is then a lower bound, never a zero presented as a figure.
* Supplier PCFs used upstream (primary data of the suppliers) are listed in ``productQualityParameter`` by
  document reference, supplier, standard and rating; secondary factors stay in ``secondaryEmissionFactorSources``.
* ``pcfPerformanceClass`` is left out: performance classes await a delegated act that is not adopted.
* ``secondaryEmissionFactorSources`` (a list of strings in the model) names the factor library version, then each
  distinct public publication behind the factors used, as "Title, Publisher (Year), URL"
  (:mod:`lichain.core.citations`); a factor recorded by the ledger's owner, or one without a public source, is
  named as such. Internal audit notes (the factor table's ``source`` column) are never written.

Reference: Eclipse Tractus-X, aspect model ``urn:samm:io.catenax.pcf_for_battery_component_supplier:1.0.0``
(sldt-semantic-models @ 9adcc37), CC-BY-4.0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from lichain.core.errors import LichainError
from lichain.core.factors import default_library
from lichain.io.packaged_schema import package_json, schema_problems

__all__ = [
    "MODEL_URN",
    "PLACEHOLDER_BPNL",
    "PLACEHOLDER_BPNS",
    "SCHEMA_FILE",
    "IncompleteFootprintError",
    "example_payload",
    "pcf_payload",
    "pcf_schema",
    "validate_pcf",
]

MODEL_URN = "urn:samm:io.catenax.pcf_for_battery_component_supplier:1.0.0#PcfForBatteryComponentSupplier"
_DIR = "data/schemas/catenax/io.catenax.pcf_for_battery_component_supplier/1.0.0/gen"
#: The model's JSON Schema, relative to the ``lichain`` package.
SCHEMA_FILE = f"{_DIR}/PcfForBatteryComponentSupplier-schema.json"
#: All-zero business partner numbers: valid for the schema, to be replaced by the sender's own.
PLACEHOLDER_BPNL = "BPNL000000000000"
PLACEHOLDER_BPNS = "BPNS000000000000"

_STAGE_KEYS = (
    ("raw_material_acquisition_and_pre_processing", "stage1RawMaterialAquisitionPreProcessing"),
    ("main_product_production", "stage2MainProductProduction"),
    ("distribution", "stage3Distribution"),
    ("end_of_life_and_recycling", "stage4EndOfLifeRecycling"),
)
_ELEMENT_NAMES = {"Ni": "Nickel", "Co": "Cobalt", "Mn": "Manganese", "Li": "Lithium", "Al": "Aluminium",
                  "Cu": "Copper", "Fe": "Iron", "Na": "Sodium", "C": "Graphite carbon", "P": "Phosphorus"}


_read = package_json


class IncompleteFootprintError(LichainError, ValueError):
    """A PCF asked for a lot whose footprint is incomplete: the missing inputs, named."""

    def __init__(self, lot: str, gaps: Sequence[Mapping[str, Any]]) -> None:
        self.lot = lot
        self.gaps = tuple(gaps)
        named = "; ".join(f"{g.get('record', '?')}: {g.get('missing', '?')}" for g in self.gaps[:5])
        more = f" (and {len(self.gaps) - 5} more)" if len(self.gaps) > 5 else ""
        super().__init__(f"the footprint of lot {lot} is incomplete, so no PCF is written: {named or 'see footprint'}"
                         f"{more}")


@cache
def pcf_schema() -> dict[str, Any]:
    """The model's JSON Schema (draft-04), read once from the package data."""
    schema: dict[str, Any] = _read(SCHEMA_FILE)
    return schema


def example_payload() -> dict[str, Any]:
    """The example payload published with the model (it validates against the schema)."""
    payload: dict[str, Any] = _read(f"{_DIR}/PcfForBatteryComponentSupplier.json")
    return payload


def validate_pcf(payload: Mapping[str, Any]) -> list[str]:
    """Problems of ``payload`` against the model's JSON Schema, each ``"<json path>: <message>"`` (empty: valid)."""
    return schema_problems(pcf_schema(), payload)


def _rating(name: str, v: float) -> float:
    if not 1.0 <= v <= 5.0:
        raise ValueError(f"{name} must be between 1 and 5 (PEF data-quality scale), got {v}")
    return float(v)


def _cited(c: Mapping[str, Any]) -> str:
    year = "n.d." if c.get("year") is None else str(c["year"])
    return f"{c['title']}, {c['publisher']} ({year})" + (f", {c['url']}" if c.get("url") else "")


def _sources(fp: Mapping[str, Any]) -> list[str]:
    head = [f"lichain emission-factor library {fp.get('factor_library', '')}".strip()]
    own: list[str] = []
    cited: list[str] = []
    for f in fp.get("factors", ()):
        if f.get("version") == "override":
            own.append(f"{f['key']}: site-specific value recorded by the data owner")
            continue
        cites = f.get("citations")
        if cites is None:  # a footprint cached before factors carried citations: read them from the library
            lib = default_library().get(f["key"])
            cites = [c.to_json() for c in lib.citations] if lib is not None else []
        if not cites:
            own.append(f"{f['key']}: no public source (placeholder value)")
        cited.extend(_cited(c) for c in cites)
    return list(dict.fromkeys(head + cited + own))


def _quality(fp: Mapping[str, Any]) -> list[str]:
    out = [f"lot {fp['lot']}: {fp['material']} ({fp.get('formula') or 'no formula'}), {fp['mass_kg']} kg, "
           f"produced {fp['produced_at']} at {fp['site']}, origin class {fp.get('origin', 'virgin')} (this lot's "
           "own class, not its recycled content)"]
    rc = {e: v["recycled"] for e, v in fp.get("recycled_content", {}).items() if v.get("recycled") is not None}
    if rc:
        out.append("recycled content (pre- plus post-consumer, element-mass weighted over the inputs): "
                   + ", ".join(f"{e} {100 * v:.1f} %" for e, v in rc.items()))
    if fp.get("assay"):
        out.append("measured mass fractions: " + ", ".join(f"{e} {v:.6g} kg/kg" for e, v in fp["assay"].items()))
    kwh = fp.get("per_kwh")
    if kwh:
        basis = ("values given by the producer" if kwh.get("basis") == "given"
                 else "typical values for the formula, to be replaced by measured ones")
        out.append(f"specific capacity: {kwh['capacity_mah_per_g']:g} mAh/g; average voltage: {kwh['voltage_v']:g} V; "
                   f"{kwh['kg_co2e_per_kwh']:.4g} kg CO2e per kWh of nominal energy ({basis})")
    out.append(f"market-based PCF: {fp['market_based']['kg_co2e_per_kg']:.6g} kg CO2e/kg; location-based reported "
               f"as absPcfValue; complete: {str(fp.get('complete', True)).lower()}")
    for s in fp.get("source_lots", ()):
        p = s.get("supplier_pcf")
        if p:
            dqr = f", data-quality rating {p['data_quality_rating']}" if p.get("data_quality_rating") else ""
            out.append(f"supplier PCF {p['document']} ({p['supplier']}, {p['standard']}{dqr}): {p['value']} "
                       f"{p['unit']} for purchased lot {s['lot']}")
    return list(dict.fromkeys(out))


def _incomplete(fp: Mapping[str, Any]) -> list[str]:
    gaps = fp.get("missing_inputs") or []
    head = ("INCOMPLETE: the footprint lacks data upstream; absPcfValue is a lower bound, not the product's PCF "
            f"({len(gaps)} missing input{'s' if len(gaps) != 1 else ''})")
    return [head, *(f"missing: {g.get('record', '?')}: {g.get('missing', '?')}" for g in gaps[:20])]


def _metals(fp: Mapping[str, Any]) -> list[str]:
    return [f"Material: {_ELEMENT_NAMES.get(e, e)}, Specific Content: {100 * v:.2f}%"
            for e, v in fp.get("assay", {}).items() if v > 0]


def pcf_payload(
    fp: Mapping[str, Any],
    *,
    legal_identifier: str = PLACEHOLDER_BPNL,
    site_identifier: str = PLACEHOLDER_BPNS,
    customer_part_id: str | None = None,
    manufacturer_part_id: str | None = None,
    study_url: str | None = None,
    ratings: Sequence[float] = (3.0, 3.0, 3.0),
    primary_data_share: float | None = None,
    allow_incomplete: bool = False,
) -> dict[str, Any]:
    """The Catena-X ``PcfForBatteryComponentSupplier`` payload of one lot.

    Parameters
    ----------
    fp : mapping
        :func:`lichain.services.footprint.footprint_of` of the lot.
    legal_identifier, site_identifier : str
        The sender's BPNL and the producing site's BPNS (``BPNL``/``BPNS`` + 12 alphanumerics).
    customer_part_id, manufacturer_part_id : str, optional
        Part ids; default: the lot's material code for both (replace with the customer's part id).
    study_url : str, optional
        Link to the public supporting study (Art. 7(1)(g) of Regulation (EU) 2023/1542).
    ratings : (float, float, float)
        Technological, geographical and time-related representativeness on the PEF 1–5 scale; the overall
        ``dataQualityRating`` is their mean. No assessment is made by lichain: the default 3 is a placeholder.
    primary_data_share : float, optional
        Share of primary data in the PCF [%]; left out unless given.
    allow_incomplete : bool
        Write an incomplete footprint, marked (ratings 5, ``INCOMPLETE`` and the gaps first in
        ``productQualityParameter``, no primary-data share); by default it is refused.

    Returns
    -------
    dict
        The payload; check it with :func:`validate_pcf`.

    Raises
    ------
    IncompleteFootprintError
        The footprint is incomplete (``fp["complete"]`` false) and ``allow_incomplete`` is not set.
    """
    complete = bool(fp.get("complete", True))
    if not complete:
        if not allow_incomplete:
            raise IncompleteFootprintError(str(fp.get("lot", "?")), fp.get("missing_inputs") or [])
        ratings, primary_data_share = (5.0, 5.0, 5.0), None
    ter, ger, tir = (_rating(n, v) for n, v in zip(("technological", "geographical", "time-related"), ratings,
                                                     strict=True))
    stages = fp["by_stage"]
    shares: dict[str, Any] = {cx: {"stageValue": float(stages[ours])} for ours, cx in _STAGE_KEYS}
    shares["absPcfValue"] = {"stageValue": float(fp["kg_co2e_per_kg"])}
    shares["declaredUnit"] = "CO2KG/KG"
    values: dict[str, Any] = {"sharesPerStage": shares}
    if study_url:
        values["webLinkToCarbonFootPrintStudy"] = study_url
    out: dict[str, Any] = {
        "pcfValues": values,
        "secondaryEmissionFactorSources": _sources(fp),
        "customerPartId": customer_part_id or fp["material"],
        "technologicalRepresentativeness": ter,
        "geographicalRepresentativeness": ger,
        "timerelatedRepresentativeness": tir,
        "dataQualityRating": (ter + ger + tir) / 3.0,
        "manufacturerPartId": manufacturer_part_id or fp["material"],
        "validityPeriod": {"validFrom": fp["produced_at"]},
        "siteIdentifier": site_identifier,
        "legalidentifier": legal_identifier,
        "productQualityParameter": (_incomplete(fp) if not complete else []) + _quality(fp),
        "contentC02Metals": _metals(fp),
    }
    if primary_data_share is not None:
        out["primaryDataShare"] = float(primary_data_share)
    return out
