"""Everything a battery passport says, gathered in one value before it is written in a standard's shape.

Why this exists: the same facts — the cell maker's statement, what the ledger computes (carbon footprint, recycled
content, composition from assays, the due-diligence report) and the battery's identity and status — are written as
Battery Pass Data Model 1.2 aspects (:mod:`lichain.io.passport_batterypass`) and as IDTA-02035 submodels
(:mod:`lichain.io.aas_passport`). Gathering them (:mod:`lichain.services.passport`) is separate from writing them,
so the writers are pure functions of this value and can be tested for arbitrary passports. Quantities carry their
unit in their name; a value lichain does not know is None, never 0.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from lichain.core.model import CellSpec

__all__ = ["Hazard", "MaterialShare", "MissingInput", "PassportData", "RecycledShare", "passport_id"]


def passport_id(subject: str) -> str:
    """The passport identifier of a battery or lot id: ``urn:lichain:<40 hex>`` (the BatteryPass 1.2 pattern
    ``^urn:[a-z0-9]+:[a-z0-9]+$``), a SHA-256 prefix of the id so that it is the same wherever it is computed."""
    return "urn:lichain:" + hashlib.sha256(subject.encode("utf-8")).hexdigest()[:40]


@dataclass(frozen=True, slots=True)
class MissingInput:
    """A field of the standard the passport leaves empty: ``aspect``, the JSON pointer of the field in it, and why
    (whose input it is, or why lichain cannot compute it)."""

    aspect: str
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class RecycledShare:
    """Recycled share of one element in the battery, pre- and post-consumer, as mass fractions 0..1 (None:
    not known: the ledger has no defined share, e.g. the element is not tracked)."""

    element: str
    pre_consumer: float | None
    post_consumer: float | None


@dataclass(frozen=True, slots=True)
class MaterialShare:
    """An element in one battery from the lot's assay: name, CAS number, mass [g], EU critical raw material."""

    element: str
    name: str
    cas: str
    mass_g: float
    critical: bool
    component: str


@dataclass(frozen=True, slots=True)
class Hazard:
    """A substance in the battery with its concentration [% w/w] (hazard class and CAS: the cell maker's input)."""

    name: str
    concentration_pct: float
    component: str


@dataclass(frozen=True, slots=True)
class PassportData:
    """The facts of one passport (a lot's battery model, or one registered battery).

    Footprint figures are per kg of the cell lot [kg CO2e kg⁻¹], cradle-to-gate, location-based:
    ``upstream_kg_co2e_per_kg`` everything before the cell maker's own step, ``own_kg_co2e_per_kg`` that step.
    """

    passport_id: str
    lot: str
    spec: CellSpec
    spec_event: str
    manufactured_at: datetime
    site: str
    site_country: str | None
    battery_id: str | None = None
    status: str = "original"
    predecessor_passport: str | None = None
    operator: str | None = None
    footprint_kg_co2e_per_kg: float | None = None
    upstream_kg_co2e_per_kg: float | None = None
    own_kg_co2e_per_kg: float | None = None
    footprint_complete: bool = False
    recycled: tuple[RecycledShare, ...] = ()
    materials: tuple[MaterialShare, ...] = ()
    hazards: tuple[Hazard, ...] = ()
    diligence_report: str | None = None
    notes: tuple[str, ...] = field(default=())

    def per_kwh(self, kg_co2e_per_kg: float | None) -> float | None:
        """A per-kg-of-lot figure as kg CO2e per kWh of rated energy: × battery mass [kg] / rated energy [kWh]."""
        if kg_co2e_per_kg is None:
            return None
        return kg_co2e_per_kg * float(self.spec.mass_kg) / float(self.spec.rated_energy_kwh)
