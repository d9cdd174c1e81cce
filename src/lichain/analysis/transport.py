"""Transport burden of shipments carried by the mass that travelled, not by the whole lot.

A shipment moves part of a lot from one site to another (custody by site, docs/ledger.md). Its transport
emissions belong to the kilograms that made the trip: they are charged to the runs that consume the lot at the
destination, in proportion to the kilograms they consume there, and what travels on carries them further.
Per lot, every site that holds some of it has a transport intensity τ [kg CO2e per kg]: the mass-weighted mean,
over everything that entered the site (the production there counts with τ = 0), of the origin's τ plus the leg's
own emissions per kg shipped:

.. math:: τ_v = \\frac{\\sum_{s \\to v} m_s\\, τ_{from(s)} + E_s}{P_v + \\sum_{s \\to v} m_s}

with :math:`m_s` the shipped mass [kg], :math:`E_s` the leg's emissions [kg CO2e] and :math:`P_v` the lot's mass
produced at v. A run consuming c kg of the lot at v is charged c·τ_v; a shipment to a customer delivers its kg
at τ_from + E_s / m_s on top of the lot's cradle-to-gate footprint. Time order inside a site is not tracked: τ is
the site's average over all its arrivals (a site that receives one lot by two routes averages them). Because the
weights are the masses that flowed, what runs are charged plus what the unconsumed stock still holds equals the
sum of the legs' emissions (footprint additivity).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Leg", "site_intensity"]


@dataclass(frozen=True, slots=True)
class Leg:
    """One live shipment of a lot: origin, destination, mass [kg], transport emissions [kg CO2e]."""

    from_site: str
    to_site: str
    mass_kg: float
    kg_co2e: float


def site_intensity(produced: Mapping[str, float], legs: Sequence[Leg], *, rounds: int = 200) -> dict[str, float]:
    """Transport intensity τ [kg CO2e per kg] of one lot at every site it reached.

    Parameters
    ----------
    produced : mapping
        Mass of the lot produced at each site [kg] (one site for a lot).
    legs : sequence of Leg
        Its live shipments.
    rounds : int
        Upper bound of fixed-point rounds (a journey A→B→C settles in as many rounds as it has legs; a journey
        that comes back to a site settles geometrically).

    Returns
    -------
    dict
        Site → τ. Sites with nothing entering them are absent (τ = 0).
    """
    inflow: dict[str, float] = dict(produced)
    for g in legs:
        inflow[g.to_site] = inflow.get(g.to_site, 0.0) + g.mass_kg
    tau = dict.fromkeys(inflow, 0.0)
    for _ in range(max(1, min(rounds, len(legs) + 1 if _acyclic(legs) else rounds))):
        new = dict.fromkeys(inflow, 0.0)
        for g in legs:
            new[g.to_site] += g.mass_kg * tau.get(g.from_site, 0.0) + g.kg_co2e
        new = {v: (b / inflow[v] if inflow[v] > 0 else 0.0) for v, b in new.items()}
        if new == tau:
            break
        tau = new
    return tau


def _acyclic(legs: Sequence[Leg]) -> bool:
    """True when no journey comes back to a site (then ``len(legs) + 1`` rounds are exact)."""
    nxt: dict[str, set[str]] = {}
    for g in legs:
        nxt.setdefault(g.from_site, set()).add(g.to_site)
    state: dict[str, int] = {}

    def visit(v: str) -> bool:
        state[v] = 1
        for w in nxt.get(v, ()):
            if state.get(w) == 1 or (w not in state and not visit(w)):
                return False
        state[v] = 2
        return True

    return all(visit(v) for v in list(nxt) if v not in state)
