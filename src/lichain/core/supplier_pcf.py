"""Supplier product carbon footprints of purchased lots: what a declaration must say, and its value per kg of lot.

Why this exists: a lot bought in (Co(OH)2, spodumene concentrate, Li2CO3, MHP) enters the ledger as a source
lot; its cradle-to-gate footprint is the supplier's, not ours. A supplier PCF recorded as a ledger event
(:class:`lichain.core.model.SupplierPcf`) replaces any secondary factor for that lot in the footprint
(:mod:`lichain.analysis.footprint`), and the footprint names which one it used. This module holds the rules a
declaration must meet before it is written (located problems, nothing guessed) and the conversion of its value
to kg CO2e per kg of the lot.

Rules (each a located problem, never a silent fix):

* the lot exists, is live, and is a source lot of this ledger (a lot made by one of our runs has our footprint);
* the value is ≥ 0 and its unit is ``kg CO2e/kg`` (per kg of the lot) or ``kg CO2e/kg <El>`` (per kg of element
  El contained, e.g. an HPAL figure per kg Ni); the second needs the lot's assay of El (no assay: refused);
* the boundary is cradle-to-gate (the footprint is cradle-to-gate; a cradle-to-grave figure would double count);
* the standard is one of :data:`STANDARDS` (ISO 14067:2018, the WBCSD PACT Methodology, the Catena-X PCF
  Rulebook, the GHG Protocol Product Standard);
* the data-quality rating is on the PEF 1–5 scale (Catena-X ``dataQualityRating``), the primary-data share
  within 0–100 %;
* supplier organisation and document reference are given; ``valid_until`` is not before ``valid_from``, and the
  lot's production (receipt) time falls within the validity period when one is given.

References: ISO 14067:2018 (system boundary, §6.3.4); WBCSD Pathfinder Framework / PACT Methodology v2 (DQR);
Catena-X PCF Rulebook; Catena-X aspect model ``pcf_for_battery_component_supplier`` 1.0.0 (dataQualityRating).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from lichain.core.factors import per_element
from lichain.core.model import SupplierPcf
from lichain.core.quantities import FRACTION_SCALE

__all__ = ["BOUNDARIES", "STANDARDS", "LotFacts", "pcf_per_kg", "pcf_problems", "source_label"]

#: System boundaries a supplier PCF may declare (the ledger's footprint is cradle-to-gate).
BOUNDARIES: tuple[str, ...] = ("cradle-to-gate",)

#: Accounting standards a supplier PCF may follow (compared case-insensitively).
STANDARDS: tuple[str, ...] = (
    "ISO 14067:2018",
    "PACT Methodology v2",
    "PACT Methodology v3",
    "Catena-X PCF Rulebook",
    "GHG Protocol Product Standard",
)


@dataclass(frozen=True, slots=True)
class LotFacts:
    """What the rules need to know of the lot a PCF names."""

    assay: Mapping[str, int]  # element -> parts per 10^9
    produced_at: datetime
    made_by: str | None  # "run R-1" when one of our runs made the lot; None for a source lot
    retracted: bool = False


def pcf_per_kg(p: SupplierPcf, assay: Mapping[str, int]) -> Decimal | str:
    """The PCF in kg CO2e per kg of the lot, or why it cannot be converted (unit or missing assay).

    ``kg CO2e/kg`` is the value itself; ``kg CO2e/kg Ni`` is value × the lot's Ni mass fraction.
    """
    unit = p.unit.replace(" ", "").casefold()
    if unit in ("kgco2e/kg", "kgco2e/kgproduct"):
        return p.value
    el = per_element(p.unit)
    if el is None:
        return (f"unit {p.unit!r} is not supported: give kg CO2e per kg of the lot ('kg CO2e/kg') or per kg of a "
                "contained element ('kg CO2e/kg Ni')")
    ppb = assay.get(el)
    if not ppb:
        return (f"the PCF is per kg of {el} contained ({p.unit}) but the lot has no {el} assay: record the assay, "
                "or give the PCF per kg of the lot")
    return p.value * Decimal(ppb) / FRACTION_SCALE


def pcf_problems(p: SupplierPcf, lot: LotFacts | None) -> list[tuple[str, str]]:
    """Every rule ``p`` breaks, as (JSON-pointer suffix, message); empty when it may be recorded."""
    out: list[tuple[str, str]] = []
    what = f"supplier PCF of lot {p.lot}"
    numbers = (("/value", p.value), ("/data_quality_rating", p.data_quality_rating),
               ("/primary_data_share", p.primary_data_share))
    odd = [(ptr, v) for ptr, v in numbers if v is not None and not v.is_finite()]
    if odd:
        return [(ptr, f"{what}: {ptr[1:]} must be a finite number, got {v}") for ptr, v in odd]
    if lot is None:
        out.append(("/lot", f"{what}: unknown lot {p.lot}"))
    elif lot.retracted:
        out.append(("/lot", f"{what}: lot {p.lot} was retracted"))
    elif lot.made_by is not None:
        out.append(("/lot", f"{what}: lot {p.lot} is made by {lot.made_by} in this ledger; a supplier PCF is for a "
                            "purchased (source) lot"))
    if p.value < 0:
        out.append(("/value", f"{what}: value must be ≥ 0 kg CO2e"))
    if lot is not None:
        conv = pcf_per_kg(p, lot.assay)
        if isinstance(conv, str):
            out.append(("/unit", f"{what}: {conv}"))
    if p.boundary.casefold() not in BOUNDARIES:
        out.append(("/boundary", f"{what}: boundary must be one of {list(BOUNDARIES)} (the footprint is "
                                 f"cradle-to-gate), got {p.boundary!r}"))
    if p.standard.casefold() not in {s.casefold() for s in STANDARDS}:
        out.append(("/standard", f"{what}: standard must be one of {list(STANDARDS)}, got {p.standard!r}"))
    if p.data_quality_rating is not None and not Decimal(1) <= p.data_quality_rating <= Decimal(5):
        out.append(("/data_quality_rating", f"{what}: data-quality rating must be within 1..5 (PEF scale), got "
                                            f"{p.data_quality_rating}"))
    if p.primary_data_share is not None and not Decimal(0) <= p.primary_data_share <= Decimal(100):
        out.append(("/primary_data_share", f"{what}: primary-data share must be within 0..100 %"))
    if not p.supplier.strip():
        out.append(("/supplier", f"{what}: the supplier organisation is missing"))
    if not p.document.strip():
        out.append(("/document", f"{what}: the document reference is missing"))
    if p.valid_from and p.valid_until and p.valid_until < p.valid_from:
        out.append(("/valid_until", f"{what}: valid_until is before valid_from"))
    elif lot is not None and ((p.valid_from and lot.produced_at < p.valid_from)
                              or (p.valid_until and lot.produced_at > p.valid_until)):
        out.append(("/valid_from", f"{what}: lot {p.lot} was produced {lot.produced_at.isoformat()}, outside the "
                                   "PCF's validity period"))
    return out


def source_label(document: str) -> str:
    """How a footprint names a contribution taken from a supplier PCF."""
    return f"supplier PCF {document}"
