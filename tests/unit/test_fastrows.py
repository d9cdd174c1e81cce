"""Positional rows written directly are the reference rows: every table, every row, in the same order.

The reference is :func:`lichain.storage.rows.event_rows` (dicts, turned into tuples by ``as_tuples``), which is also
what ``verify --deep`` rebuilds the projections with; :func:`lichain.storage.fastrows.event_tuples` is what the
SQL store writes. Both run on the events of a demo ledger (every kind the demo makes, retractions included) and on
runs, lots and shipments drawn at random (economic allocation, activities on lots and runs, zero assays and losses).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lichain.core.codec import GENESIS, canonical_payload, chain_hash
from lichain.core.model import (
    Activity,
    Consumption,
    Electricity,
    Event,
    EventKind,
    Fuel,
    Lot,
    Reagent,
    Retraction,
    Run,
    Shipment,
)
from lichain.demo import generate
from lichain.services.record import assign_ids
from lichain.storage.fastrows import COLUMNS, TABLES, event_tuples
from lichain.storage.rows import as_tuples, event_rows
from lichain.storage.sql import to_us


def _both(events: list[Event], lot_idx: dict[str, int] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    payloads = [canonical_payload(ev.body) for ev in events]
    args: list[Any] = [4, GENESIS, {"lot": 7, "run": 3, "shipment": 11}]
    li_ref, li_fast = dict(lot_idx or {}), dict(lot_idx or {})
    ts_ref: dict[str, int] = {}
    ts_fast: dict[str, int] = {}
    ref = event_rows(events, payloads, *args, li_ref, ts_ref, "2027-01-01T00:00:00Z", "doc.json", chain_hash, to_us,
                     "r0")
    fast = event_tuples(events, payloads, *args, li_fast, ts_fast, "2027-01-01T00:00:00Z", "doc.json", chain_hash,
                        to_us, "r0")
    assert set(ref) == set(TABLES) == set(fast)
    for t in TABLES:
        assert fast[t] == as_tuples(COLUMNS[t], ref[t]), t
    assert li_ref == li_fast and ts_ref == ts_fast
    return fast


@cache
def _demo() -> tuple[Event, ...]:
    chain = generate(lots=400, seed=0)
    return tuple(ev for d in [assign_ids(chain.master_events), *(assign_ids(b) for b in chain.batches())] for ev in d)


def test_rows_of_a_demo_ledger_with_retractions_are_the_reference_rows() -> None:
    events = list(_demo())
    retract = [ev for ev in events if ev.kind in (EventKind.RUN, EventKind.SHIPMENT)][:5]
    events += [Event(f"urn:uuid:r{i}", EventKind.RETRACTION, ev.time, Retraction(ev.event_id, ev.time, "test"))
               for i, ev in enumerate(retract)]
    rows = _both(events)
    assert len(rows["events"]) == len(events) and len(rows["retractions"]) == 5
    assert len(rows["lots"]) == 400 and rows["shipments"] and rows["supplier_pcfs"] and rows["consumptions"] and rows["activities"] and rows["sites"]
    seqs = [r[0] for r in rows["events"]]
    assert seqs == list(range(5, 5 + len(events)))


T = datetime(2026, 3, 1, tzinfo=UTC)
_ids = st.sampled_from(["L1", "L2", "L3"])
_activities = st.builds(
    Activity,
    st.lists(st.builds(Electricity, st.decimals(0, 10**6, places=2), st.sampled_from(["grid", "ppa"]),
                       st.none() | st.just("meter-1"), st.none() | st.just("grid:CN")), max_size=2).map(tuple),
    st.lists(st.builds(Fuel, st.just("diesel"), st.decimals(0, 10**5, places=1)), max_size=2).map(tuple),
    st.lists(st.builds(Reagent, st.just("NaOH"), st.decimals(0, 10**4, places=3), st.none() | st.just("reagent:NaOH")),
             max_size=2).map(tuple),
    st.none() | st.decimals(0, 100, places=1), st.none() | st.decimals(0, 10, places=2),
)
_lots = st.builds(Lot, _ids.map(lambda i: i + "-out"), st.just("CAM"), st.just("S1"), st.just(T),
                  st.integers(1, 10**12), st.dictionaries(st.sampled_from(["Ni", "Co", "Li"]), st.integers(0, 10**9)),
                  st.sampled_from(["virgin", "recycled"]), st.just({}), st.none(), st.none(), st.none() | _activities)


@st.composite
def _bodies(draw: st.DrawFn) -> Any:
    which = draw(st.integers(0, 2))
    if which == 0:
        outs = draw(st.lists(_lots, min_size=1, max_size=3, unique_by=lambda lot: lot.id))
        economic = draw(st.booleans())
        return Run("R-" + str(draw(st.integers(0, 9))), "S1", "calcination", T, T,
                   tuple(Consumption(i, draw(st.integers(1, 10**9))) for i in draw(st.lists(_ids, max_size=3))),
                   tuple(outs), draw(st.dictionaries(st.sampled_from(["Ni", "Li"]), st.integers(0, 10**6))),
                   draw(_activities), "economic" if economic else "mass",
                   {o.id: Decimal(draw(st.integers(0, 10**6))) for o in outs} if economic else {})
    if which == 1:
        return dataclasses.replace(draw(_lots), id=draw(_ids))
    return Shipment("SH-1", draw(_ids), draw(st.integers(1, 10**9)), "S1", "S2", T, "road",
                    draw(st.decimals(0, 10**4, places=1)), draw(st.none() | st.just("Org")))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_bodies(), min_size=1, max_size=8))
def test_rows_of_random_runs_lots_and_shipments_are_the_reference_rows(bodies: list[Any]) -> None:
    kinds = {Run: EventKind.RUN, Lot: EventKind.LOT, Shipment: EventKind.SHIPMENT}
    events = [Event(f"urn:uuid:{i}", kinds[type(b)], T, b) for i, b in enumerate(bodies)]
    _both(events, {"L1": 0, "L2": 1, "L3": 2})
