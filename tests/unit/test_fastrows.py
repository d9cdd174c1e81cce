"""Positional rows written directly are the reference rows: every table, every row, in the same order.

The reference is :func:`lichain.storage.rows.event_rows` (dicts, turned into tuples by ``as_tuples``), which is also
what ``verify --deep`` rebuilds the projections with; :func:`lichain.storage.fastrows.event_tuples` is what the
SQL store writes. Both run on the events of a demo ledger (every kind the demo makes, retractions included) and on
runs, lots and shipments drawn at random (economic allocation, activities on lots and runs, zero assays and losses),
mixed with hostile bodies and events of every other kind. Each comparison runs with the compiled builder
(``lichain/storage/_hotrows.c``, its own digests and hashlib's) and with the Python builder alone; values are
compared with their types (1 is not True, "1" is not 1).
"""

from __future__ import annotations

import dataclasses
import decimal
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
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
    Site,
)
from lichain.demo import generate
from lichain.services.record import assign_ids
from lichain.storage import fastrows
from lichain.storage.fastrows import COLUMNS, TABLES, event_tuples
from lichain.storage.rows import as_tuples, event_rows
from lichain.storage.sql import to_us
from tests.support.any_body import any_event, body_of

#: compiled: the compiled builder with its digests (OpenSSL's libcrypto called directly);
#: compiled-hashlib: the compiled builder with hashlib's digests; python: the Python builder alone
BUILDERS = ("compiled", "compiled-hashlib", "python")
builders = pytest.mark.parametrize("builder", BUILDERS)
_HR: Any = fastrows._hotrows  # the compiled module (None when it is not installed)


@contextmanager
def _builder(name: str) -> Iterator[None]:
    """event_tuples with the named builder inside the block."""
    if name != "python" and not fastrows.COMPILED:
        pytest.skip("the compiled builder is not installed")
    saved = fastrows.use_compiled
    fastrows.use_compiled = name != "python"
    if name == "compiled-hashlib":
        _HR.setup(*fastrows._SETUP, native=False)
    try:
        yield
    finally:
        fastrows.use_compiled = saved
        if name == "compiled-hashlib":
            _HR.setup(*fastrows._SETUP)


def _typed(rows: list[tuple[Any, ...]]) -> list[tuple[tuple[type, Any], ...]]:
    """Rows with each value's type beside it (tuples compare 1 == True == 1.0)."""
    return [tuple((type(v), v) for v in r) for r in rows]


def _outcome(f: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", f(*args)
    except Exception as exc:  # the same refusal of a malformed event counts as the same answer
        return "raises", type(exc)


def _both(events: list[Event], lot_idx: dict[str, int] | None = None,
          payloads: list[str] | None = None) -> dict[str, list[tuple[Any, ...]]] | None:
    """The rows of both builders compared (None when both refuse the events with the same exception)."""
    if payloads is None:
        payloads = [canonical_payload(ev.body) for ev in events]
    args: list[Any] = [4, GENESIS, {"lot": 7, "run": 3, "shipment": 11}]
    li_ref, li_fast = dict(lot_idx or {}), dict(lot_idx or {})
    ts_ref: dict[str, int] = {}
    ts_fast: dict[str, int] = {}
    ref = _outcome(event_rows, events, payloads, *args, li_ref, ts_ref, "2027-01-01T00:00:00Z", "doc.json",
                   chain_hash, to_us, "r0")
    fast = _outcome(event_tuples, events, payloads, *args, li_fast, ts_fast, "2027-01-01T00:00:00Z", "doc.json",
                    chain_hash, to_us, "r0")
    if ref[0] == "raises":
        assert fast == ref
        return None
    assert fast[0] == "ok", fast
    assert set(ref[1]) == set(TABLES) == set(fast[1])
    for t in TABLES:
        assert _typed(fast[1][t]) == _typed(as_tuples(COLUMNS[t], ref[1][t])), t
    assert li_ref == li_fast and ts_ref == ts_fast
    assert {k: type(v) for k, v in li_ref.items()} == {k: type(v) for k, v in li_fast.items()}
    return fast[1]


@cache
def _demo() -> tuple[Event, ...]:
    chain = generate(lots=400, seed=0)
    return tuple(ev for d in [assign_ids(chain.master_events), *(assign_ids(b) for b in chain.batches())] for ev in d)


@builders
def test_rows_of_a_demo_ledger_with_retractions_are_the_reference_rows(builder: str) -> None:
    events = list(_demo())
    retract = [ev for ev in events if ev.kind in (EventKind.RUN, EventKind.SHIPMENT)][:5]
    events += [Event(f"urn:uuid:r{i}", EventKind.RETRACTION, ev.time, Retraction(ev.event_id, ev.time, "test"))
               for i, ev in enumerate(retract)]
    with _builder(builder):
        rows = _both(events)
    assert rows is not None
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


@builders
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies=st.lists(_bodies(), min_size=1, max_size=8))
def test_rows_of_random_runs_lots_and_shipments_are_the_reference_rows(builder: str, bodies: list[Any]) -> None:
    kinds = {Run: EventKind.RUN, Lot: EventKind.LOT, Shipment: EventKind.SHIPMENT}
    events = [Event(f"urn:uuid:{i}", kinds[type(b)], T, b) for i, b in enumerate(bodies)]
    with _builder(builder):
        assert _both(events, {"L1": 0, "L2": 1, "L3": 2}) is not None


