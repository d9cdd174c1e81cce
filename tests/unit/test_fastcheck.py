"""The fast ledger rules refuse and accept exactly what the reference checker does, with the same problems.

The reference is :class:`lichain.core.validate._Checker` (``check_document(..., reference=True)``); the fast one is
:class:`lichain.core.fastcheck.FastChecker`, the default. A small demo ledger is written into a memory store, and
the document that follows it is broken at random (masses scaled or negated, lots swapped for unknown, later or own
ones, sites swapped so custody fails at the wrong site, times moved before production, assays and output masses
changed so elements no longer balance, events dropped, repeated or reordered, retractions added): both checkers
must give the same problems (message and location, in order), the same accepted events and the same payloads.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lichain.core.balance import balances, element_balance
from lichain.core.custody import CustodyBook
from lichain.core.fastcheck import FastChecker, FastCustodyBook, PythonFastChecker, movement
from lichain.core.model import Consumption, Event, EventKind, LocatedEvent, Lot, Retraction, Run, Shipment
from lichain.core.ports import Movement
from lichain.core.validate import BalancePolicy, CheckResult, check_document
from lichain.demo import generate
from lichain.services.ingest import ingest_events
from lichain.services.record import assign_ids
from lichain.storage.memory import MemoryStore


@cache
def _ledger() -> tuple[MemoryStore, tuple[Event, ...], tuple[str, ...]]:
    """A memory ledger holding a 400-lot demo's first documents, the document that comes next, the stored lots."""
    chain = generate(lots=400, seed=0, batch_size=150)
    docs = [assign_ids(chain.master_events), *(assign_ids(b) for b in chain.batches())]
    store = MemoryStore()
    for k, d in enumerate(docs[:3]):
        assert ingest_events([LocatedEvent(f"d{k}/{i}", ev) for i, ev in enumerate(d)], store).ok
    stored = [b.id for d in docs[:3] for ev in d for b in [ev.body] if isinstance(b, Lot)]
    stored += [o.id for d in docs[:3] for ev in d if isinstance(ev.body, Run) for o in ev.body.outputs]
    return store, tuple(docs[3]), tuple(stored)


def _same(a: CheckResult, b: CheckResult) -> None:
    assert a.problems == b.problems
    assert [e.event_id for e in a.new_events] == [e.event_id for e in b.new_events]
    assert a.payloads == b.payloads
    assert a.skipped == b.skipped


def _state(c: Any) -> tuple[Any, ...]:
    """What a checker has recorded of a document: its lots (with their use), custody and records (not the Python
    checker's memo of over-consumption limits, which the compiled rules compute in place)."""
    lots = {k: (d.mass_mg, d.assay, d.produced_at, d.site, d.event_id, d.consumed_mg) for k, d in c.doc_lots.items()}
    book = c.custody
    return (lots, book.moves, book.total, book.last, book.mass, c.doc_records,
            c.doc_events, c.doc_kinds, {k: id(v) for k, v in c.doc_uses.items()}, c.later_lots,
            set(c.stored_lots), c.stored_sites, c.stored_materials, c.stored_runs, c.stored_ships,
            c.stored_events, c.stored_retracted, c.quality.materials)


def _both(events: list[Event]) -> tuple[CheckResult, CheckResult]:
    """The reference, the Python fast checker and the compiled-first checker on one document: same answers, and
    the two fast checkers end in the same recorded state (the compiled rules record a run as the Python ones)."""
    store, _, _ = _ledger()
    located = [LocatedEvent(f"doc/{i}", ev) for i, ev in enumerate(events)]
    ref = check_document(located, store, reference=True)
    fast = check_document(located, store)
    _same(ref, fast)
    compiled, python = FastChecker(store, BalancePolicy()), PythonFastChecker(store, BalancePolicy())
    _same(compiled.check(located), ref)
    _same(python.check(located), ref)
    assert _state(compiled) == _state(python)
    return ref, fast


def test_the_compiled_path_records_every_lot_run_and_shipment_of_the_clean_document(monkeypatch: Any) -> None:
    """The compiled path takes every lot, run and shipment event of a clean demo document: none falls back to the
    Python checker (which still takes the document's other kinds)."""
    _, doc, _ = _ledger()
    fallbacks: list[Any] = []
    check_event = FastChecker.check_event

    def counted(self: Any, le: LocatedEvent) -> None:
        if type(self) is FastChecker:
            fallbacks.append(le.event.body)
        check_event(self, le)

    monkeypatch.setattr(FastChecker, "check_event", counted)
    _, fast = _both(list(doc))
    kinds = {type(ev.body) for ev in doc}
    assert {Lot, Run, Shipment} <= kinds and fast.problems == []
    assert [b for b in fallbacks if type(b) in (Lot, Run, Shipment)] == []
    assert len(fallbacks) == 2 * sum(type(ev.body) not in (Lot, Run, Shipment) for ev in doc)  # two compiled checks


