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
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Leg", "charge_legs", "site_intensity"]

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]


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


def charge_legs(ships: Sequence[Any], ship_kg_co2e: F64, ship_ok: B, produced: Sequence[Any], uses: Sequence[Any],
                run_idx: I64, lot_idx: I64, *, fast: bool = True) -> tuple[F64, B, F64, F64]:
    """Every live shipment's emissions charged to the mass that travelled, for many lots at once.

    Parameters
    ----------
    ships : sequence
        Rows (mode, from_site, idx, lot_idx, mass_mg, distance_km, shipped_us, to_site) of live shipments, with
        their emissions ``ship_kg_co2e`` [kg CO2e] and whether their factor was found (``ship_ok``).
    produced : sequence
        Rows (lot store number, site, mass [mg]) of the live shipped lots.
    uses : sequence
        Rows (lot store number, run store number, run site, mass [mg]) of live consumptions of shipped lots.
    run_idx, lot_idx : int64 arrays
        Sorted store numbers the outputs align with.
    fast : bool
        Take lots with a single leg out of the site that made them by arrays (τ at the destination is the leg's
        emissions per kg shipped, zero at home); False: every lot by :func:`site_intensity` (the reference).

    Returns
    -------
    (run [R], run_complete [R], held [N], origin_per_kg [S]): see
    :class:`lichain.storage.custody_sql.TransportCharges`.
    """
    n = len(ships)
    run_tr, run_ok = np.zeros(len(run_idx)), np.ones(len(run_idx), np.bool_)
    held, origin = np.zeros(len(lot_idx)), np.zeros(n)
    if not n:
        return run_tr, run_ok, held, origin
    home = {int(i): (site, mass / 1e6) for i, site, mass in produced}
    s_lot = np.fromiter((int(r[3]) for r in ships), np.int64, n)
    fast_lot: dict[int, int] = {}  # lot -> its single leg's row, for lots on the array path
    if fast:
        lots, first, counts = np.unique(s_lot, return_index=True, return_counts=True)
        for lot, k in zip(lots[counts == 1].tolist(), first[counts == 1].tolist(), strict=True):
            h = home.get(lot)
            if h is not None and ships[k][1] == h[0] and ships[k][7] != h[0]:
                fast_lot[lot] = k
    if fast_lot:
        _charge_single_legs(ships, ship_kg_co2e, ship_ok, home, fast_lot,
                            [u for u in uses if int(u[0]) in fast_lot], run_idx, lot_idx, run_tr, run_ok, held)
    legs: dict[int, list[tuple[int, Leg]]] = {}
    for k, r in enumerate(ships):
        if int(r[3]) not in fast_lot:
            legs.setdefault(int(r[3]), []).append((k, Leg(r[1], r[7], r[4] / 1e6, float(ship_kg_co2e[k]))))
    if not legs:
        return run_tr, run_ok, held, origin
    by_lot: dict[int, list[tuple[int, str, float]]] = {}
    for lot, run, site, mass in uses:
        if int(lot) in legs:
            by_lot.setdefault(int(lot), []).append((int(run), site, mass / 1e6))
    run_pos = {int(v): i for i, v in enumerate(run_idx.tolist())}
    lot_pos = {int(v): i for i, v in enumerate(lot_idx.tolist())}
    for lot, its in legs.items():
        if lot not in home:
            continue
        site, mass = home[lot]
        tau = site_intensity({site: mass}, [g for _, g in its])
        for k, g in its:
            origin[k] = tau.get(g.from_site, 0.0)
        stock: dict[str, float] = {site: mass}
        for _, g in its:
            stock[g.from_site] = stock.get(g.from_site, 0.0) - g.mass_kg
            stock[g.to_site] = stock.get(g.to_site, 0.0) + g.mass_kg
        complete = all(ship_ok[k] for k, _ in its)
        for run, at, kg in by_lot.get(lot, ()):
            stock[at] = stock.get(at, 0.0) - kg
            i = run_pos.get(run)
            if i is not None:
                run_tr[i] += kg * tau.get(at, 0.0)
                run_ok[i] &= complete or at == site
        j = lot_pos.get(lot)
        if j is not None:
            held[j] = sum(max(s, 0.0) * tau.get(v, 0.0) for v, s in stock.items())
    return run_tr, run_ok, held, origin


def _charge_single_legs(ships: Sequence[Any], ship_kg_co2e: F64, ship_ok: B, home: Mapping[int, tuple[str, float]],
                        fast_lot: Mapping[int, int], uses: Sequence[Any], run_idx: I64, lot_idx: I64, run_tr: F64,
                        run_ok: B, held: F64) -> None:
    """:func:`charge_legs` for lots with one leg, out of the site that made them, by arrays (in place).

    With nothing entering the home site, τ there is 0; at the destination d, τ_d = E / m (the leg's emissions per
    kg shipped, 0 when nothing was shipped); origins stay 0. A run consuming c kg at d is charged c·τ_d and is
    incomplete when the leg had no factor; the stock left at d holds max(m − consumed at d, 0)·τ_d."""
    lots = np.fromiter(fast_lot, np.int64, len(fast_lot))
    k = np.fromiter(fast_lot.values(), np.int64, len(fast_lot))
    m = np.fromiter((ships[i][4] for i in k.tolist()), np.float64, len(k)) / 1e6
    e = ship_kg_co2e[k]
    tau = np.divide(e, m, out=np.zeros(len(k)), where=m > 0)
    order = np.argsort(lots)
    lots, k, m, tau = lots[order], k[order], m[order], tau[order]
    stock = m.copy()
    if uses:
        u_lot = np.fromiter((int(u[0]) for u in uses), np.int64, len(uses))
        u_run = np.fromiter((int(u[1]) for u in uses), np.int64, len(uses))
        u_kg = np.fromiter((u[3] for u in uses), np.float64, len(uses)) / 1e6
        q = np.searchsorted(lots, u_lot)
        at_dest = np.fromiter((u[2] == ships[int(k[j])][7] for u, j in zip(uses, q.tolist(), strict=True)),
                              np.bool_, len(uses))
        at_home = np.fromiter((u[2] == home[int(lots[j])][0] for u, j in zip(uses, q.tolist(), strict=True)),
                              np.bool_, len(uses))
        np.subtract.at(stock, q[at_dest], u_kg[at_dest])
        r = np.searchsorted(run_idx, u_run)
        known = r < len(run_idx)
        known[known] = run_idx[r[known]] == u_run[known]
        charge = np.where(at_dest, u_kg * tau[q], 0.0)
        np.add.at(run_tr, r[known], charge[known])
        bad = known & ~at_home & ~ship_ok[k[q]]
        run_ok[r[bad]] = False
    j = np.searchsorted(lot_idx, lots)
    known = j < len(lot_idx)
    known[known] = lot_idx[j[known]] == lots[known]
    held[j[known]] = np.maximum(stock[known], 0.0) * tau[known]