def _known_lots(b: Any, draw: st.DrawFn) -> Any:
    """A hostile run or shipment that names lots of the index (else nearly every one is refused for that alone)."""
    if type(b) is Shipment and draw(st.integers(0, 3)):
        return dataclasses.replace(b, lot=draw(_ids))
    if type(b) is Run and draw(st.integers(0, 3)):
        inputs = tuple(Consumption(draw(_ids), c.mass_mg) if type(c) is Consumption else c for c in b.inputs)
        return dataclasses.replace(b, inputs=inputs)
    return b


@st.composite
def _documents(draw: st.DrawFn) -> list[Event]:
    """Plain lots, runs and shipments, hostile ones (any value of their fields' types, subclasses of nothing) and
    events of every other kind, in one document."""
    kinds = {Run: EventKind.RUN, Lot: EventKind.LOT, Shipment: EventKind.SHIPMENT}
    events = []
    for i in range(draw(st.integers(1, 8))):
        which = draw(st.integers(0, 5))
        if which <= 2:  # plain
            b = draw(_bodies())
            events.append(Event(f"urn:uuid:{i}", kinds[type(b)], T, b))
        elif which <= 4:  # hostile lot, run or shipment
            ev = draw(any_event(st.one_of(body_of(Lot), body_of(Run), body_of(Shipment))))
            events.append(dataclasses.replace(ev, body=_known_lots(ev.body, draw)))
        else:  # any kind
            events.append(draw(any_event()))
    return events


def _payloads(events: list[Event]) -> list[str] | None:
    out = []
    for ev in events:
        p = _outcome(canonical_payload, ev.body)
        if p[0] != "ok":
            return None
        out.append(p[1])
    return out


@builders
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=_documents())
def test_rows_of_documents_mixing_plain_hostile_and_other_events_are_the_reference_rows(
        builder: str, events: list[Event]) -> None:
    """The compiled builder writes stretches of plain lots, runs and shipments and declines anything else; the
    Python builder writes what it declines. Both give the reference rows, or the reference's refusal."""
    payloads = _payloads(events)
    if payloads is None:  # the payload writer refuses a body: the document never reaches the rows
        events = [ev for ev in events if _outcome(canonical_payload, ev.body)[0] == "ok"]
        payloads = [canonical_payload(ev.body) for ev in events]
    with _builder(builder):
        _both(events, {"L1": 0, "L2": 1, "L3": 2}, payloads)


class _Spy:
    """The compiled builder, recording where each call started and stopped."""

    def __init__(self, real: Any) -> None:
        self.real, self.calls = real, []

    def rows(self, events: Any, payloads: Any, start: int, *args: Any) -> Any:
        out = self.real.rows(events, payloads, start, *args)
        self.calls.append((start, out[0]))
        return out


class _Text(str):
    """A text of a subclass of str: the Python builder takes it, the compiled one declines it."""


