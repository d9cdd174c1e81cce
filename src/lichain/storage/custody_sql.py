"""Custody by site, read from the projections: the live movements of lots (production, shipments, consumptions).

The per-site stock rule (:mod:`lichain.core.custody`) needs, for each lot a document touches, every live event
that put mass of it into a site or took mass out: the lot's production at its site, each shipment's departure
from its origin and arrival at its destination (both at ``shipped_at``: the ledger has no receiving time),
each run's consumption at the run's site at its start. Retracted events are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from lichain.core.ports import Movement
from lichain.storage import schema as s

__all__ = ["movements"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CHUNK = 500


def _at(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def movements(conn: Connection, ids: Iterable[str]) -> dict[str, list[Movement]]:
    """Live movements of the stored lots among ``ids``, per lot id (signed mass [mg])."""
    wanted = sorted(set(ids))
    out: dict[str, list[Movement]] = {}
    retracted = select(s.retractions.c.target_seq)
    for i in range(0, len(wanted), _CHUNK):
        part = wanted[i : i + _CHUNK]
        lots = conn.execute(
            select(s.lots.c.idx, s.lots.c.id, s.lots.c.site, s.lots.c.produced_us, s.lots.c.mass_mg,
                   s.events.c.event_id)
            .join(s.events, s.events.c.seq == s.lots.c.event_seq)
            .where(s.lots.c.id.in_(part), s.lots.c.event_seq.not_in(retracted))
        ).all()
        if not lots:
            continue
        name = {r.idx: r.id for r in lots}
        idxs = list(name)
        for r in lots:
            out.setdefault(r.id, []).append(Movement(r.id, r.site, _at(r.produced_us), r.mass_mg, r.event_id))
        for r in conn.execute(
            select(s.shipments.c.lot_idx, s.shipments.c.from_site, s.shipments.c.to_site,
                   s.shipments.c.shipped_us, s.shipments.c.mass_mg, s.events.c.event_id)
            .join(s.events, s.events.c.seq == s.shipments.c.event_seq)
            .where(s.shipments.c.lot_idx.in_(idxs), s.shipments.c.event_seq.not_in(retracted))
        ):
            lot, at = name[r.lot_idx], _at(r.shipped_us)
            out[lot].append(Movement(lot, r.from_site, at, -r.mass_mg, r.event_id))
            out[lot].append(Movement(lot, r.to_site, at, r.mass_mg, r.event_id))
        for c in conn.execute(
            select(s.consumptions.c.lot_idx, s.runs.c.site, s.runs.c.started_us, s.consumptions.c.mass_mg,
                   s.events.c.event_id)
            .join(s.runs, s.runs.c.idx == s.consumptions.c.run_idx)
            .join(s.events, s.events.c.seq == s.runs.c.event_seq)
            .where(s.consumptions.c.lot_idx.in_(idxs), s.runs.c.event_seq.not_in(retracted))
        ):
            lot = name[c.lot_idx]
            out[lot].append(Movement(lot, c.site, _at(c.started_us), -c.mass_mg, c.event_id))
    return out
