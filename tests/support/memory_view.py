"""An in-memory :class:`lichain.core.ports.LedgerView` that accumulates accepted events, for fast ledger tests.

It implements only what validation reads (lots with their use so far, sites, materials, event payloads, run and
shipment ids); :meth:`MemoryView.ingest` checks a document against it with the real rules and, if there is no
problem, applies the accepted events, as ``ingest_events`` does with a SQL store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lichain.core.errors import Problem
from lichain.core.model import Event, Lot, Material, Retraction, Run, Shipment, Site
from lichain.core.ports import LotState, Movement
from lichain.core.validate import BalancePolicy, LocatedEvent, check_document

__all__ = ["MemoryView"]


@dataclass(slots=True)
class _Lot:
    mass_mg: int
    assay: dict[str, int]
    produced_at: datetime
    site: str
    event_id: str
    consumed_mg: int = 0
    shipped_mg: int = 0


@dataclass(slots=True)
class MemoryView:
    """Ledger state held in dicts."""

    lot_rows: dict[str, _Lot] = field(default_factory=dict)
    site_ids: set[str] = field(default_factory=set)
    material_codes: set[str] = field(default_factory=set)
    payloads: dict[str, tuple[str, str]] = field(default_factory=dict)
    runs: dict[str, str] = field(default_factory=dict)
    shipments: dict[str, str] = field(default_factory=dict)
    retracted_ids: set[str] = field(default_factory=set)
    by_event: dict[str, list[str]] = field(default_factory=dict)
    moves: dict[str, list[Movement]] = field(default_factory=dict)

    # --- LedgerView -------------------------------------------------------------------------------------------
    def lots(self, ids: Iterable[str]) -> dict[str, LotState]:
        """Stored lots among ``ids``."""
        out = {}
        for i in ids:
            r = self.lot_rows.get(i)
            if r is not None:
                out[i] = LotState(i, r.mass_mg, r.consumed_mg, r.shipped_mg, r.assay, r.produced_at, r.site,
                                  r.event_id, r.event_id in self.retracted_ids)
        return out

    def sites(self, ids: Iterable[str]) -> set[str]:
        """Stored site ids among ``ids``."""
        return {i for i in ids if i in self.site_ids}

    def materials(self, codes: Iterable[str]) -> set[str]:
        """Stored material codes among ``codes``."""
        return {c for c in codes if c in self.material_codes}

    def event_payloads(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Stored events among ``ids``."""
        return {i: self.payloads[i] for i in ids if i in self.payloads}

    def retracted(self, ids: Iterable[str]) -> set[str]:
        """Retracted event ids among ``ids``."""
        return {i for i in ids if i in self.retracted_ids}

    def record_ids(self, kind: str, ids: Iterable[str]) -> dict[str, str]:
        """Stored run or shipment ids among ``ids``."""
        table = self.runs if kind == "run" else self.shipments
        return {i: table[i] for i in ids if i in table}

    def lots_of_event(self, event_id: str) -> Sequence[LotState]:
        """Lots created by one stored event."""
        return list(self.lots(self.by_event.get(event_id, ())).values())

    def movements(self, ids: Iterable[str]) -> dict[str, list[Movement]]:
        """Live movements of stored lots among ``ids`` (production, shipments, consumptions)."""
        out: dict[str, list[Movement]] = {}
        for i in ids:
            r = self.lot_rows.get(i)
            if r is not None and r.event_id not in self.retracted_ids:
                out[i] = [m for m in self.moves.get(i, ()) if m.ref not in self.retracted_ids]
        return out

    # --- writing ----------------------------------------------------------------------------------------------
    def _add_lot(self, lot: Lot, event_id: str) -> None:
        self.lot_rows[lot.id] = _Lot(lot.mass_mg, dict(lot.assay), lot.produced_at, lot.site, event_id)
        self.moves.setdefault(lot.id, []).append(Movement(lot.id, lot.site, lot.produced_at, lot.mass_mg, event_id))
        self.by_event.setdefault(event_id, []).append(lot.id)

    def apply(self, events: Sequence[Event], payloads: Sequence[str]) -> None:
        """Record events that validation accepted."""
        for ev, payload in zip(events, payloads, strict=True):
            self.payloads[ev.event_id] = (ev.kind.value, payload)
            b = ev.body
            if isinstance(b, Site):
                self.site_ids.add(b.id)
            elif isinstance(b, Material):
                self.material_codes.add(b.code)
            elif isinstance(b, Lot):
                self._add_lot(b, ev.event_id)
            elif isinstance(b, Run):
                self.runs[b.id] = ev.event_id
                for c in b.inputs:
                    self.lot_rows[c.lot].consumed_mg += c.mass_mg
                    self.moves[c.lot].append(Movement(c.lot, b.site, b.started_at, -c.mass_mg, ev.event_id))
                for o in b.outputs:
                    self._add_lot(o, ev.event_id)
            elif isinstance(b, Shipment):
                self.shipments[b.id] = ev.event_id
                self.lot_rows[b.lot].shipped_mg += b.mass_mg
                self.moves[b.lot] += [Movement(b.lot, b.from_site, b.shipped_at, -b.mass_mg, ev.event_id),
                                      Movement(b.lot, b.to_site, b.shipped_at, b.mass_mg, ev.event_id)]
            elif isinstance(b, Retraction):
                self.retracted_ids.add(b.target_event_id)

    def ingest(self, located: Sequence[LocatedEvent], policy: BalancePolicy | None = None) -> list[Problem]:
        """Check a document and apply it when it has no problem; return the problems."""
        result = check_document(located, self, policy)
        if not result.problems:
            self.apply(result.new_events, result.payloads)
        return result.problems