@builders
def test_the_builders_switch_at_declined_events_and_other_kinds(builder: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A document of plain lots, runs and shipments, a site, a retraction and events the compiled builder declines
    half way (a run whose lots are written before a loss of True; a lot id of a subclass of str): the compiled
    builder writes each plain stretch, nothing of a declined event stays, the Python builder writes the rest."""
    lot = Lot("L9", "CAM", "S1", T, 10_000_000, {"Ni": 5, "Co": 0})
    run = Run("R-1", "S1", "calcination", T, T, (Consumption("L1", 7),), (dataclasses.replace(lot, id="L8"),),
              {"Ni": 3}, Activity((Electricity(Decimal("1.50")),)))
    odd_run = dataclasses.replace(run, id="R-2", outputs=(dataclasses.replace(lot, id="L7"),),
                                  losses_mg={"Ni": True})
    odd_lot = dataclasses.replace(lot, id=_Text("L6"))
    ship = Shipment("SH-1", "L9", 5, "S1", "S2", T, "road", Decimal("-0.0"))
    site = Site("S1", "Plant", "refinery", "CN", "Org")
    bodies = [lot, run, ship, odd_run, ship, site, lot, odd_lot, run, ship]
    kinds = {Run: EventKind.RUN, Lot: EventKind.LOT, Shipment: EventKind.SHIPMENT, Site: EventKind.SITE}
    events = [Event(f"urn:uuid:{i}", kinds[type(b)], T, b) for i, b in enumerate(bodies)]
    events.append(Event("urn:uuid:r", EventKind.RETRACTION, T, Retraction("urn:uuid:3", T)))
    spy = _Spy(fastrows._hotrows)
    monkeypatch.setattr(fastrows, "_hotrows", spy)
    with _builder(builder):
        rows = _both(events, {"L1": 0})
    assert rows is not None and rows["run_losses"][-2:] == [(4, "Ni", True), (5, "Ni", 3)]
    assert spy.calls == ([] if builder == "python" else [(0, 3), (4, 5), (6, 7), (8, 10)])


@builders
def test_lists_where_the_model_has_tuples_are_left_to_python(builder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run whose inputs, outputs or activity items come as lists: the compiled builder declines it (after the
    plain lot before it), the Python builder writes it."""
    lot = Lot("L9", "CAM", "S1", T, 10_000_000, {"Ni": 5})
    run = Run("R-1", "S1", "calcination", T, T, [Consumption("L1", 7)], [dataclasses.replace(lot, id="L8")],
              {}, Activity([Electricity(Decimal("2"))], [Fuel("diesel", Decimal("3"))]))
    events = [Event("urn:uuid:0", EventKind.LOT, T, lot), Event("urn:uuid:1", EventKind.RUN, T, run),
              Event("urn:uuid:2", EventKind.RUN, T, dataclasses.replace(run, id="R-2", inputs=(), outputs=()))]
    spy = _Spy(fastrows._hotrows)
    monkeypatch.setattr(fastrows, "_hotrows", spy)
    with _builder(builder):
        rows = _both(events, {"L1": 0})
    assert rows is not None and len(rows["activities"]) == 4
    assert spy.calls == ([] if builder == "python" else [(0, 1), (2, 2)])


@builders
def test_a_decimal_context_that_rounds_leaves_the_rows_to_python(builder: str) -> None:
    """With fewer digits than a quantity has, normalize() rounds: the compiled builder is not used."""
    el = Electricity(Decimal("1234567.891"))
    run = Run("R-1", "S1", "calcination", T, T, (), (), {}, Activity((el,)))
    with _builder(builder), decimal.localcontext(prec=5):
        rows = _both([Event("urn:uuid:1", EventKind.RUN, T, run)])
    assert rows is not None and rows["activities"][0][4] == "1234600"


def test_the_compiled_builder_is_installed_and_writes_every_lot_run_and_shipment_of_a_demo_chain() -> None:
    """The package builds its compiled builder (setup.py); it declines none of a demo chain's lots, runs and
    shipments, so bulk ingest never falls back to Python for them, and writes the reference rows."""
    from lichain.storage import _hotrows

    assert fastrows.COMPILED
    chain = generate(lots=400, seed=3)
    events = [e for b in chain.batches() for e in assign_ids(b) if type(e.body) in (Lot, Run, Shipment)]
    assert {type(e.body) for e in events} == {Lot, Run, Shipment}
    payloads = [canonical_payload(e.body) for e in events]
    out: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
    lot_idx: dict[str, int] = {}
    target_seq: dict[str, int] = {}
    stop, seq, head, record, lots, runs, ships = _hotrows.rows(
        events, payloads, 0, 0, GENESIS, "", 0, 0, 0, lot_idx, target_seq, "2027-01-01T00:00:00Z", "doc.json",
        tuple(out[t] for t in fastrows._COMPILED_TABLES))
    assert stop == seq == len(events)
    ref = event_rows(events, payloads, 0, GENESIS, {"lot": 0, "run": 0, "shipment": 0}, {}, {},
                     "2027-01-01T00:00:00Z", "doc.json", chain_hash, to_us, "")
    for t in TABLES:
        assert _typed(out[t]) == _typed(as_tuples(COLUMNS[t], ref[t])), t
    assert (head, record) == (ref["events"][-1]["chain_hash"], ref["events"][-1]["record_hash"])
    assert (lots, runs, ships) == (len(ref["lots"]), len(ref["runs"]), len(ref["shipments"]))


@pytest.mark.parametrize("native", [True, False], ids=["own-digest", "hashlib"])
@settings(max_examples=300, deadline=None)
@given(data=st.one_of(st.binary(max_size=300), st.integers(0, 4200).map(os.urandom)))
@example(data=b"")
@example(data=b"x" * 55)
@example(data=b"x" * 56)
@example(data=b"x" * 64)
def test_the_compiled_digest_is_hashlibs(native: bool, data: bytes) -> None:
    """SHA-256 as the compiled builder computes it, by libcrypto directly or by hashlib."""
    if not fastrows.COMPILED:
        pytest.skip("the compiled builder is not installed")
    if not native:
        _HR.setup(*fastrows._SETUP, native=False)
    try:
        assert _HR.sha256_hex(data) == hashlib.sha256(data).hexdigest()
    finally:
        _HR.setup(*fastrows._SETUP)