def test_the_next_demo_document_is_accepted_by_both() -> None:
    _, doc, _ = _ledger()
    ref, _ = _both(list(doc))
    assert ref.problems == [] and len(ref.new_events) == len(doc)


def _with(ev: Event, body: Any) -> Event:
    return dataclasses.replace(ev, body=body)


def _mutate_run(run: Run, how: int, k: int, other_lots: list[str], sites: list[str], elements: list[str]) -> Run:
    ins = list(run.inputs)
    i = k % len(ins) if ins else 0
    outs = list(run.outputs)
    j = k % len(outs) if outs else 0
    if how == 0 and ins:
        ins[i] = Consumption(ins[i].lot, ins[i].mass_mg * (k % 5 - 1) + k % 3)  # scaled, zero or negative
    elif how == 1 and ins:
        ins[i] = Consumption(ins[i].lot, ins[i].mass_mg * (20 + k))  # over-consumption and custody
    elif how == 2 and ins:
        ins[i] = Consumption(f"urn:unknown:{k}", ins[i].mass_mg)
    elif how == 3 and ins and other_lots:
        ins[i] = Consumption(other_lots[k % len(other_lots)], ins[i].mass_mg)
    elif how == 4 and ins and outs:
        ins[i] = Consumption(outs[j].id, ins[i].mass_mg)  # its own output
    elif how == 5 and ins:
        ins.append(ins[i])  # listed twice
    elif how == 6:
        return dataclasses.replace(run, site=sites[k % len(sites)])  # custody at another site
    elif how == 7:
        return dataclasses.replace(run, started_at=run.started_at - timedelta(days=k % 400 + 1))
    elif how == 8 and outs:
        assay = dict(outs[j].assay)
        e = elements[k % len(elements)]
        assay[e] = assay.get(e, 0) + 1_000_000 * (k % 300 + 1)  # element balance
        outs[j] = dataclasses.replace(outs[j], assay=assay)
    elif how == 9 and outs:
        outs[j] = dataclasses.replace(outs[j], mass_mg=outs[j].mass_mg * (k % 4) + (k % 7) - 3)
    elif how == 10:
        return dataclasses.replace(run, losses_mg={**run.losses_mg, elements[k % len(elements)]: k * 1_000 - 5_000})
    elif how == 11 and outs:
        outs[j] = dataclasses.replace(outs[j], id=other_lots[k % len(other_lots)] if other_lots else "")
    elif how == 12:
        return dataclasses.replace(run, ended_at=run.started_at - timedelta(seconds=k + 1))
    elif how == 13 and outs:
        outs[j] = dataclasses.replace(outs[j], produced_at=run.started_at - timedelta(hours=k + 1),
                                      material="NO-SUCH" if k % 2 else outs[j].material)
    return dataclasses.replace(run, inputs=tuple(ins), outputs=tuple(outs))


def _mutate_shipment(s: Shipment, how: int, k: int, other_lots: list[str], sites: list[str]) -> Shipment:
    if how % 6 == 0:
        return dataclasses.replace(s, mass_mg=s.mass_mg * (k % 5 - 1) + (k % 3))
    if how % 6 == 1:
        return dataclasses.replace(s, mass_mg=s.mass_mg * (10 + k))
    if how % 6 == 2:
        return dataclasses.replace(s, from_site=sites[k % len(sites)])
    if how % 6 == 3:
        return dataclasses.replace(s, lot=other_lots[k % len(other_lots)] if k % 3 else f"urn:unknown:{k}")
    if how % 6 == 4:
        return dataclasses.replace(s, shipped_at=s.shipped_at - timedelta(days=k % 200 + 1))
    return dataclasses.replace(s, to_site=sites[k % len(sites)] if k % 2 else "NO-SITE")


