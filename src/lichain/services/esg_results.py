"""Typed result of the ESG management report (``report esg --json``), field for field its documented shape.

Kept apart from :mod:`lichain.services.esg` so the CLI, the HTML report, the REST API and the dashboard read one
frozen type. Units are in the field names (kWh, MJ, kg CO2e, m³, kg; shares are fractions 0..1); figures that
cannot be computed are ``None``, never a silent zero. Definitions: ``docs/esg.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lichain.services.circularity_results import RecoveryElement
from lichain.services.footprint_results import FactorUsed

__all__ = ["EmissionsBlock", "EnergyBlock", "EsgReport", "IndicatorTotals", "KeyFigure", "KeyFigures",
           "ProductLine", "ProductRecycled", "RecycledInput", "ReportOrganisation", "ReportPeriod", "ReportProblem", "Scope3Context",
           "SiteIndicators", "SiteProblem", "SiteRecovery", "WasteBlock"]


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """The period as asked (``label``) and its ``[start, end)`` instants in UTC."""

    label: str
    start: str
    end: str


@dataclass(frozen=True, slots=True)
class ReportOrganisation:
    """The reporting organisation, how it was chosen, and the boundary rule applied."""

    name: str
    chosen_by: str
    boundary: str


@dataclass(frozen=True, slots=True)
class KeyFigure:
    """One key figure with its previous-period value, trend and source (a JSON pointer into this report)."""

    key: str
    label: str
    unit: str
    value: float | None
    previous: float | None
    change: float | None
    trend: str
    source: str
    target: float | None = None
    target_key: str | None = None
    meets_target: bool | None = None


@dataclass(frozen=True, slots=True)
class KeyFigures:
    """The key figures and the period they are compared with."""

    previous_period: ReportPeriod
    figures: tuple[KeyFigure, ...]


@dataclass(frozen=True, slots=True)
class EnergyBlock:
    """Electricity [kWh] by source and fuels [MJ] by kind, and the total [MJ] (1 kWh = 3.6 MJ)."""

    electricity_kwh: dict[str, float]
    electricity_kwh_total: float
    fuel_mj: dict[str, float]
    fuel_mj_total: float
    total_mj: float


@dataclass(frozen=True, slots=True)
class EmissionsBlock:
    """Scope 1 by cause and Scope 2 location- and market-based by source [kg CO2e]; ``complete`` False when a
    datum had no factor."""

    scope1_kg_co2e: float
    scope1_by_cause_kg_co2e: dict[str, float]
    scope2_location_kg_co2e: float
    scope2_market_kg_co2e: float
    scope2_location_by_source_kg_co2e: dict[str, float]
    scope2_market_by_source_kg_co2e: dict[str, float]
    scope1_2_location_kg_co2e: float
    scope1_2_market_kg_co2e: float
    complete: bool


@dataclass(frozen=True, slots=True)
class WasteBlock:
    """Declared element losses [kg] and scrap made [kg]."""

    element_losses_kg: dict[str, float]
    element_losses_kg_total: float
    scrap_output_kg: float


@dataclass(frozen=True, slots=True)
class RecycledInput:
    """One element entering the site: consumed [kg], its recycled part [kg] and shares (physical)."""

    consumed_kg: float
    recycled_kg: float
    pre_consumer_kg: float
    post_consumer_kg: float
    share: float
    pre_consumer_share: float
    post_consumer_share: float


@dataclass(frozen=True, slots=True)
class ProductRecycled:
    """Recycled content of one element of what a site made: element [kg], its recycled part [kg], share."""

    element_kg: float
    recycled_kg: float
    share: float


@dataclass(frozen=True, slots=True)
class ProductLine:
    """A material a site made in the period: lots, mass [kg], mean footprint [kg CO2e/kg], recycled content."""

    material: str
    name: str
    stage: str | None
    lots: int
    mass_kg: float
    intensity_location_kg_co2e_per_kg: float | None
    intensity_market_kg_co2e_per_kg: float | None
    footprint_complete: bool | None
    recycled_content: dict[str, ProductRecycled]


@dataclass(frozen=True, slots=True)
class SiteRecovery:
    """A recycler site's recovery in the period (runs started in it) per element, with targets."""

    runs: int
    basis: str
    status: str
    elements: dict[str, RecoveryElement]


@dataclass(frozen=True, slots=True)
class SiteProblem:
    """A gap in a site's data: kind, what, and how many records."""

    kind: str
    message: str
    count: int


@dataclass(frozen=True, slots=True)
class SiteIndicators:
    """One site's indicators in the period."""

    id: str
    name: str | None
    kind: str
    country: str
    grid_region: str | None
    organisation: str | None
    runs: int
    commissioned_lots: int
    energy: EnergyBlock
    emissions: EmissionsBlock
    water_m3: float
    waste: WasteBlock
    recycled_input: dict[str, RecycledInput]
    recovery: SiteRecovery | None
    products: tuple[ProductLine, ...]
    problems: tuple[SiteProblem, ...]


@dataclass(frozen=True, slots=True)
class IndicatorTotals:
    """Sums over a set of sites."""

    sites: int
    energy: EnergyBlock
    emissions: EmissionsBlock
    water_m3: float
    waste: WasteBlock


@dataclass(frozen=True, slots=True)
class Scope3Context:
    """Suppliers' and customers' sites on record: context, never added to the organisation's totals."""

    note: str
    sites: tuple[SiteIndicators, ...]
    totals: IndicatorTotals


@dataclass(frozen=True, slots=True)
class ReportProblem:
    """A report-level problem (e.g. a factor override with the wrong unit)."""

    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class EsgReport:
    """The ESG management report of a period for one organisation (``report esg --json``)."""

    report: str
    period: ReportPeriod
    organisation: ReportOrganisation
    ledger_head: str
    factor_library: str
    kpis: KeyFigures
    sites: tuple[SiteIndicators, ...]
    totals: IndicatorTotals
    scope3_context: Scope3Context
    method: dict[str, str]
    factors_used: tuple[FactorUsed, ...]
    problems: tuple[ReportProblem, ...]
