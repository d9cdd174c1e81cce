"""Custody by site, read from the projections: the live movements of lots (production, shipments, consumptions),
and the charge of each shipment's transport emissions to the mass that travelled.

The per-site stock rule (:mod:`lichain.core.custody`) needs, for each lot a document touches, every live event
that put mass of it into a site or took mass out: the lot's production at its site, each shipment's departure
from its origin and arrival at its destination (both at ``shipped_at``: the ledger has no receiving time),
each run's consumption at the run's site at its start. Retracted events are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from lichain.core.ports import LotState, Movement
from lichain.storage.inlist import driver_rows, in_rows
from lichain.storage.writer_memory import moved_at

__all__ = ["TransportCharges", "lots_and_movements", "movements", "transport_charges"]

if TYPE_CHECKING:  # numpy loads only when transport is charged, not for a lot's movements (``lichain show``)
    import numpy as np
    import numpy.typing as npt

    F64 = npt.NDArray[np.float64]
    I64 = npt.NDArray[np.int64]
    B = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class TransportCharges:
    """Shipments' emissions charged to the mass that travelled [kg CO2e].

    ``run`` [R]: inbound transport of what each run consumed; ``run_complete`` [R]: False where a leg that brought
    it had no factor; ``held`` [N]: what each lot's unconsumed stock away from home still carries (a delivery to
    a customer, stock at a destination); ``origin_per_kg`` [S]: transport intensity of the lot at each shipment's
    origin [kg CO2e kg⁻¹] (earlier legs), so a delivery carries origin_per_kg + E / m per kg shipped.
    """

    run: F64
    run_complete: B
    held: F64
    origin_per_kg: F64

_CHUNK = 500


_LIVE_SEQ = "NOT IN (SELECT target_seq FROM retractions)"
#: The lots themselves (with whether their creating event is retracted), and their live shipments and consumptions
#: whatever the lot's own creation (as a lot's use counts them), in one round trip; each branch names the lot by id
#: (kind 0 the lot and its production, 1 a shipment, 2 a consumption).
_LOTS_AND_MOVES = (
    "SELECT 0, l.id, l.site, NULL, l.produced_us, l.mass_mg, e.event_id, l.idx, "
    f"CASE WHEN l.event_seq {_LIVE_SEQ} THEN 1 ELSE 0 END FROM lots l JOIN events e ON e.seq = l.event_seq "
    "WHERE l.id IN ({keys}) "
    "UNION ALL "
    "SELECT 1, l.id, s.from_site, s.to_site, s.shipped_us, s.mass_mg, e.event_id, NULL, 1 FROM lots l "
    f"JOIN shipments s ON s.lot_idx = l.idx JOIN events e ON e.seq = s.event_seq "
    f"WHERE l.id IN ({{keys}}) AND s.event_seq {_LIVE_SEQ} "
    "UNION ALL "
    "SELECT 2, l.id, r.site, NULL, r.started_us, c.mass_mg, e.event_id, NULL, 1 FROM lots l "
    "JOIN consumptions c ON c.lot_idx = l.idx JOIN runs r ON r.idx = c.run_idx JOIN events e ON e.seq = r.event_seq "
    f"WHERE l.id IN ({{keys}}) AND r.event_seq {_LIVE_SEQ}")


def lots_and_movements(conn: Connection, ids: Iterable[str]) -> tuple[dict[str, LotState], dict[str, list[Movement]]]:
    """The stored lots among ``ids`` with their use so far (as ``LedgerView.lots``), and the live movements of
    those whose creation is live (as :func:`movements`), from one read of the lots, their shipments and
    consumptions and one of their assays: the lot, consumption and shipment queries of the two answers apart
    read the same rows."""
    made, moves, use = _read(conn, ids)
    assay: dict[int, dict[str, int]] = {m[0]: {} for m in made.values()}
    for lot_idx, element, ppb in in_rows(conn, "SELECT lot_idx, element, ppb FROM assays WHERE lot_idx IN ({keys})",
                                         list(assay)):
        assay[lot_idx][element] = ppb
    lots = {lot_id: LotState(lot_id, mass_mg, use[lot_id][1], use[lot_id][0], assay[idx], at, site, event_id)
            for lot_id, (idx, mass_mg, at, site, event_id) in made.items()}
    return lots, moves


def movements(conn: Connection, ids: Iterable[str]) -> dict[str, list[Movement]]:
    """Live movements of the stored lots among ``ids``, per lot id (signed mass [mg]): its production first, then
    its shipments (out of the origin, into the destination), then its consumptions."""
    return _read(conn, ids)[1]


def _read(conn: Connection, ids: Iterable[str]) -> tuple[dict[str, Any], dict[str, list[Movement]],
                                                          dict[str, list[int]]]:
    """Per stored lot among ``ids``: (index, mass, production instant, site, creating event id), its live
    movements (when its creation is live) and its live [shipped, consumed] mass [mg]."""
    rows = in_rows(conn, _LOTS_AND_MOVES, ids)
    rows.sort(key=lambda r: r[0])  # lots first, then shipments, then consumptions (stable within each)
    made: dict[str, Any] = {}
    moves: dict[str, list[Movement]] = {}
    use: dict[str, list[int]] = {}
    for kind, lot_id, site, to_site, at_us, mass_mg, event_id, idx, live in rows:
        at = moved_at(at_us)
        if kind == 0:
            made[lot_id] = (idx, mass_mg, at, site, event_id)
            use[lot_id] = [0, 0]
            if live:
                moves[lot_id] = [Movement(lot_id, site, at, mass_mg, event_id)]
            continue
        use[lot_id][kind - 1] += mass_mg  # shipped, consumed
        lot_moves = moves.get(lot_id)
        if lot_moves is None:  # the lot's creation is retracted: it has no live movements
            continue
        if kind == 1:
            lot_moves += (Movement(lot_id, site, at, -mass_mg, event_id), Movement(lot_id, to_site, at, mass_mg,
                                                                                   event_id))
        else:
            lot_moves.append(Movement(lot_id, site, at, -mass_mg, event_id))
    return made, moves, use


def transport_charges(conn: Connection, ships: Sequence[Any], ship_kg_co2e: F64, ship_ok: B, run_idx: I64,
                      lot_idx: I64) -> TransportCharges:
    """Charge each live shipment's emissions to the mass that travelled (:mod:`lichain.analysis.transport`).

    ``ships`` are rows (mode, from_site, idx, lot_idx, mass_mg, distance_km, shipped_us, to_site) with their
    emissions ``ship_kg_co2e`` [kg CO2e] and whether their factor was found (``ship_ok``); ``run_idx`` and
    ``lot_idx`` are the sorted store numbers the outputs align with.
    """
    from lichain.analysis.transport import charge_legs

    if not ships:
        return TransportCharges(*charge_legs(ships, ship_kg_co2e, ship_ok, (), (), run_idx, lot_idx))
    live = _LIVE_SEQ
    lots = {int(r[3]) for r in ships}
    few = len(lots) <= 500  # e.g. one lot's deliveries: name the lots instead of every shipped lot
    shipped = f"({','.join(map(str, sorted(lots)))})" if few else f"(SELECT lot_idx FROM shipments WHERE event_seq {live})"
    produced = driver_rows(conn, f"SELECT idx, site, mass_mg FROM lots WHERE idx IN {shipped} AND event_seq {live}")
    uses = driver_rows(conn, "SELECT c.lot_idx, c.run_idx, r.site, c.mass_mg FROM consumptions c JOIN runs r ON "
                              f"r.idx = c.run_idx WHERE c.lot_idx IN {shipped} AND r.event_seq {live}")
    return TransportCharges(*charge_legs(ships, ship_kg_co2e, ship_ok, produced, uses, run_idx, lot_idx))
