"""The domain of the chain: sites, materials, lots, process runs, shipments and the events that record them.

Value objects are frozen; quantities are exact integers at the boundary of record (masses in mg, mass fractions
in parts per 10⁹, see :mod:`lichain.core.quantities`). Nothing here touches storage: the ledger
(:mod:`lichain.core.validate`) decides what may be written, adapters write it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from lichain.core.errors import Problem
from lichain.core.quality_model import Certificate, Deviation, ProcessBatch, SpcAlarm, Specification

__all__ = [
    "CUSTODY_MODELS",
    "DEFAULT_ELEMENTS",
    "ELECTRICITY_SOURCES",
    "Activity",
    "Allocation",
    "BatteryRegistration",
    "CellSpec",
    "Consumption",
    "CustodyClaim",
    "CustodyModel",
    "DiligencePolicy",
    "Electricity",
    "Event",
    "EventBody",
    "EventKind",
    "FactorOverride",
    "Fuel",
    "KeyStatement",
    "LocatedEvent",
    "Lot",
    "Material",
    "Origin",
    "Reagent",
    "Retraction",
    "RiskMeasure",
    "Run",
    "Shipment",
    "Site",
    "SiteKind",
    "Stage",
    "SupplierPcf",
    "VerbatimEvent",
]

#: Elements whose mass is tracked and balanced by default (DESIGN §2).
DEFAULT_ELEMENTS: tuple[str, ...] = ("Ni", "Co", "Mn", "Li")


class Stage(StrEnum):
    """What stage of the chain a material belongs to."""

    ORE = "ore"
    CONCENTRATE = "concentrate"
    INTERMEDIATE = "intermediate"
    REFINED_SALT = "refined_salt"
    PCAM = "pcam"
    CAM = "cam"
    CELL = "cell"
    SCRAP = "scrap"
    BLACK_MASS = "black_mass"
    RECOVERED_SALT = "recovered_salt"
    REAGENT = "reagent"


class SiteKind(StrEnum):
    """What a site does."""

    MINE = "mine"
    CONCENTRATOR = "concentrator"
    REFINERY = "refinery"
    PRECURSOR_PLANT = "precursor_plant"
    CATHODE_PLANT = "cathode_plant"
    CELL_PLANT = "cell_plant"
    RECYCLER = "recycler"
    WAREHOUSE = "warehouse"


class Origin(StrEnum):
    """Origin class of a lot's material (Art. 8 of Regulation (EU) 2023/1542 distinguishes the recycled two)."""

    VIRGIN = "virgin"
    PRE_CONSUMER = "pre_consumer"
    POST_CONSUMER = "post_consumer"


class EventKind(StrEnum):
    """The kinds of append-only events the ledger records."""

    SITE = "site"
    MATERIAL = "material"
    LOT = "lot"
    RUN = "run"
    SHIPMENT = "shipment"
    RETRACTION = "retraction"
    FACTOR_OVERRIDE = "factor_override"
    CUSTODY_CLAIM = "custody_claim"
    SUPPLIER_PCF = "supplier_pcf"
    SITE_RISK = "site_risk"
    DILIGENCE_POLICY = "diligence_policy"
    RISK_MEASURE = "risk_measure"
    SIGNING_KEY = "signing_key"
    SPECIFICATION = "specification"
    COA = "coa"
    DEVIATION = "deviation"
    SPC_ALARM = "spc_alarm"
    PROCESS_BATCH = "process_batch"
    CELL_SPEC = "cell_spec"
    BATTERY_REGISTRATION = "battery_registration"
    EPCIS_VERBATIM = "epcis_verbatim"


#: Electricity source types: grid (location-based), captive plants, a direct line to a generator, and the
#: contractual instruments that only a market-based total may use.
ELECTRICITY_SOURCES: tuple[str, ...] = (
    "grid",
    "captive_coal",
    "captive_gas",
    "direct_line",
    "ppa",
    "guarantee_of_origin",
)


@dataclass(frozen=True, slots=True)
class Site:
    """A place that runs processes or holds stock."""

    id: str
    name: str
    kind: str
    country: str  # ISO 3166-1 alpha-2
    organisation: str
    grid_region: str | None = None
    certifications: tuple[str, ...] = ()
    risk: tuple[str, ...] = ()  # e.g. ("CAHRA", "ASM")
    #: True when the site's organisation is the ledger owner (the reporting organisation whose operational
    #: control sets the Scope 1+2 boundary of period reports; docs/ledger.md "Ledger owner").
    ledger_owner: bool = False


