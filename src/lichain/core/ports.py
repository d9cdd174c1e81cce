"""Ports: what the pure ledger needs to know of the stored state, and what a store must offer.

Adapters (``lichain.storage``) implement these with bulk queries; the ledger rules in
:mod:`lichain.core.validate` only see these shapes, so they are tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from lichain.core.model import Consumption, Event

__all__ = [
    "BoundaryRun",
    "ClaimLot",
    "ClaimRecord",
    "CustodyView",
    "LedgerStore",
    "LedgerView",
    "LotAllocation",
    "LotRecord",
    "LotState",
    "Movement",
    "ProjectionMismatch",
    "ProjectionReport",
    "Settled",
    "StoredEvent",
    "use_of",
]


@dataclass(frozen=True, slots=True)
class LotState:
    """What validation needs to know of a stored lot: exact mass, use so far, assay, place and time."""

    id: str
    mass_mg: int
    consumed_mg: int
    shipped_mg: int
    assay: Mapping[str, int]
    produced_at: datetime
    site: str
    event_id: str  # the event that created it (commissioning or run)
    retracted: bool = False


class LotRecord(Protocol):
    """The fixed facts of a lot a check holds (a stored lot's :class:`LotState`, or a lot new in the document)."""

    @property
    def mass_mg(self) -> int: ...
    @property
    def assay(self) -> Mapping[str, int]: ...
    @property
    def produced_at(self) -> datetime: ...
    @property
    def site(self) -> str: ...
    @property
    def event_id(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Settled:
    """The lots a checked document names, as they stand once it is written: each lot's fixed facts and its live
    movements in full (stored ones first, then the document's). A writer may keep them instead of reading them back
    for its next document (:mod:`lichain.storage.writer_memory`); use so far follows from the movements
    (:func:`use_of`). Valid only for a document written whole, without retractions."""

    new: Mapping[str, LotRecord]  # lots the document created or used (their facts as the check holds them)
    stored: Mapping[str, LotRecord]  # stored lots the check read
    moves: Mapping[str, list[Movement]]


def use_of(mass_mg: int, moved_mg: Iterable[int]) -> tuple[int, int]:
    """(consumed, shipped) [mg] of a lot from the signed masses of its complete live movements: its production adds
    ``mass_mg``, each shipment adds at its destination what it takes from its origin, each consumption only takes."""
    gained = taken = 0
    for m in moved_mg:
        if m > 0:
            gained += m
        else:
            taken -= m
    shipped = gained - mass_mg
    return taken - shipped, shipped


@dataclass(frozen=True, slots=True)
class Movement:
    """Mass of a lot entering (+) or leaving (−) a site at a time [mg], and the live event that moved it.

    A production adds the lot's mass at its site; a shipment takes it from its origin and adds it at its
    destination; a run's consumption takes it from the run's site (see :mod:`lichain.core.custody`).
    """

    lot: str
    site: str
    at: datetime
    mass_mg: int
    ref: str  # event id


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A recorded event as the chain holds it."""

    seq: int
    event_id: str
    kind: str
    time: str
    payload: str
    prev_hash: str
    chain_hash: str
    recorded_at: str = ""
    source: str | None = None
    record_hash: str = ""


@dataclass(frozen=True, slots=True)
class BoundaryRun:
    """A live run of a claim boundary: what it consumed [mg] and which lots it made."""

    id: str
    event_id: str
    started_at: datetime
    inputs: tuple[Consumption, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LotAllocation:
    """Recycled element mass [mg] one live claim allocated to a lot, with the claim's event, site and model."""

    claim_event_id: str
    site: str
    model: str
    element: str
    pre_consumer_mg: int
    post_consumer_mg: int


@dataclass(frozen=True, slots=True)
class ClaimLot:
    """What the claim check needs of a stored lot, with the live allocations of recycled element mass to it.

    ``inputs`` are the producing run's consumptions [mg]; a store gives them for lots declared pre- or
    post-consumer (the claim rule follows that declared-recycled ancestry), and may leave them empty otherwise.
    """

    id: str
    mass_mg: int
    assay: Mapping[str, int]
    origin: str
    site: str
    produced_at: datetime
    run_site: str | None  # site of the producing run; None for a commissioned lot
    retracted: bool
    allocations: tuple[LotAllocation, ...] = ()
    inputs: tuple[Consumption, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    """A live custody claim of a site: its period and its allocated totals per element, (pre, post) [mg]."""

    id: str
    event_id: str
    period_start: datetime
    period_end: datetime
    model: str
    totals: Mapping[str, tuple[int, int]]


class LedgerView(Protocol):
    """Read access to the stored ledger, asked for in bulk (one call per kind per document)."""

    def lots(self, ids: Iterable[str]) -> dict[str, LotState]:
        """Stored lots among ``ids``."""
        ...

    def sites(self, ids: Iterable[str]) -> set[str]:
        """Stored site ids among ``ids``."""
        ...

    def materials(self, codes: Iterable[str]) -> set[str]:
        """Stored material codes among ``codes``."""
        ...

    def event_payloads(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Stored events among ``ids``: event id → (kind, canonical payload)."""
        ...

    def retracted(self, ids: Iterable[str]) -> set[str]:
        """Event ids among ``ids`` that an error declaration has retracted."""
        ...

    def record_ids(self, kind: str, ids: Iterable[str]) -> dict[str, str]:
        """Stored runs or shipments (``kind``) among ``ids``: record id → event id."""
        ...

    def lots_of_event(self, event_id: str) -> Sequence[LotState]:
        """Lots created by one stored event (a commissioning or a run)."""
        ...

    def movements(self, ids: Iterable[str]) -> dict[str, list[Movement]]:
        """Live movements of the stored lots among ``ids`` (production, shipments, consumptions), per lot."""
        ...


@runtime_checkable
class CustodyView(Protocol):
    """What the custody-claim rules read (:mod:`lichain.core.claims`); a SQL store offers it in bulk queries.

    A view without these methods can still check documents that hold no claim and no retraction.
    """

    def boundary_runs(self, site: str, start: datetime, end: datetime) -> Sequence[BoundaryRun]:
        """Live runs at ``site`` that started in [start, end), with their inputs and output lot ids."""
        ...

    def claim_lots(self, ids: Iterable[str]) -> dict[str, ClaimLot]:
        """Stored lots among ``ids`` with origin, producing run site and live allocations."""
        ...

    def site_claims(self, site: str) -> Sequence[ClaimRecord]:
        """Live custody claims of ``site``."""
        ...

    def claim_ids(self, ids: Iterable[str]) -> set[str]:
        """Claim ids among ``ids`` already recorded (live or retracted: a claim id is used once)."""
        ...

    def claim_dependents(self, event_id: str) -> list[str]:
        """Why retracting the stored event ``event_id`` would break a live claim (empty: it would not)."""
        ...


class EventSink(Protocol):
    """Append validated events in one transaction (all or nothing)."""

    def append(self, events: Sequence[Event]) -> int:
        """Write events; return how many were written."""
        ...


@dataclass(frozen=True, slots=True)
class ProjectionMismatch:
    """One stored projection row that differs from its rebuild from the events."""

    table: str
    key: str
    problem: str  # "changed" | "missing" | "extra"
    columns: tuple[str, ...] = ()
    stored: str = ""
    expected: str = ""


@dataclass(frozen=True, slots=True)
class ProjectionReport:
    """Outcome of rebuilding the projections from the events: rows compared per table, first differences."""

    rows_compared: Mapping[str, int] = field(default_factory=dict)
    mismatches: Sequence[ProjectionMismatch] = ()
    mismatch_count: int = 0

    @property
    def ok(self) -> bool:
        """True when every projection equals its rebuild."""
        return self.mismatch_count == 0


class LedgerStore(LedgerView, Protocol):
    """A ledger the use cases run on: the rules' view, a unit of work for writing, and the event log.

    Implemented by the SQL store (SQLite, PostgreSQL) and by the in-memory store (:mod:`lichain.storage.memory`).
    """

    url: str

    def writing(self) -> AbstractContextManager[LedgerStore]:
        """A unit of work: what is checked inside it is what is appended (commit at the end, unless discarded)."""
        ...

    def discard(self) -> None:
        """Inside :meth:`writing`: drop the unit of work when it ends."""
        ...

    def append(self, events: Sequence[Event], payloads: Sequence[str], source: str | None = None, *,
               settled: Settled | None = None) -> int:
        """Record validated events with their canonical payloads; extend both hash chains. ``settled``: the lots
        of the check that accepted them, as they stand once written (a writer may keep them)."""
        ...

    def head(self) -> tuple[int, str]:
        """(last seq, content chain hash)."""
        ...

    def record_head(self) -> str:
        """The record chain's last hash."""
        ...

    def iter_events(self, batch: int = 20_000) -> Iterator[StoredEvent]:
        """All events in chain order."""
        ...

    def stored_event(self, event_id: str) -> StoredEvent | None:
        """One recorded event by id."""
        ...

    def deep_verify(self, *, limit: int = 20, batch: int = 20_000) -> ProjectionReport:
        """Rebuild every projection from the events and compare."""
        ...

    def counts(self) -> dict[str, int]:
        """Row counts per table."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
