"""An in-memory unit of work: the ledger's events and the state its rules read, held in dicts.

Why this exists: use cases (ingest, verify, checkpoints) are written against the ports of
:mod:`lichain.core.ports`, not against SQL; this adapter lets them run, and their unit tests run, without a
database. It keeps the same hash chains as the SQL store (same canonical payloads, same links), so a document
ingested here and into SQLite or PostgreSQL gives the same content head. It keeps no projection tables (the
state is derived as events are applied), so its deep verification compares no rows. It serves one process:
``writing`` is a plain unit of work (commit on success, nothing on discard or error), not a lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lichain.core.codec import GENESIS, chain_hash, format_time, record_hash
from lichain.core.model import Event, Lot, Material, Retraction, Run, Shipment, Site
from lichain.core.ports import LotState, Movement, ProjectionReport, Settled, StoredEvent

__all__ = ["MemoryStore"]


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
class _State:
    """Everything the rules read, derived from the events applied so far."""

    lot_rows: dict[str, _Lot] = field(default_factory=dict)
    site_ids: set[str] = field(default_factory=set)
    material_codes: set[str] = field(default_factory=set)
    payloads: dict[str, tuple[str, str]] = field(default_factory=dict)
    runs: dict[str, str] = field(default_factory=dict)
    shipments: dict[str, str] = field(default_factory=dict)
    retracted_ids: set[str] = field(default_factory=set)
    by_event: dict[str, list[str]] = field(default_factory=dict)
    moves: dict[str, list[Movement]] = field(default_factory=dict)
    events: list[StoredEvent] = field(default_factory=list)
    uses: dict[str, Run | Shipment] = field(default_factory=dict)  # event id → the run or shipment it records

    def copy(self) -> _State:
        """A copy that a unit of work may change and then commit or drop (lot rows are copied when changed)."""
        return _State({k: _Lot(**{f: getattr(v, f) for f in _Lot.__slots__}) for k, v in self.lot_rows.items()},
                      set(self.site_ids), set(self.material_codes), dict(self.payloads), dict(self.runs),
                      dict(self.shipments), set(self.retracted_ids), {k: list(v) for k, v in self.by_event.items()},
                      {k: list(v) for k, v in self.moves.items()}, list(self.events), dict(self.uses))


class MemoryStore:
    """A ledger held in memory: :class:`~lichain.core.ports.LedgerView`, the write side and the event log."""

    url = "memory:"

    def __init__(self) -> None:
        self._state = _State()
        self._work: _State | None = None
        self._discard = False

    @property
    def _s(self) -> _State:
        return self._work if self._work is not None else self._state

    # --- unit of work ---------------------------------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[MemoryStore]:
        """Check and append on a working copy; it replaces the ledger when the block ends normally."""
        if self._work is not None:
            yield self
            return
        self._work, self._discard = self._state.copy(), False
        try:
            yield self
            if not self._discard:
                self._state = self._work
        finally:
            self._work = None

    def discard(self) -> None:
        """Inside :meth:`writing`: drop the unit of work when it ends (a refused or dry-run document)."""
        self._discard = True

    def append(self, events: Sequence[Event], payloads: Sequence[str], source: str | None = None, *,
               settled: Settled | None = None) -> int:
        """Record validated events: extend both hash chains and the derived state."""
        with self.writing():
            s = self._s
            seq, prev = self.head()
            rec = self.record_head()
            recorded = format_time(datetime.now(UTC))
            for ev, payload in zip(events, payloads, strict=True):
                seq += 1
                t = format_time(ev.time)
                prev = chain_hash(prev, ev.event_id, ev.kind.value, t, payload)
                rec = record_hash(rec, prev, recorded, source)
                s.events.append(StoredEvent(seq, ev.event_id, ev.kind.value, t, payload,
                                            s.events[-1].chain_hash if s.events else GENESIS, prev, recorded,
                                            source, rec))
                self._apply(s, ev, payload)
        return len(events)

    @staticmethod
    def _add_lot(s: _State, lot: Lot, event_id: str) -> None:
        s.lot_rows[lot.id] = _Lot(lot.mass_mg, dict(lot.assay), lot.produced_at, lot.site, event_id)
        s.moves.setdefault(lot.id, []).append(Movement(lot.id, lot.site, lot.produced_at, lot.mass_mg, event_id))
        s.by_event.setdefault(event_id, []).append(lot.id)

    def _apply(self, s: _State, ev: Event, payload: str) -> None:
        s.payloads[ev.event_id] = (ev.kind.value, payload)
        b = ev.body
        if isinstance(b, Site):
            s.site_ids.add(b.id)
        elif isinstance(b, Material):
            s.material_codes.add(b.code)
        elif isinstance(b, Lot):
            self._add_lot(s, b, ev.event_id)
        elif isinstance(b, Run):
            s.runs[b.id] = ev.event_id
            s.uses[ev.event_id] = b
            for c in b.inputs:
                s.lot_rows[c.lot].consumed_mg += c.mass_mg
                s.moves[c.lot].append(Movement(c.lot, b.site, b.started_at, -c.mass_mg, ev.event_id))
            for o in b.outputs:
                self._add_lot(s, o, ev.event_id)
        elif isinstance(b, Shipment):
            s.shipments[b.id] = ev.event_id
            s.uses[ev.event_id] = b
            s.lot_rows[b.lot].shipped_mg += b.mass_mg
            s.moves[b.lot] += [Movement(b.lot, b.from_site, b.shipped_at, -b.mass_mg, ev.event_id),
                               Movement(b.lot, b.to_site, b.shipped_at, b.mass_mg, ev.event_id)]
        elif isinstance(b, Retraction):
            s.retracted_ids.add(b.target_event_id)
            used = s.uses.get(b.target_event_id)  # a retracted run or shipment no longer uses its lots
            if isinstance(used, Run):
                for c in used.inputs:
                    s.lot_rows[c.lot].consumed_mg -= c.mass_mg
            elif isinstance(used, Shipment):
                s.lot_rows[used.lot].shipped_mg -= used.mass_mg

    def quality_records(self, lots: Iterable[str], named: Iterable[str] = ()) -> Any:
        """Specifications, and the certificates and deviations of ``lots`` (the quality rule's stored state)."""
        import json

        from lichain.storage.quality_sql import records_from

        wanted, materials = set(lots) | set(named), dict[str, str]()
        live = [e for e in self._s.events if e.event_id not in self._s.retracted_ids]
        for e in live:
            if e.kind in ("lot", "run"):
                d = json.loads(e.payload)
                for lot in [d] if e.kind == "lot" else d["outputs"]:
                    if lot["id"] in wanted:
                        materials[lot["id"]] = lot["material"]
        rows = [(e.kind, e.payload) for e in live if e.kind in ("specification", "coa", "deviation")]
        return records_from(rows, materials, wanted)

    # --- LedgerView -----------------------------------------------------------------------------------------
    def lots(self, ids: Iterable[str]) -> dict[str, LotState]:
        """Stored lots among ``ids`` with their use so far."""
        s, out = self._s, {}
        for i in ids:
            r = s.lot_rows.get(i)
            if r is not None:
                out[i] = LotState(i, r.mass_mg, r.consumed_mg, r.shipped_mg, r.assay, r.produced_at, r.site,
                                  r.event_id, r.event_id in s.retracted_ids)
        return out

    def sites(self, ids: Iterable[str]) -> set[str]:
        """Stored site ids among ``ids``."""
        return {i for i in ids if i in self._s.site_ids}

    def materials(self, codes: Iterable[str]) -> set[str]:
        """Stored material codes among ``codes``."""
        return {c for c in codes if c in self._s.material_codes}

    def event_payloads(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Stored events among ``ids``: event id → (kind, canonical payload)."""
        p = self._s.payloads
        return {i: p[i] for i in ids if i in p}

    def retracted(self, ids: Iterable[str]) -> set[str]:
        """Retracted event ids among ``ids``."""
        return {i for i in ids if i in self._s.retracted_ids}

    def record_ids(self, kind: str, ids: Iterable[str]) -> dict[str, str]:
        """Stored run or shipment ids among ``ids``: record id → event id."""
        table = self._s.runs if kind == "run" else self._s.shipments
        return {i: table[i] for i in ids if i in table}

    def lots_of_event(self, event_id: str) -> Sequence[LotState]:
        """Lots created by one stored event."""
        return list(self.lots(self._s.by_event.get(event_id, ())).values())

    def movements(self, ids: Iterable[str]) -> dict[str, list[Movement]]:
        """Live movements of stored lots among ``ids`` (production, shipments, consumptions)."""
        s, out = self._s, {}
        for i in ids:
            r = s.lot_rows.get(i)
            if r is not None and r.event_id not in s.retracted_ids:
                out[i] = [m for m in s.moves.get(i, ()) if m.ref not in s.retracted_ids]
        return out

    # --- event log ------------------------------------------------------------------------------------------
    def head(self) -> tuple[int, str]:
        """(last seq, chain hash); (0, GENESIS) when empty."""
        ev = self._s.events
        return (ev[-1].seq, ev[-1].chain_hash) if ev else (0, GENESIS)

    def record_head(self) -> str:
        """The record chain's last hash (GENESIS when empty)."""
        ev = self._s.events
        return ev[-1].record_hash if ev else GENESIS

    def iter_events(self, batch: int = 20_000) -> Iterator[StoredEvent]:
        """All events in chain order."""
        del batch  # one list in memory
        yield from list(self._s.events)

    def stored_event(self, event_id: str) -> StoredEvent | None:
        """One recorded event by id, or None."""
        return next((e for e in self._s.events if e.event_id == event_id), None)

    def deep_verify(self, *, limit: int = 20, batch: int = 20_000) -> ProjectionReport:
        """No projection tables are kept in memory: nothing to compare."""
        del limit, batch
        return ProjectionReport({}, (), 0)

    def counts(self) -> dict[str, int]:
        """Events and derived records held."""
        s = self._s
        return {"events": len(s.events), "sites": len(s.site_ids), "materials": len(s.material_codes),
                "lots": len(s.lot_rows), "runs": len(s.runs), "shipments": len(s.shipments),
                "retractions": len(s.retracted_ids)}

    def close(self) -> None:
        """Nothing to release."""
