"""Typed, frozen results of the customer declaration (``lichain export emrt``): one class per EMRT sheet row.

Why in core: the use case (:mod:`lichain.services.emrt`), its builder, the workbook writer
(:mod:`lichain.io.emrt_xlsx`, which may not import use cases) and the published JSON Schema share these shapes. Field names follow the
columns of RMI's EMRT 2.1 sheets (docs/diligence.md maps each column); lichain's additions (shares, element
mass [kg], audit status, risks) follow them. ``None`` is a value the ledger does not hold: it is also listed in
:attr:`EmrtDeclaration.missing`, never filled in by guess.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "EMRT_METALS",
    "METAL_NAMES",
    "EmrtAnswer",
    "EmrtDeclaration",
    "MetalSummary",
    "MineRow",
    "MissingField",
    "ProductRow",
    "RiskShare",
    "SmelterRow",
]

#: Tracked element → the metal's name in the declaration.
METAL_NAMES = {"Co": "Cobalt", "Ni": "Nickel", "Li": "Lithium", "Mn": "Manganese", "C": "Graphite",
               "Cu": "Copper"}
#: Minerals selectable in EMRT 2.1 (Declaration, "Select Minerals/Metals in Scope").
EMRT_METALS = frozenset({"Cobalt", "Copper", "Graphite", "Lithium", "Mica", "Nickel"})


@dataclass(frozen=True, slots=True)
class RiskShare:
    """A risk in force at the site while the delivered metal's material was there, and the share it touched."""

    id: str
    kind: str
    status: str
    category: str | None
    start: str
    end: str | None
    share: float


@dataclass(frozen=True, slots=True)
class SmelterRow:
    """A Smelter List row: a smelter, refiner or processor of one metal, with the share of it passing through.

    ``mines`` names the mines feeding it for this metal (or ``recycled`` / ``scrap``), ``mine_countries`` their
    countries; ``recycled_feedstock`` answers whether all of its feed of this metal was recycled or scrap.
    """

    metal: str
    element: str
    smelter_name: str
    smelter_country: str
    smelter_identification: str
    identification_source: str
    street: str | None
    city: str | None
    state_province: str | None
    contact_name: str | None
    contact_email: str | None
    proposed_next_steps: str | None
    mines: tuple[str, ...]
    mine_countries: tuple[str, ...]
    recycled_feedstock: str
    comments: str | None
    site_kind: str
    operator: str
    share: float
    element_kg: float
    audit_status: tuple[str, ...]
    certifications_declared: tuple[str, ...]
    risks: tuple[RiskShare, ...]


@dataclass(frozen=True, slots=True)
class MineRow:
    """A Mine List row: a mine (or source site) of one metal, the smelters sourcing from it, its share."""

    metal: str
    element: str
    smelters: tuple[str, ...]
    mine_name: str
    mine_identification: str
    identification_source: str
    mine_country: str
    street: str | None
    city: str | None
    state_province: str | None
    contact_name: str | None
    contact_email: str | None
    proposed_next_steps: str | None
    comments: str | None
    site_kind: str
    operator: str
    share: float
    element_kg: float
    audit_status: tuple[str, ...]
    certifications_declared: tuple[str, ...]
    risks: tuple[RiskShare, ...]


@dataclass(frozen=True, slots=True)
class ProductRow:
    """A Product List row: a delivered material (product number = material code) and how much was shipped."""

    product_number: str
    product_name: str
    requester_product_number: str | None
    requester_product_name: str | None
    lots: int
    shipments: int
    mass_kg: float
    comments: str | None


@dataclass(frozen=True, slots=True)
class EmrtAnswer:
    """A Declaration question (1–7 per metal, A–G for the company) with its answer and what it rests on.

    ``answer`` None: the ledger cannot answer it (listed in ``missing``).
    """

    question: str
    metal: str | None
    text: str
    answer: str | None
    basis: str


@dataclass(frozen=True, slots=True)
class MetalSummary:
    """One metal of the delivered lots: its mass [kg] and shares computed from the ledger [kg kg⁻¹].

    ``processed_share``: through a listed processor; ``at_risk_share``: through a site while it carried a risk;
    ``cahra_share``: through a site while it was CAHRA-listed; ``cahra_unassessed``: source or processor sites
    with no CAHRA statement.
    """

    metal: str
    element: str
    element_kg: float
    recycled_share: float
    processed_share: float
    at_risk_share: float
    cahra_share: float
    cahra_unassessed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MissingField:
    """A field of the declaration the ledger does not hold: the sheet, the field, and why."""

    sheet: str
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class EmrtDeclaration:
    """Outcome of ``lichain export emrt`` (the ``--json`` shape; the workbook has the same content)."""

    template: str
    company: str | None
    customer: str
    period: str
    period_start: str
    period_end: str
    effective_date: str
    scope: str
    scope_description: str
    minerals: tuple[str, ...]
    scope_note: str | None
    metals: tuple[MetalSummary, ...]
    answers: tuple[EmrtAnswer, ...]
    company_answers: tuple[EmrtAnswer, ...]
    smelters: tuple[SmelterRow, ...]
    mines: tuple[MineRow, ...]
    products: tuple[ProductRow, ...]
    missing: tuple[MissingField, ...]
    method: str
    sources: tuple[str, ...]