@st.composite
def broken_documents(draw: st.DrawFn) -> list[Event]:
    _, doc, stored = _ledger()
    events = list(doc)
    lots = [*stored, *(o.id for ev in doc if isinstance(ev.body, Run) for o in ev.body.outputs)]
    sites = [*sorted({ev.body.site for ev in doc if isinstance(ev.body, Run)}), "NO-SITE"]
    elements = ["Ni", "Co", "Mn", "Li", "Fe"]
    for _ in range(draw(st.integers(1, 6), label="mutations")):
        i = draw(st.integers(0, len(events) - 1), label="event")
        how, k = draw(st.integers(0, 19), label="how"), draw(st.integers(0, 10_000), label="k")
        ev = events[i]
        b = ev.body
        if how == 14:
            del events[i]
        elif how == 15:
            events.insert(draw(st.integers(0, len(events)), label="at"), ev)  # repeated
        elif how == 16:
            j = draw(st.integers(0, len(events) - 1), label="swap")
            events[i], events[j] = events[j], events[i]
        elif how == 17:
            target = events[k % len(events)].event_id if k % 2 else f"urn:uuid:stored-{k}"
            events.insert(i, Event(f"urn:uuid:retract-{k}-{i}", EventKind.RETRACTION, ev.time,
                                   Retraction(target, ev.time, "test")))
        elif isinstance(b, Run):
            events[i] = _with(ev, _mutate_run(b, how, k, lots, sites, elements))
        elif isinstance(b, Shipment):
            events[i] = _with(ev, _mutate_shipment(b, how, k, lots, sites))
        elif isinstance(b, Lot):
            events[i] = _with(ev, dataclasses.replace(b, mass_mg=b.mass_mg * (k % 3 - 1), assay={"Ni": k * 10**6}))
    return events


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(broken_documents())
def test_a_broken_document_gets_the_same_problems_from_both_checkers(events: list[Event]) -> None:
    _both(events)


def test_each_kind_of_break_is_refused_by_both_at_the_same_place() -> None:
    """Every mutation kind at least once on a run and a shipment: refusals exist and agree."""
    _, doc, stored = _ledger()
    run_at = next(i for i, ev in enumerate(doc) if isinstance(ev.body, Run) and len(ev.body.inputs) > 1)
    ship_at = next(i for i, ev in enumerate(doc) if isinstance(ev.body, Shipment))
    lots = [o.id for ev in doc[run_at + 1:] if isinstance(ev.body, Run) for o in ev.body.outputs] + list(stored)
    sites = ["NO-SITE", *sorted({ev.body.site for ev in doc if isinstance(ev.body, Run)})]
    refused = 0
    for how in range(14):
        events = list(doc)
        run = doc[run_at].body
        assert isinstance(run, Run)
        events[run_at] = _with(doc[run_at], _mutate_run(run, how, 1, lots, sites, ["Ni", "Co", "Li"]))
        ref, _ = _both(events)
        refused += bool(ref.problems)
    for how in range(6):
        events = list(doc)
        s = doc[ship_at].body
        assert isinstance(s, Shipment)
        events[ship_at] = _with(doc[ship_at], _mutate_shipment(s, how, 1, lots, sites))
        ref, _ = _both(events)
        refused += bool(ref.problems)
    assert refused >= 16  # nearly every break is a refusal (a few, such as a smaller mass, are legitimate)


@settings(max_examples=600, deadline=None)
@given(i=st.one_of(st.integers(0, 10**12), st.integers(-(10**30), 10**30), st.integers(10**28, 10**40), st.just(0)),
       d=st.one_of(st.integers(-(10**12), 10**12), st.integers(-(10**30), 10**30)),
       loss=st.one_of(st.just(0), st.integers(-(10**20), 10**20)), n=st.integers(0, 5),
       tol=st.sampled_from(["0.005", "0.001", "0", "0.3333333333333333333333333333", "1E-30", "-0.01"]))
def test_the_fast_balance_test_clears_only_balancing_elements(i: int, d: int, loss: int, n: int, tol: str) -> None:
    """clearly_inside (FastChecker's inlined test) is True only where ElementBalance says the element balances,
    and agrees with balances() away from the margin; differences ``d`` are drawn around the tolerance itself."""
    from decimal import Decimal

    from lichain.core.balance import _ratio
    from lichain.core.fastcheck import clearly_inside
    from lichain.core.quantities import FRACTION_SCALE

    t = Decimal(tol)
    p, q = _ratio(t)
    edge = (p * i) // q + (1 + n) * FRACTION_SCALE if q else 0
    for o in (i - loss - d, i - loss - edge + d % 3 - 1, i - loss + edge + d % 3 - 1):
        ok = element_balance("Ni", i, o, loss, t, n).ok
        assert balances(i, o, loss, t, n) == ok
        if clearly_inside(i, o, loss, p, q, (1 + n) * FRACTION_SCALE * q):
            assert ok


