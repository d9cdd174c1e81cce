"""Custody by site: each lot's stock per site over time, and the rule that no stock ever goes below zero.

A lot's mass enters the ledger at its own site when it is produced (``produced_at``); a shipment takes mass out of
its origin site and puts it into its destination at ``shipped_at`` (the ledger holds no separate receiving time,
so arrival is taken at departure: the mass is at the destination from ``shipped_at`` on); a run takes what it
consumes out of the run's site at ``started_at``. The running stock of every (lot, site) in time order must stay
at or above zero, less the ledger's consumption tolerance of the lot's mass, at every instant, including when
an event is back-dated between recorded ones. Within one instant arrivals count before departures.

:class:`CustodyBook` holds the movements of the lots one document touches (stored live ones plus the
document's own) and answers how much of a lot can leave a site at a time without any later stock going
negative. It is pure: :mod:`lichain.core.validate` feeds it and turns its answers into located problems.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from lichain.core.ports import Movement

__all__ = ["Availability", "CustodyBook", "Movement", "available", "shipment_lots", "stock_timeline"]


@dataclass(frozen=True, slots=True)
class Availability:
    """What can leave a site at a time: ``mass_mg`` [mg], bounded by the stock at ``limited_at``."""

    mass_mg: int
    limited_at: datetime


def stock_timeline(moves: Iterable[Movement], site: str) -> list[tuple[datetime, int]]:
    """(instant, stock [mg] after every movement of that instant) of one lot at one site, in time order."""
    per: dict[datetime, int] = {}
    for m in moves:
        if m.site == site:
            per[m.at] = per.get(m.at, 0) + m.mass_mg
    out: list[tuple[datetime, int]] = []
    stock = 0
    for t in sorted(per):
        stock += per[t]
        out.append((t, stock))
    return out


def available(moves: Iterable[Movement], site: str, at: datetime) -> Availability:
    """Largest mass [mg] that can leave ``site`` at ``at`` with no stock of the lot there negative at or after it.

    That is the minimum of the stock at ``at`` and of the stock after every later instant at that site.
    """
    line = stock_timeline(moves, site)
    stock = 0
    for t, s in line:
        if t > at:
            break
        stock = s
    best = Availability(stock, at)
    for t, s in line:
        if t > at and s < best.mass_mg:
            best = Availability(s, t)
    return best


class CustodyBook:
    """Movements of the lots one document touches, with the per-site stock rule."""

    def __init__(self, stored: Mapping[str, Iterable[Movement]], tolerance: Decimal,
                 mass_mg: Mapping[str, int] | None = None) -> None:
        self.moves: dict[str, list[Movement]] = {}
        self.tolerance = tolerance  # of the lot's mass (BalancePolicy.consumption_tolerance)
        self.mass: dict[str, int] = dict(mass_mg or {})
        # per (lot, site): stock after every movement and the latest movement's time, so that an event at or
        # after the latest (the usual, time-ordered case) is checked without walking the timeline
        self.total: dict[tuple[str, str], int] = {}
        self.last: dict[tuple[str, str], datetime] = {}
        for v in stored.values():
            for m in v:
                self.add(m)

    def set_mass(self, lot: str, mass_mg: int) -> None:
        """Declare a lot's mass [mg] (its tolerance is a fraction of it)."""
        self.mass[lot] = mass_mg

    def slack(self, lot: str) -> int:
        """Tolerated shortfall [mg] of a lot's stock at a site (scale and weighbridge differences)."""
        return int(Decimal(self.mass.get(lot, 0)) * self.tolerance)

    def add(self, m: Movement) -> None:
        """Record a movement."""
        self.moves.setdefault(m.lot, []).append(m)
        key = (m.lot, m.site)
        self.total[key] = self.total.get(key, 0) + m.mass_mg
        if key not in self.last or m.at > self.last[key]:
            self.last[key] = m.at

    def available(self, lot: str, site: str, at: datetime) -> Availability:
        """What can leave ``site`` at ``at`` (:func:`available`, with a fast path for the latest instant)."""
        last = self.last.get((lot, site))
        if last is None:
            return Availability(0, at)
        if at >= last:
            return Availability(self.total[(lot, site)], at)
        return available(self.moves.get(lot, ()), site, at)

    def drop(self, ref: str) -> None:
        """Forget every movement of event ``ref`` (the event is retracted)."""
        for lot, moves in list(self.moves.items()):
            if any(m.ref == ref for m in moves):
                for key in [k for k in self.total if k[0] == lot]:
                    del self.total[key], self.last[key]
                self.moves[lot] = []
                for m in moves:
                    if m.ref != ref:
                        self.add(m)

    def take(self, lot: str, site: str, at: datetime, mass_mg: int, ref: str) -> str | None:
        """Take ``mass_mg`` out of ``site`` at ``at`` if custody allows; else say why (site, time, kg)."""
        key = (lot, site)
        last = self.last.get(key)
        if last is not None and at >= last and mass_mg <= self.total[key]:  # the usual case: nothing later
            self.add(Movement(lot, site, at, -mass_mg, ref))
            return None
        av = self.available(lot, site, at)
        if mass_mg > av.mass_mg + self.slack(lot):
            later = "" if av.limited_at == at else f" (limited by its stock there on {_fmt(av.limited_at)})"
            return (f"lot {lot} at site {site} on {_fmt(at)}: {max(av.mass_mg, 0) / 1e6:.6f} kg available"
                    f"{later}, {mass_mg / 1e6:.6f} kg requested")
        self.add(Movement(lot, site, at, -mass_mg, ref))
        return None

    def retract(self, ref: str, kind: str) -> list[str]:
        """Take a retracted event's movements out; a ``shipment``'s delivery must still be at its destination."""
        why = [f"cannot retract shipment event {ref}: {w}" for w in self.release(ref)] if kind == "shipment" else []
        self.drop(ref)
        return why

    def release(self, ref: str) -> list[str]:
        """Why the movements of event ``ref`` cannot be undone (empty: they can): what it delivered is gone."""
        net: dict[tuple[str, str], tuple[int, datetime]] = {}
        for lot, moves in self.moves.items():
            for m in moves:
                if m.ref == ref:
                    n, t = net.get((lot, m.site), (0, m.at))
                    net[(lot, m.site)] = (n + m.mass_mg, min(t, m.at))
        out = []
        for (lot, site), (n, at) in sorted(net.items()):
            av = self.available(lot, site, at)
            if n > 0 and n > av.mass_mg + self.slack(lot):
                out.append(f"lot {lot} at site {site}: only {max(av.mass_mg, 0) / 1e6:.6f} kg of the "
                           f"{n / 1e6:.6f} kg delivered on {_fmt(at)} is still there on {_fmt(av.limited_at)}")
        return out


def shipment_lots(payloads: Mapping[str, tuple[str, str]], targets: Iterable[str]) -> set[str]:
    """Lots of the stored shipments among ``targets`` (event id → (kind, canonical payload) in ``payloads``)."""
    return {str(json.loads(p).get("lot", "")) for t in targets for k, p in [payloads.get(t, ("", ""))]
            if k == "shipment"}


def _fmt(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")
