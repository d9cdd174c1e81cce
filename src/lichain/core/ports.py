"""Ports: what the pure ledger needs to know of the stored state, and what a store must offer.

Adapters (``lichain.storage``) implement these with bulk queries; the ledger rules in
:mod:`lichain.core.validate` only see these shapes, so they are tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lichain.core.model import Event

__all__ = ["LedgerView", "LotState", "StoredEvent"]


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


class EventSink(Protocol):
    """Append validated events in one transaction (all or nothing)."""

    def append(self, events: Sequence[Event]) -> int:
        """Write events; return how many were written."""
        ...