def test_a_fast_movement_equals_the_dataclass_and_the_fast_book_takes_as_the_reference() -> None:
    from datetime import UTC, datetime

    t = datetime(2026, 1, 1, tzinfo=UTC)
    m = movement("L1", "S1", t, 5, "e1")
    assert m == Movement("L1", "S1", t, 5, "e1") and hash(m) == hash(Movement("L1", "S1", t, 5, "e1"))
    books = [cls({"L1": [Movement("L1", "S1", t, 1_000, "e0")]}, __import__("decimal").Decimal("0.001"),
                 {"L1": 1_000}) for cls in (CustodyBook, FastCustodyBook)]
    for at, site, mg in [(t, "S1", 400), (t + timedelta(1), "S1", 500), (t + timedelta(2), "S1", 200),
                         (t - timedelta(1), "S1", 1), (t + timedelta(3), "S2", 1)]:
        answers = {b.take("L1", site, at, mg, "e9") for b in books}
        assert len(answers) == 1
    assert books[0].moves == books[1].moves and books[0].total == books[1].total


def test_boundaries_of_over_consumption_and_of_shipping_time_agree() -> None:
    """A stored lot consumed to its limit, one mg under and one mg over; a lot shipped at, before and after the
    instant it is produced: both checkers give the same answer, and the limits fall where the reference puts them."""
    from decimal import Decimal

    store, doc, _ = _ledger()
    over = 0
    for at, ev in enumerate(doc):
        run = ev.body
        if not isinstance(run, Run):
            continue
        for k, c in enumerate(run.inputs):
            st_ = store.lots([c.lot]).get(c.lot)
            if st_ is None or any(isinstance(e.body, Run) and c.lot in {x.lot for x in e.body.inputs}
                                  for e in doc[:at]):
                continue
            limit = st_.mass_mg + int(Decimal(st_.mass_mg) * Decimal("0.001"))
            for delta in (-1, 0, 1):
                ins = list(run.inputs)
                ins[k] = Consumption(c.lot, limit - st_.consumed_mg + delta)
                events = list(doc)
                events[at] = _with(ev, dataclasses.replace(run, inputs=tuple(ins)))
                ref, _ = _both(events)
                hit = any("over-consumption" in p.message and p.location == f"doc/{at}/inputs/{k}"
                          for p in ref.problems)
                assert hit == (delta > 0)
                over += hit
    assert over >= 3
    shipped = 0
    for at, ev in enumerate(doc):
        s = ev.body
        made = next((o.produced_at for e in doc[:at] if isinstance(e.body, Run) for o in e.body.outputs
                     if isinstance(s, Shipment) and o.id == s.lot), None)
        if made is None or not isinstance(s, Shipment):
            continue
        for step in (-1, 0, 1):
            events = list(doc)
            events[at] = _with(ev, dataclasses.replace(s, shipped_at=made + timedelta(microseconds=step)))
            ref, _ = _both(events)
            early = any("shipped before it is produced" in p.message for p in ref.problems)
            assert early == (step < 0)
        shipped += 1
    assert shipped >= 3


_OPS = st.lists(st.tuples(st.sampled_from(["take", "add", "retract"]), st.sampled_from(["L1", "L2"]),
                          st.sampled_from(["S1", "S2"]), st.integers(-3, 6), st.integers(-5, 1_500),
                          st.sampled_from(["e1", "e2", "e3"])), max_size=25)


@settings(max_examples=300, deadline=None)
@given(_OPS)
def test_the_fast_custody_book_answers_and_records_as_the_reference(ops: list[tuple[str, str, str, int, int, str]]
                                                                    ) -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    t = datetime(2026, 1, 1, tzinfo=UTC)
    stored = {"L1": [Movement("L1", "S1", t, 1_000, "e0")], "L2": [Movement("L2", "S2", t, 500, "e0")]}
    books = [cls(stored, Decimal("0.001"), {"L1": 1_000, "L2": 500}) for cls in (CustodyBook, FastCustodyBook)]
    for op, lot, site, day, mg, ref in ops:
        at = t + timedelta(days=day)
        if op == "take":
            answers = [b.take(lot, site, at, mg, ref) for b in books]
        elif op == "add":
            answers = [b.add(Movement(lot, site, at, mg, ref)) for b in books]  # type: ignore[func-returns-value]
        else:
            answers = [b.retract(ref, "shipment") for b in books]
        assert answers[0] == answers[1]
        assert books[0].moves == books[1].moves and books[0].total == books[1].total
        assert books[0].last == books[1].last


