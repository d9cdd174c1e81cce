"""Custody by site against an independent brute-force timeline: random productions, partial and multi-leg
shipments (often back-dated), runs and shipment retractions, each its own document (docs/ledger.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lichain.analysis.transport import Leg, site_intensity
from lichain.core.custody import available
from lichain.core.errors import Problem
from lichain.core.model import Consumption, Event, Lot, Material, Retraction, Run, Shipment, Site
from lichain.core.ports import Movement
from lichain.core.validate import BalancePolicy, LocatedEvent
from tests.support.chain_text import event
from tests.support.memory_view import MemoryView

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SITES = ("A", "B", "C")
KG = 1_000_000
EXACT = BalancePolicy(consumption_tolerance=Decimal(0))

Move = tuple[str, str, int, int]  # lot, site, day, signed kg


def _never_negative(moves: list[Move]) -> bool:
    """Brute force: the stock of every (lot, site) summed over all moves up to each day, for every day."""
    days = sorted({d for _, _, d, _ in moves})
    for lot in {m[0] for m in moves}:
        for site in SITES:
            for day in days:
                if sum(kg for lo, s, d, kg in moves if lo == lot and s == site and d <= day) < 0:
                    return False
    return True


def _at(day: int) -> datetime:
    return T0 + timedelta(days=day)


op = st.one_of(
    st.tuples(st.just("ship"), st.integers(0, 2), st.sampled_from(SITES), st.sampled_from(SITES),
              st.integers(0, 20), st.integers(1, 12)),
    st.tuples(st.just("run"), st.integers(0, 2), st.sampled_from(SITES), st.integers(0, 20), st.integers(1, 12)),
    st.tuples(st.just("retract"), st.integers(0, 9)),
)


OPS = st.lists(op, min_size=1, max_size=25)
STARTS = st.lists(st.tuples(st.sampled_from(SITES), st.integers(0, 5)), min_size=2, max_size=2)
Ingest = Callable[[list[LocatedEvent]], list[Problem]]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, starts=STARTS)
def test_accepted_events_keep_every_site_stock_non_negative(ops: list[tuple], starts: list[tuple]) -> None:
    """Through the in-memory view (the same rules; the SQL stores run it in tests/integration/test_custody.py)."""
    view = MemoryView()
    play(lambda doc: view.ingest(doc, EXACT), "", ops, starts)


def play(ingest: Ingest, p: str, ops: list[tuple], starts: list[tuple]) -> None:
    """Ingest each op as its own document; the ledger accepts exactly what the brute-force timeline allows.

    ``p`` prefixes every id so that many runs can share one store.
    """
    master = [event(Site(p + s, s, "refinery", "CN", "Org"), T0) for s in SITES]
    master.append(event(Material(p + "M", "m", "ore"), T0))
    lots: list[str] = []
    born: dict[str, int] = {}  # day each lot exists from: nothing moves or is used before that
    moves: list[Move] = []
    for i, (site, day) in enumerate(starts):
        lot = Lot(f"{p}L{i}", p + "M", p + site, _at(day), 10 * KG, {})
        master.append(event(lot, lot.produced_at))
        lots.append(lot.id)
        moves.append((lot.id, site, day, 10))
        born[lot.id] = day
    assert ingest([LocatedEvent(f"m:{k}", e) for k, e in enumerate(master)]) == []
    shipped: list[tuple[Event, list[Move]]] = []  # accepted, not yet retracted shipments
    for n, o in enumerate(ops):
        new: list[Move]
        exists = True
        if o[0] == "ship":
            _, li, frm, to, day, kg = o
            lot_id = lots[li % len(lots)]
            body: object = Shipment(f"{p}S{n}", lot_id, kg * KG, p + frm, p + to, _at(day), "road", Decimal(10))
            new = [(lot_id, frm, day, -kg), (lot_id, to, day, kg)]
            exists = day >= born[lot_id]
        elif o[0] == "run":
            _, li, site, day, kg = o
            lot_id = lots[li % len(lots)]
            out = Lot(f"{p}O{n}", p + "M", p + site, _at(day), kg * KG, {})
            body = Run(f"{p}R{n}", p + site, "blend", _at(day), _at(day), (Consumption(lot_id, kg * KG),), (out,))
            new = [(lot_id, site, day, -kg), (out.id, site, day, kg)]
            exists = day >= born[lot_id]
        else:
            if not shipped:
                continue
            target, its = shipped[o[1] % len(shipped)]
            body = Retraction(target.event_id, _at(30), "test")
            new = [(lo, s, d, -kg) for lo, s, d, kg in its]  # undo its moves
        ev = event(body, _at(30))  # type: ignore[arg-type]
        # the origin must hold what leaves before anything arrives (a shipment from a site to itself included)
        expect = exists and _never_negative(moves + new[:1]) and _never_negative(moves + new)
        problems = ingest([LocatedEvent(f"doc:{n}", ev)])
        assert (problems == []) is expect, (o, problems)
        if expect:
            moves += new
            if isinstance(body, Run):
                lots.append(out.id)
                born[out.id] = o[3]
            elif isinstance(body, Shipment):
                shipped.append((ev, new))
            else:
                shipped = [x for x in shipped if x[0].event_id != body.target_event_id]  # type: ignore[attr-defined]
        else:
            assert problems[0].location == f"doc:{n}" or problems[0].location.startswith(f"doc:{n}/")
            m = problems[0].message
            if o[0] == "retract":
                assert m.startswith("cannot retract shipment") and " kg delivered on " in m
            else:
                assert not exists or (" kg requested" in m and "site" in m)
    assert _never_negative(moves)


def test_available_is_bounded_by_later_stock() -> None:
    """Hand case: 10 kg in at day 0, 8 kg out at day 5: at day 3 only 2 kg can leave, limited at day 5."""
    t = [_at(0), _at(3), _at(5)]
    moves = [Movement("L", "B", t[0], 10 * KG, "p"), Movement("L", "B", t[2], -8 * KG, "r"),
             Movement("L", "A", t[0], 99 * KG, "other site")]
    a = available(moves, "B", t[1])
    assert (a.mass_mg, a.limited_at) == (2 * KG, t[2])
    b = available(moves, "B", _at(6))
    assert (b.mass_mg, b.limited_at) == (2 * KG, _at(6))
    assert available(moves, "C", t[1]).mass_mg == 0


def test_transport_intensity_of_a_journey_that_comes_back() -> None:
    """20 kg made at A; 10 kg A→B (100 kg CO2e), 5 kg back B→A (10 kg CO2e). By hand: τ_B = τ_A + 100/10 and
    τ_A = (5 τ_B + 10) / (20 + 5), so 20 τ_A = 60: τ_A = 3, τ_B = 13 kg CO2e/kg."""
    tau = site_intensity({"A": 20.0}, [Leg("A", "B", 10.0, 100.0), Leg("B", "A", 5.0, 10.0)])
    assert tau == pytest.approx({"A": 3.0, "B": 13.0}, rel=1e-12)
    # one leg: exactly its emissions per kg shipped; the origin keeps zero
    assert site_intensity({"A": 20.0}, [Leg("A", "B", 10.0, 770.3)]) == {"A": 0.0, "B": 77.03}
