"""Typed result of one lot's carbon footprint (``footprint --json``): totals, breakdowns, sources and gaps.

Kept apart from :mod:`lichain.services.footprint` so the CLI, the REST API, the PCF export and the passport read
one frozen type. Units are in the field names: ``kg_co2e`` [kg CO2e], ``*_per_kg`` [kg CO2e per kg of the lot],
``*_per_kwh`` [kg CO2e per kWh of nominal energy]. A figure that rests on missing data says so
(``complete``, ``problems``, ``missing_inputs``), never a silent zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lichain.core.targets import SourceRef

__all__ = ["Contribution", "Delivery", "FactorUsed", "FootprintProblem", "FootprintTotals", "InputLot",
           "LotFootprint", "MarketTotals", "MissingInput", "OwnStep", "PerKwh", "RunAllocation", "SourceLot",
           "SupplierPcfRef", "factor_from_json"]


@dataclass(frozen=True, slots=True)
class FootprintTotals:
    """Footprint per kg [kg CO2e kg⁻¹], of the whole lot and of its own step [kg CO2e]."""

    kg_co2e_per_kg: float
    kg_co2e: float
    own_kg_co2e: float


@dataclass(frozen=True, slots=True)
class MarketTotals(FootprintTotals):
    """Market-based totals, with the electricity part per kg after contractual instruments [kg CO2e kg⁻¹]."""

    electricity_kg_co2e_per_kg: float = 0.0


@dataclass(frozen=True, slots=True)
class OwnStep:
    """The lot's allocated share of its own run (incl. inbound transport) or commissioning [kg CO2e]."""

    kg_co2e: float
    by_stage_kg_co2e: dict[str, float]
    by_cause_kg_co2e: dict[str, float]


@dataclass(frozen=True, slots=True)
class RunAllocation:
    """The run that made the lot and the share of its burden allocated to the lot (mass or economic)."""

    id: str
    kind: str
    site: str
    allocation: str
    allocation_factor: float


@dataclass(frozen=True, slots=True)
class InputLot:
    """An input of the lot's run: kg consumed, kg allocated to this lot, and its footprint [kg CO2e kg⁻¹]."""

    lot: str
    consumed_kg: float | None
    allocated_kg: float
    kg_co2e_per_kg: float


@dataclass(frozen=True, slots=True)
class FootprintProblem:
    """A gap or problem inside the lot's upstream: kind, one place it occurs, what, and how many records."""

    kind: str
    location: str
    message: str
    count: int


@dataclass(frozen=True, slots=True)
class MissingInput:
    """A record of the lot's upstream that lacks the data its footprint needs."""

    record: str
    missing: str


@dataclass(frozen=True, slots=True)
class Contribution:
    """Part of the footprint [kg CO2e per kg of the lot] resting on one source (our runs' activity data, a
    supplier's PCF, a secondary factor, or missing), with the public texts behind it."""

    source: str
    kg_co2e_per_kg: float
    citations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SupplierPcfRef:
    """The supplier PCF document a purchased lot's burden is taken from (values as written, exact decimals)."""

    document: str
    supplier: str
    value: str
    unit: str
    boundary: str
    standard: str
    data_quality_rating: str | None
    primary_data_share: str | None
    valid_from: str | None
    valid_until: str | None


@dataclass(frozen=True, slots=True)
class SourceLot:
    """A lot at the start of the upstream (mined, purchased, commissioned) and what its own burden rests on."""

    lot: str
    material: str
    own_kg_co2e_per_kg: float
    source: str
    citations: tuple[str, ...]
    supplier_pcf: SupplierPcfRef | None = None


@dataclass(frozen=True, slots=True)
class FactorUsed:
    """An emission factor of the library that the footprint used, with its public citations."""

    key: str
    value: float
    unit: str
    low: float | None
    high: float | None
    basis: str | None
    year: str | None
    description: str | None
    source: str | None
    version: str | None
    citations: tuple[SourceRef, ...]
    derivation: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A live shipment of the lot: its transport emissions and the delivered footprint per kg shipped."""

    shipment: str
    to_site: str
    to_organisation: str | None
    mass_kg: float
    transport_kg_co2e: float
    earlier_legs_kg_co2e_per_kg: float
    delivered_kg_co2e_per_kg: float


@dataclass(frozen=True, slots=True)
class PerKwh:
    """Footprint per kWh of the CAM's nominal energy (capacity × average voltage), and where those came from."""

    kg_co2e_per_kwh: float
    market_based_kg_co2e_per_kwh: float
    by_stage: dict[str, float]
    capacity_mah_per_g: float
    voltage_v: float
    kwh_per_kg: float
    source: str
    basis: str
    note: str


@dataclass(frozen=True, slots=True)
class LotFootprint:
    """Cradle-to-gate footprint of one lot (location-based headline) with its breakdowns, sources and gaps.

    ``kg_co2e = own_kg_co2e + Σ inputs[].allocated_kg × inputs[].kg_co2e_per_kg`` can be re-checked from the
    fields; ``by_stage``, ``by_site``, ``by_cause`` and ``contributions`` each sum to ``kg_co2e_per_kg``.
    """

    lot: str
    material: str
    formula: str | None
    stage: str
    site: str
    produced_at: str
    mass_kg: float
    assay: dict[str, float]
    origin: str
    basis: str
    kg_co2e_per_kg: float
    kg_co2e: float
    own_kg_co2e: float
    upstream_kg_co2e: float
    location_based: FootprintTotals
    market_based: MarketTotals
    by_stage: dict[str, float]
    by_site: dict[str, float]
    by_cause: dict[str, float]
    own: OwnStep
    run: RunAllocation | None
    inputs: tuple[InputLot, ...]
    complete: bool
    problems: tuple[FootprintProblem, ...]
    missing_inputs: tuple[MissingInput, ...]
    contributions: tuple[Contribution, ...]
    source_lots: tuple[SourceLot, ...]
    source_lots_total: int
    factor_library: str
    factors: tuple[FactorUsed, ...]
    computed_at_head: str
    notes: tuple[str, ...]
    deliveries: tuple[Delivery, ...]
    per_kwh: PerKwh | None = None


def factor_from_json(d: dict[str, Any]) -> FactorUsed:
    """A factor's public JSON (:meth:`lichain.core.factors.Factor.public_json`) as :class:`FactorUsed`."""
    return FactorUsed(d["key"], d["value"], d["unit"], d["low"], d["high"], d["basis"], d["year"],
                      d["description"], d["source"], d["version"],
                      tuple(SourceRef(c["title"], c["publisher"], c["year"], c["url"]) for c in d["citations"]),
                      d["derivation"])