_STORED = st.dictionaries(
    st.sampled_from(["L1", "L2", "L3"]),
    st.lists(st.tuples(st.sampled_from(["S1", "S2"]), st.integers(-3, 3),
                       st.one_of(st.integers(-10**6, 10**6), st.sampled_from([2**62, 2**63 - 1, -2**63, 2**64])),
                       st.sampled_from(["e1", "e2"])), max_size=6),
    max_size=3)


@settings(max_examples=300, deadline=None)
@given(_STORED, st.booleans())
def test_stored_movements_load_into_the_fast_book_as_into_the_reference(
        stored: dict[str, list[tuple[str, int, int, str]]], as_tuples: bool) -> None:
    """The compiled load of stored movements (totals and latest instants per lot and site) gives the reference
    book's state, also where it declines: totals past 64 bits, movements given as tuples instead of lists."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from lichain.core import fastcheck

    t = datetime(2026, 1, 1, tzinfo=UTC)
    moves = {lot: [Movement(lot, site, t + timedelta(hours=h), mg, ref) for site, h, mg, ref in v]
             for lot, v in stored.items()}
    given_moves = {k: tuple(v) for k, v in moves.items()} if as_tuples else moves
    ref = CustodyBook(moves, Decimal("0.001"))
    fast = FastCustodyBook(given_moves, Decimal("0.001"))
    assert fast.moves == ref.moves and fast.total == ref.total and fast.last == ref.last
    assert all(fast.moves[k] is not v for k, v in moves.items() if v)  # the book's own lists
    assert all(type(v) is int for v in fast.total.values())
    if fastcheck._book_load is not None:  # the compiled load declines exactly what 64 bits cannot hold
        totals: dict[tuple[str, str], int] = {}
        fits = True
        for lot, v in moves.items():
            for m in v:
                totals[lot, m.site] = totals.get((lot, m.site), 0) + m.mass_mg
                fits = fits and -2**63 <= m.mass_mg < 2**63 and -2**63 <= totals[lot, m.site] < 2**63
        assert fastcheck._book_load(moves, {}, {}, {}) is fits


def test_a_narrow_decimal_context_gives_the_references_payloads_and_problems() -> None:
    """Under a caller's 5-digit decimal context the reference rounds quantities and tolerance products; the fast
    checker and its compiled path must then give what the reference gives (they step aside), and the payloads of
    a clean document must be the reference's."""
    import decimal

    from lichain.core.codec import canonical_payload
    from lichain.core.fastcodec import fast_payload

    _, doc, _ = _ledger()
    with decimal.localcontext(prec=5):
        ref, fast = _both(list(doc))
        assert [fast_payload(ev.body) for ev in doc] == [canonical_payload(ev.body) for ev in doc]
    assert fast.payloads == ref.payloads


def test_texts_that_are_not_plain_in_the_payload_get_the_references_answers() -> None:
    """The compiled path takes a payload as plain (no escape, no DEL, ASCII, no text longer than the limit) from its
    bytes when it is at most the free-text limit long, from its text otherwise; a backslash, a quote, a DEL, a
    non-ASCII letter or a control character anywhere, and texts around the limit, get the reference's answers."""
    from lichain.core.limits import MAX_TEXT_CHARS

    _, doc, _ = _ledger()
    at = next(i for i, ev in enumerate(doc) if isinstance(ev.body, Shipment))
    s = doc[at].body
    assert isinstance(s, Shipment)
    modes = ["road\\", 'ro"ad', "road\x7f", "roäd", "ro\x01ad", "r" * (MAX_TEXT_CHARS - 1), "r" * MAX_TEXT_CHARS,
             "r" * (MAX_TEXT_CHARS + 1)]
    refused = 0
    for mode in modes:
        events = list(doc)
        events[at] = _with(doc[at], dataclasses.replace(s, mode=mode, to_organisation="ö" * (len(mode) % 3)))
        ref, _ = _both(events)
        refused += bool(ref.problems)
    assert 0 < refused < len(modes)  # some texts are refused (too long, DEL, a control character), others kept
