"""Reads of a supplier data package: the shipment, the event that made its lot, and their master data.

Why a module of its own: the package (:mod:`lichain.services.package`) needs a handful of recorded events by the
projections that point at them; the SQL stays in storage with bound parameters. Retracted events are left out.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from lichain.core.codec import event_from_payload
from lichain.core.model import Event
from lichain.storage import schema as s
from lichain.storage.sql import SqlStore

__all__ = ["events_at", "lot_event_seq", "master_event_seqs", "shipment_event_seq"]


def shipment_event_seq(store: SqlStore, shipment_id: str) -> int | None:
    """The seq of the live event that recorded shipment ``shipment_id``."""
    retracted = select(s.retractions.c.target_seq)
    q = (select(s.shipments.c.event_seq).where(s.shipments.c.id == shipment_id)
         .where(s.shipments.c.event_seq.not_in(retracted)))
    with store.read() as conn:
        v = conn.execute(q).scalar()
    return int(v) if v is not None else None


def lot_event_seq(store: SqlStore, lot_id: str) -> int | None:
    """The seq of the event that made lot ``lot_id`` (its run, or its commissioning as a source lot)."""
    with store.read() as conn:
        v = conn.execute(select(s.lots.c.event_seq).where(s.lots.c.id == lot_id)).scalar()
    return int(v) if v is not None else None


def master_event_seqs(store: SqlStore, sites: Iterable[str], materials: Iterable[str]) -> list[int]:
    """Seqs of the declarations of ``sites`` and ``materials``."""
    with store.read() as conn:
        a = conn.execute(select(s.sites.c.event_seq).where(s.sites.c.id.in_(list(sites)))).scalars().all()
        b = conn.execute(select(s.materials.c.event_seq).where(s.materials.c.code.in_(list(materials)))
                         ).scalars().all()
    return sorted({int(x) for x in (*a, *b)})


def events_at(store: SqlStore, seqs: Iterable[int]) -> list[Event]:
    """The events recorded at ``seqs``, in chain order."""
    q = (select(s.events.c.event_id, s.events.c.kind, s.events.c.time, s.events.c.payload)
         .where(s.events.c.seq.in_(sorted(set(seqs)))).order_by(s.events.c.seq))
    with store.read() as conn:
        rows = conn.execute(q).all()
    return [event_from_payload(r.event_id, r.kind, r.time, r.payload) for r in rows]