@dataclass(frozen=True, slots=True)
class Material:
    """What a lot is: code, stage and nominal composition."""

    code: str
    name: str
    stage: str
    formula: str | None = None


@dataclass(frozen=True, slots=True)
class Electricity:
    """Electricity used [kWh] and where it came from."""

    kwh: Decimal
    source: str = "grid"
    instrument: str | None = None  # contract or certificate reference for ppa / guarantee_of_origin
    factor_key: str | None = None  # explicit factor to use, e.g. a direct-line generator


@dataclass(frozen=True, slots=True)
class Fuel:
    """Fuel burnt on site [MJ, lower heating value]."""

    kind: str
    mj: Decimal


@dataclass(frozen=True, slots=True)
class Reagent:
    """A reagent consumed that is not tracked as a lot [kg]."""

    name: str
    kg: Decimal
    factor_key: str | None = None


@dataclass(frozen=True, slots=True)
class Activity:
    """Activity data of a run or of a commissioning (mining) step."""

    electricity: tuple[Electricity, ...] = ()
    fuels: tuple[Fuel, ...] = ()
    reagents: tuple[Reagent, ...] = ()
    water_m3: Decimal | None = None
    process_kg_co2e: Decimal | None = None  # direct process emissions not covered by fuels
    readings: tuple[tuple[str, str], ...] = ()  # optional process readings, e.g. ("pH", "11.2")

    def is_empty(self) -> bool:
        """True when no activity datum is present."""
        return not (self.electricity or self.fuels or self.reagents or self.readings) and (
            self.water_m3 is None and self.process_kg_co2e is None
        )


@dataclass(frozen=True, slots=True)
class Lot:
    """An identified quantity of one material at one site; masses in mg, assay in parts per 10⁹."""

    id: str
    material: str
    site: str
    produced_at: datetime
    mass_mg: int
    assay: dict[str, int] = field(default_factory=dict)
    origin: str = Origin.VIRGIN.value
    quality: dict[str, str] = field(default_factory=dict)
    assay_method: str | None = None
    assay_lab: str | None = None
    activity: Activity | None = None  # for commissioned source lots (e.g. mining energy)


@dataclass(frozen=True, slots=True)
class Consumption:
    """A run consumed ``mass_mg`` of lot ``lot``."""

    lot: str
    mass_mg: int


@dataclass(frozen=True, slots=True)
class Run:
    """One process execution at one site: inputs consumed, output lots made, declared element losses [mg]."""

    id: str
    site: str
    kind: str
    started_at: datetime
    ended_at: datetime
    inputs: tuple[Consumption, ...]
    outputs: tuple[Lot, ...]
    losses_mg: dict[str, int] = field(default_factory=dict)
    activity: Activity = field(default_factory=Activity)
    allocation: str = "mass"  # "mass" or "economic"
    output_values: dict[str, Decimal] = field(default_factory=dict)  # lot id → declared value, for economic


@dataclass(frozen=True, slots=True)
class Shipment:
    """A lot, or part of it, moves from site to site, possibly to another organisation."""

    id: str
    lot: str
    mass_mg: int
    from_site: str
    to_site: str
    shipped_at: datetime
    mode: str = "sea_container"
    distance_km: Decimal = Decimal(0)
    to_organisation: str | None = None


@dataclass(frozen=True, slots=True)
class Retraction:
    """An EPCIS error declaration: the named event leaves balances, stock and traces and stays on record."""

    target_event_id: str
    declared_at: datetime
    reason: str | None = None
    corrective_event_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FactorOverride:
    """A site- and period-specific emission factor, recorded in the ledger so results replay from it alone."""

    key: str
    value: Decimal
    unit: str
    source: str
    site: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None


class CustodyModel(StrEnum):
    """Chain-of-custody models of ISO 22095:2020 §3.3 that a recycled-content claim may use.

    Mass balance has the two methods of ISO 22095-2: a rolling average percentage applied to every output, or
    credits allocated freely to outputs. Identity preserved and book-and-claim are not offered: the first is a
    single-source origin claim (see trace), the second is disconnected from the physical flow.
    """

    SEGREGATED = "segregated"
    CONTROLLED_BLENDING = "controlled_blending"
    MASS_BALANCE_ROLLING_AVERAGE = "mass_balance_rolling_average"
    MASS_BALANCE_CREDIT = "mass_balance_credit"


#: The model names, in the order above.
CUSTODY_MODELS: tuple[str, ...] = tuple(m.value for m in CustodyModel)


