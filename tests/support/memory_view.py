"""The in-memory ledger (:class:`lichain.storage.memory.MemoryStore`) with a one-call ingest, for fast tests.

:meth:`MemoryView.ingest` runs the real use case (:func:`lichain.services.ingest.ingest_events`): the whole
document is checked with the ledger rules and applied only if nothing is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

from lichain.core.errors import Problem
from lichain.core.validate import BalancePolicy, LocatedEvent
from lichain.services.ingest import ingest_events
from lichain.storage.memory import MemoryStore

__all__ = ["MemoryView"]


class MemoryView(MemoryStore):
    """An in-memory ledger that returns a document's problems from :meth:`ingest`."""

    def ingest(self, located: Sequence[LocatedEvent], policy: BalancePolicy | None = None) -> list[Problem]:
        """Check a document and apply it when it has no problem; return the problems."""
        return list(ingest_events(located, self, policy=policy).problems)

    @property
    def payloads(self) -> dict[str, tuple[str, str]]:
        """Recorded events: event id → (kind, canonical payload)."""
        return self._s.payloads
