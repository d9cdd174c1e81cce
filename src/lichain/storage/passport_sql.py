"""Reads of the battery passport's source events: cell makers' cell data and battery registrations.

Why a module of its own: both are kept only as hash-chained events (no projection table: a ledger holds few of
them next to its lots), read here from the events table by kind, live ones only (a retracted statement leaves
the passport), in recorded order; the passport service and the ledger's battery-id rule read through these.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from lichain.core.codec import body_from_json, parse_time
from lichain.core.model import BatteryRegistration, CellSpec, EventKind
from lichain.storage import schema as s
from lichain.storage.sql import SqlStore

__all__ = ["SourceEvent", "battery_lots", "cell_specs", "registrations", "site_country"]


@dataclass(frozen=True, slots=True)
class SourceEvent:
    """A live passport source event: its id, position in the chain, time and body."""

    event_id: str
    seq: int
    time: datetime
    body: CellSpec | BatteryRegistration


def _events(store: SqlStore, kind: EventKind) -> list[SourceEvent]:
    retracted = select(s.retractions.c.target_seq)
    q = (select(s.events.c.event_id, s.events.c.seq, s.events.c.time, s.events.c.payload)
         .where(s.events.c.kind == kind.value).where(s.events.c.seq.not_in(retracted)).order_by(s.events.c.seq))
    with store.read() as conn:
        rows = conn.execute(q).all()
    out = []
    for eid, seq, time, payload in rows:
        body = body_from_json(kind, json.loads(payload))
        assert isinstance(body, CellSpec | BatteryRegistration)
        out.append(SourceEvent(eid, int(seq), parse_time(time) if isinstance(time, str) else time, body))
    return out


def cell_specs(store: SqlStore, lot: str) -> list[SourceEvent]:
    """Live cell-spec statements about ``lot``, oldest first (the last one is in force)."""
    return [e for e in _events(store, EventKind.CELL_SPEC) if isinstance(e.body, CellSpec) and e.body.lot == lot]


def registrations(store: SqlStore) -> list[SourceEvent]:
    """Live battery registrations, oldest first."""
    return _events(store, EventKind.BATTERY_REGISTRATION)


def battery_lots(store: SqlStore, ids: Iterable[str]) -> dict[str, str]:
    """Registered battery ids among ``ids`` → their lot."""
    wanted = set(ids)
    out: dict[str, str] = {}
    for e in registrations(store):
        assert isinstance(e.body, BatteryRegistration)
        out.update({b: e.body.lot for b in e.body.battery_ids if b in wanted})
    return out


def site_country(store: SqlStore, site: str) -> str | None:
    """The declared country of ``site`` (ISO 3166-1 alpha-2; None when no such site is declared)."""
    with store.read() as conn:
        v = conn.execute(select(s.sites.c.country).where(s.sites.c.id == site)).scalar()
    return None if v is None else str(v)