@dataclass(frozen=True, slots=True)
class Allocation:
    """Recycled element mass [mg] a claim allocates to one output lot, pre- and post-consumer."""

    lot: str
    element: str
    pre_consumer_mg: int
    post_consumer_mg: int


@dataclass(frozen=True, slots=True)
class CustodyClaim:
    """A recycled-content claim of one site (the boundary) for one period [period_start, period_end).

    ``allocations`` give the recycled element mass allocated to output lots of the boundary. A rolling-average
    claim also states its percentage per element as ``rolling_average`` (element → (pre, post) in parts per 10⁹)
    and each of its allocations must equal that fraction of the lot's element mass (ISO 22095-2 rolling average
    percentage). The ledger refuses a claim that allocates more than entered the boundary in the period
    (:mod:`lichain.core.claims`).
    """

    id: str
    site: str
    period_start: datetime
    period_end: datetime
    model: str
    allocations: tuple[Allocation, ...]
    rolling_average: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SupplierPcf:
    """A supplier's product carbon footprint for a purchased lot (rules in :mod:`lichain.core.supplier_pcf`).

    ``value`` is in ``unit``: kg CO2e per kg of the lot (``"kg CO2e/kg"``) or per kg of an element it contains
    (``"kg CO2e/kg Ni"``, converted with the lot's assay). ``data_quality_rating`` is on the PEF 1–5 scale
    (Catena-X ``dataQualityRating``); ``primary_data_share`` in percent. The latest recorded PCF of a lot is the
    one the footprint uses (a corrected declaration supersedes the earlier one, which stays on record).
    """

    lot: str
    value: Decimal
    supplier: str
    document: str
    unit: str = "kg CO2e/kg"
    boundary: str = "cradle-to-gate"
    standard: str = "ISO 14067:2018"
    data_quality_rating: Decimal | None = None
    primary_data_share: Decimal | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class SiteRisk:
    """A dated due-diligence statement about a site (rules and vocabulary in :mod:`lichain.core.diligence`).

    ``id`` names the red flag, audit, listing or certification spoken of (a later statement with the same id
    updates it); ``kind`` is red_flag, cahra, asm, audit or certification; ``status`` its state from
    ``valid_from`` (until ``valid_to`` or the next statement); ``category`` the risk category of a red flag (OECD
    Annex II or Regulation (EU) 2023/1542 Annex X); ``scheme`` the audit or certification scheme; ``source`` where
    the statement comes from and ``reference`` a document id or URL.
    """

    id: str
    site: str
    kind: str
    status: str
    valid_from: datetime
    source: str
    valid_to: datetime | None = None
    category: str | None = None
    scheme: str | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class DiligencePolicy:
    """An organisation's supply-chain due-diligence policy, adopted on a date (rules in
    :mod:`lichain.core.diligence_records`; OECD Due Diligence Guidance step 1, Regulation (EU) 2023/1542 Art. 49).

    ``reference`` names the policy document (id or URL); ``public_url`` where it is published, when it is;
    ``verification`` the third-party verification of the due-diligence policy (body and report), when done. A
    later statement with the same ``id`` supersedes it.
    """

    id: str
    organisation: str
    title: str
    adopted: datetime
    reference: str
    public_url: str | None = None
    verification: str | None = None


@dataclass(frozen=True, slots=True)
class RiskMeasure:
    """A risk-mitigation measure at a site, with its status from a date (OECD Due Diligence Guidance step 3;
    rules in :mod:`lichain.core.diligence_records`).

    ``risk`` is the id of the risk statement it answers (a red flag, audit, listing); ``strategy`` one of OECD's
    responses (continue trade with mitigation, suspend while mitigating, disengage); ``owner`` who carries it out.
    A later statement with the same ``id`` updates its status.
    """

    id: str
    site: str
    action: str
    owner: str
    status: str
    valid_from: datetime
    risk: str | None = None
    strategy: str | None = None
    due: datetime | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class KeyStatement:
    """A dated statement about an organisation's document-signing key (rules in :mod:`lichain.core.keys`).

    ``kid`` is the RFC 7638 thumbprint of the Ed25519 public key ``x`` (base64url, RFC 8037); ``status`` is
    active, retired (rotated out: signs nothing from ``at`` on) or revoked (compromised or withdrawn; final);
    ``reason`` why it was retired or revoked; ``successor`` the kid of the key that replaces a retired one.
    """

    kid: str
    organisation: str
    x: str
    status: str
    at: datetime
    reason: str | None = None
    successor: str | None = None


