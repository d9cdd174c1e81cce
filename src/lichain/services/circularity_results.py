"""Typed results of the circularity use cases (recycled content, Art. 8, recovery), in their ``--json`` shapes.

Kept apart from :mod:`lichain.services.circularity` so the CLI, the REST API and the passport read one set of
frozen result types (fractions 0..1, masses in kg; ``None`` where a share is undefined, never a silent zero).
"""

from __future__ import annotations

from dataclasses import dataclass

from lichain.core.errors import Problem
from lichain.core.targets import TargetCheck

__all__ = ["AllocatedKg", "Art8Plant", "Art8Report", "Art8Scope", "Art8Shares", "ClaimPart", "ClaimProposal", "ElementShares", "OrganisationRef",
           "PeriodSpan", "RecoveryElement", "RecoveryReport", "RecycledContent", "RecycledShares", "RecyclerRecovery"]


@dataclass(frozen=True, slots=True)
class PeriodSpan:
    """A reporting period ``[start, end)`` as ISO instants (UTC)."""

    start: str
    end: str


@dataclass(frozen=True, slots=True)
class OrganisationRef:
    """The reporting organisation and how it was chosen (flag, or the ledger owner declared in master data)."""

    name: str | None
    chosen_by: str


@dataclass(frozen=True, slots=True)
class ElementShares:
    """One element of a set of lots: its mass [kg] and, as fractions of it, the physical pre-/post-consumer and
    recycled shares (propagated over the lot graph) beside the shares allocated by custody claims (ISO 22095)."""

    element_kg: float
    pre_consumer: float | None
    post_consumer: float | None
    recycled: float | None
    allocated_pre_consumer: float | None
    allocated_post_consumer: float | None
    allocated_recycled: float | None


@dataclass(frozen=True, slots=True)
class RecycledShares(ElementShares):
    """:class:`ElementShares` of one lot with its virgin share (1 − recycled; None when undefined)."""

    virgin: float | None = None


@dataclass(frozen=True, slots=True)
class ClaimPart:
    """A live custody claim's allocation to a lot: pre-/post-consumer element mass [kg] for one element."""

    claim: str
    site: str
    model: str
    element: str
    period_start: str
    period_end: str
    pre_consumer_kg: float
    post_consumer_kg: float


@dataclass(frozen=True, slots=True)
class RecycledContent:
    """Recycled content per element of one lot, physical beside allocated (``recycled --json``)."""

    lot: str
    material: str | None
    stage: str | None
    site: str | None
    mass_kg: float
    elements: dict[str, RecycledShares]
    claims: tuple[ClaimPart, ...]
    basis: str


@dataclass(frozen=True, slots=True)
class Art8Shares(ElementShares):
    """:class:`ElementShares` compared with the Art. 8 minimums (physical and allocated figures)."""

    vs_physical: tuple[TargetCheck, ...] = ()
    vs_allocated: tuple[TargetCheck, ...] = ()


@dataclass(frozen=True, slots=True)
class Art8Scope:
    """What an Art. 8 comparison covers: one lot; a customer's deliveries; or a period's lots of a stage at the
    reporting organisation's plants. Fields of the other scopes are None."""

    lot: str | None = None
    customer: str | None = None
    stage: str | None = None
    shipments: int | None = None
    mass_kg: float | None = None
    period: PeriodSpan | None = None
    lots: int | None = None
    organisation: OrganisationRef | None = None


@dataclass(frozen=True, slots=True)
class Art8Plant:
    """A period scope's lots of one material made at one site, and their shares."""

    site: str
    material: str
    lots: int
    mass_kg: float
    elements: dict[str, Art8Shares]


@dataclass(frozen=True, slots=True)
class Art8Report:
    """Recycled Co, Li, Ni shares against the Art. 8(2)-(3) minimums (indicative: methodology not adopted)."""

    status: str
    regulation: str
    scope: Art8Scope
    elements: dict[str, Art8Shares]
    plants: tuple[Art8Plant, ...] | None = None


@dataclass(frozen=True, slots=True)
class RecoveryElement:
    """One element at one recycler: kg in with black mass, kg out in recovered products, their ratio, the
    ratio to the element in the waste shredded in the period (``overall``), and the targets."""

    black_mass_in_kg: float
    recovered_kg: float
    recovery: float | None
    waste_in_kg: float
    overall: float | None
    targets: tuple[TargetCheck, ...]


@dataclass(frozen=True, slots=True)
class RecyclerRecovery:
    """One recycler's runs in the period and its recovery per element."""

    site: str
    runs: int
    elements: dict[str, RecoveryElement]


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    """Recovery efficiency per element and recycler in a period (``recovery --json``)."""

    period: PeriodSpan
    organisation: OrganisationRef
    status: str
    basis: str
    recyclers: tuple[RecyclerRecovery, ...]


@dataclass(frozen=True, slots=True)
class AllocatedKg:
    """Recycled element mass a claim allocates [kg], pre- and post-consumer."""

    pre_consumer: float
    post_consumer: float


@dataclass(frozen=True, slots=True)
class ClaimProposal:
    """The largest chain-of-custody claim the ledger allows for a site, period and model; ``recorded`` when it
    was written (``problems`` say why not)."""

    id: str
    site: str
    model: str
    period: PeriodSpan
    allocations: int
    allocated_kg: dict[str, AllocatedKg]
    recorded: bool
    problems: tuple[Problem, ...] = ()