@dataclass(frozen=True, slots=True)
class CellSpec:
    """The cell maker's data of one battery (cell, module or pack) of a cell lot (rules in
    :mod:`lichain.core.passport`): rating, chemistry, mass, manufacturer, lifetime, performance and durability.

    Every figure is per battery in the unit its name ends with; a later statement for the same lot supersedes the
    earlier one (which stays on record, and the passport built from it stays what it was).
    """

    lot: str
    model: str
    category: str
    chemistry: str
    rated_capacity_ah: Decimal
    nominal_voltage_v: Decimal
    rated_energy_kwh: Decimal
    mass_kg: Decimal
    manufacturer: str
    expected_lifetime_cycles: int
    expected_lifetime_years: Decimal
    chemistry_name: str | None = None
    manufacturer_id: str | None = None
    manufacturer_street: str | None = None
    manufacturer_postal_code: str | None = None
    manufacturer_country: str | None = None
    manufactured_at: datetime | None = None
    place_street: str | None = None
    place_postal_code: str | None = None
    min_voltage_v: Decimal | None = None
    max_voltage_v: Decimal | None = None
    rated_max_power_kw: Decimal | None = None
    round_trip_efficiency_pct: Decimal | None = None
    round_trip_efficiency_50_pct: Decimal | None = None
    round_trip_efficiency_fade_pct: Decimal | None = None
    power_fade_pct: Decimal | None = None
    capacity_fade_pct: Decimal | None = None
    capacity_threshold_exhaustion_pct: Decimal | None = None
    internal_resistance_ohm: Decimal | None = None
    internal_resistance_level: str | None = None
    self_discharge_pct_per_month: Decimal | None = None
    c_rate: Decimal | None = None
    c_rate_life_cycle_test: Decimal | None = None
    temp_idle_min_c: Decimal | None = None
    temp_idle_max_c: Decimal | None = None
    lifetime_reference_test: str | None = None


@dataclass(frozen=True, slots=True)
class BatteryRegistration:
    """Battery ids registered under a cell lot (rules in :mod:`lichain.core.passport`).

    ``status`` is ``original`` for batteries made in the lot; ``reused``, ``repurposed`` or ``remanufactured``
    registers the new id of a battery given a second life, with ``predecessor`` the id it had (its passport is a new
    one linked to the original, Art. 77(6) of Regulation (EU) 2023/1542) and ``operator`` who took it over.
    """

    lot: str
    battery_ids: tuple[str, ...]
    status: str = "original"
    predecessor: str | None = None
    operator: str | None = None


@dataclass(frozen=True, slots=True)
class VerbatimEvent:
    """An EPCIS 2.0 event the lot graph does not model, captured and kept exactly as received.

    ``event`` is the event object as received, without an ``@context`` of its own; ``context`` maps the namespace
    prefixes its member names use to their IRIs (from the document's or the event's inline ``@context``), so the
    event keeps its meaning outside its document. The event is in the hash chain and in every export and query,
    and creates, moves or consumes no lot (the rule deciding "modelled or verbatim" is in docs/ledger.md).
    ``note`` says why it stays out of the lot graph; it is not stored (it follows from the event).
    """

    event: dict[str, Any]
    context: dict[str, str] = field(default_factory=dict)
    note: str = field(default="", compare=False)
    #: Set by a reader for an event shaped like a lot, run or shipment without lichain extensions, and never
    #: stored: what it names (("site" | "lot" | "material", id), ...) and its reading as a lot-graph event (or the
    #: problems of that reading). When it names anything of the ledger it is that event, else it is kept verbatim.
    names: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    modelled: Event | None = field(default=None, compare=False)
    modelled_problems: tuple[Problem, ...] = field(default=(), compare=False)

    @property
    def event_type(self) -> str:
        """The EPCIS event type (ObjectEvent, AggregationEvent, ...)."""
        t = self.event.get("type")
        return t if isinstance(t, str) else ""


EventBody = (Site | Material | Lot | Run | Shipment | Retraction | FactorOverride | CustodyClaim | SupplierPcf
             | SiteRisk | DiligencePolicy | RiskMeasure | KeyStatement | Specification | Certificate | Deviation
             | SpcAlarm | ProcessBatch | CellSpec | BatteryRegistration | VerbatimEvent)


@dataclass(frozen=True, slots=True)
class Event:
    """An append-only fact; ``event_id`` is its stable identity (EPCIS eventID or a content hash)."""

    event_id: str
    kind: EventKind
    time: datetime
    body: EventBody


@dataclass(frozen=True, slots=True)
class LocatedEvent:
    """An event and where it stands in its document (line, JSON pointer, sheet!row)."""

    location: str
    event: Event
