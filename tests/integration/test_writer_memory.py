"""The writer's memory (ids on record as digests, lots written lately) answers exactly as the ledger does.

A writer with the memory and a second writer without it (another process's view of the same ledger) share one
ledger; after every document, the first writer's look-ups inside its unit of work are compared with the same
look-ups read from the database. Documents come from random valid chains split at random points, written by
either writer, then a retraction, a rolled-back append and a rewritten chain head.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from lichain.core.model import Lot, Retraction, Run, Shipment
from lichain.core.ports import use_of
from lichain.core.validate import LocatedEvent
from lichain.services.ingest import ingest_events
from lichain.storage.sql import SqlStore
from lichain.storage.writer_memory import Digests, WriterMemory, _hotrows
from tests.support.chain_text import event
from tests.support.strategies import valid_chain

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@contextmanager
def _second_writer(store: SqlStore) -> Iterator[SqlStore]:
    other = SqlStore(store.url)
    other._memory = WriterMemory(mode="off")
    try:
        yield other
    finally:
        other.close()


def _names(doc: Sequence[LocatedEvent]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {"event": set(), "lot": set(), "run": set(), "shipment": set()}
    for le in doc:
        out["event"].add(le.event.event_id)
        b = le.event.body
        if isinstance(b, Lot):
            out["lot"].add(b.id)
        elif isinstance(b, Run):
            out["run"].add(b.id)
            out["lot"].update(o.id for o in b.outputs)
        elif isinstance(b, Shipment):
            out["shipment"].add(b.id)
    return out


def _answers(w: SqlStore, names: dict[str, set[str]]) -> dict[str, Any]:
    lots = sorted(names["lot"])
    return {
        "lots": w.lots(lots),
        "movements": {k: sorted(map(repr, v)) for k, v in w.movements(lots).items()},  # order is not a fact
        "events": w.event_payloads(names["event"]),
        "runs": w.record_ids("run", names["run"]),
        "shipments": w.record_ids("shipment", names["shipment"]),
        "retracted": w.retracted(names["event"]),
    }


def _compare(store: SqlStore, names: dict[str, set[str]]) -> bool:
    """The memory's answers against the database's, in one unit of work, and against a reader's (lots and their
    movements read apart, not in the writer's one read); whether the memory answered."""
    with store.writing() as w:
        remembered = _answers(w, names)
        used = w._memory.current
        if used:  # kept lots read in compiled code as in Python (state, movements in order, ids not kept)
            lots = sorted(names["lot"])
            assert _hotrows is None or _hotrows.kept_states(w._memory.lots, lots) is not None
            assert w._memory.states(lots) == w._memory.python_states(lots)
        w._memory = WriterMemory(mode="off")  # this view only: the same look-ups read from the database
        read = _answers(w, names)
        w.discard()
    assert remembered == read
    assert _answers(store, names) == read
    with store.writing() as w:  # use so far follows from the live movements (what the kept lots rely on)
        w._memory = WriterMemory(mode="off")
        moves = w.movements(names["lot"])
        for lot_id, state in w.lots(names["lot"]).items():
            if lot_id in moves:  # a lot whose creation is retracted has no live movements
                assert use_of(state.mass_mg, [m.mass_mg for m in moves[lot_id]]) == (state.consumed_mg, state.shipped_mg)
        w.discard()
    return used


@SETTINGS
@given(data=st.data())
def test_the_memory_answers_as_the_ledger_does(store: SqlStore, data: st.DataObject) -> None:
    # a small capacity drops the oldest lots: they are read from the database again
    store._memory = WriterMemory(mode="always", lot_capacity=data.draw(st.sampled_from([2, 100_000])))
    prefix = f"m{uuid.uuid4().hex[:8]}-"
    chain = data.draw(valid_chain(prefix))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(chain) - 1), max_size=4)))
    docs = [chain[a:b] for a, b in zip([0, *cuts], [*cuts, len(chain)], strict=True)]
    names = _names(chain)
    names["event"] |= {f"urn:uuid:{uuid.uuid4()}" for _ in range(3)}  # never on record
    names["lot"].add(f"{prefix}unknown")
    used = []
    with _second_writer(store) as other:
        for doc in docs:
            writer = other if data.draw(st.booleans()) else store
            assert ingest_events(doc, writer).ok
            used.append(_compare(store, names))
        runs = [le.event for le in chain if isinstance(le.event.body, Run)]
        if runs:  # a retraction (accepted or refused, by either writer) changes what is live
            target = runs[-1]
            fix = [LocatedEvent("fix:0", event(Retraction(target.event_id, target.time, "test"), target.time))]
            ingest_events(fix, other if data.draw(st.booleans()) else store)
            used.append(_compare(store, names))
    assert all(used)  # the memory answered every time (built on the first look-up, then kept up to date)


def test_a_rolled_back_append_is_forgotten(store: SqlStore) -> None:
    store._memory = WriterMemory(mode="always")
    chain = [LocatedEvent(f"doc:{i}", e) for i, e in enumerate(_chain("rb-"))]
    half = 4
    assert ingest_events(chain[:half], store).ok
    names = _names(chain)
    with store.writing() as w:  # appended, then rolled back: the memory saw rows that never landed
        w.lots(names["lot"])
        assert ingest_events(chain[half:], w).ok
        w.discard()
    assert store._memory.position is not None and store._memory.position[0] > store.head()[0]
    assert not _recalled(store)  # forgotten
    assert _compare(store, names)  # rebuilt from the database, and answering as it does
    with _second_writer(store) as other:  # another writer lands the same events: the memory catches up
        assert ingest_events(chain[half:], other).ok
    assert _recalled(store)
    assert _compare(store, names)


def _recalled(store: SqlStore) -> bool:
    """Whether the memory describes the ledger at the start of a unit of work (without building it)."""
    with store.writing() as w:
        assert w._conn is not None
        ok = w._memory.use(w._conn, w._unit, 0)
        w.discard()
    return ok


def test_a_rewritten_chain_head_is_forgotten(store: SqlStore) -> None:
    store._memory = WriterMemory(mode="always")
    chain = [LocatedEvent(f"doc:{i}", e) for i, e in enumerate(_chain("rw-"))]
    assert ingest_events(chain, store).ok
    names = _names(chain)
    assert _compare(store, names) and _recalled(store)
    with store.transaction() as conn:  # an edited last event: the head the memory describes is gone
        conn.execute(text("UPDATE events SET chain_hash = CASE WHEN substr(chain_hash, 1, 1) = '0' THEN '1' ELSE '0' END "
                          "|| substr(chain_hash, 2) WHERE seq = (SELECT MAX(seq) FROM events)"))
    assert not _recalled(store)
    assert _compare(store, names)


def _chain(prefix: str) -> list[Any]:
    from tests.support.chain_text import parse_chain

    return [le.event for le in parse_chain(CHAIN.replace("P-", prefix))]


CHAIN = """\
site P-A refinery CN
site P-B cathode_plant KR
material ORE ore
lot P-L ORE @P-A 2026-01-01 20t Ni=0.02
ship P-S1 P-L 10t P-A->P-B 2026-01-02 road 500km
run P-R mixing @P-B 2026-01-05..2026-01-05 in P-L:8t out P-LB:ORE:8t:Ni=0.02
"""


def test_digests_never_miss_an_id() -> None:
    keys = [f"id-{i}" for i in range(5_000)]
    d = Digests(keys[:2_500])
    d.add(keys[2_500:4_000])
    d.add(keys[:10])  # again: changes no answer
    assert set(d.maybe(keys)) >= set(keys[:4_000])
    assert len(d.maybe(keys[4_000:])) <= 1  # 64-bit digests: a clash among 1,000 is about 1e-13 likely
    assert Digests().maybe(keys) == []


def test_digests_grow_their_bit_table_and_keep_answering_in_order() -> None:
    held = [f"held-{i}" for i in range(60_000)]
    absent = [f"absent-{i}" for i in range(60_000)]
    d = Digests(held[:1_000])
    sizes = set()
    for a in range(1_000, 60_000, 7_000):  # each add may outgrow the table: it is built again, twice as large
        d.add(held[a:a + 7_000])
        sizes.add(d.bits.size)
        assert d.bits.size * 8 >= 8 * len(d)  # at least 8 bits per id
    assert len(sizes) >= 2
    mixed = [k for pair in zip(held, absent, strict=True) for k in pair]
    assert [k for k in d.maybe(mixed) if k.startswith("held")] == held  # every held id, in the order asked
    s = d._slots(np.fromiter(map(hash, absent), dtype=np.int64))
    passed = ((d.bits[s >> np.uint64(3)] >> (s & np.uint64(7)).astype(np.uint8)) & 1).mean()
    assert passed < 0.15  # 8 to 16 bits per id: 1 - e^(-1/8) = 11.8 % of absent ids pass at most, on average


@pytest.mark.parametrize("mode", ["off", "auto"])
def test_a_one_off_document_against_a_larger_ledger_builds_no_memory(store: SqlStore, mode: str) -> None:
    """Building reads every id once; a single small document against a larger ledger looks its ids up instead."""
    store._memory = WriterMemory(mode="off")
    k = 0
    while store.head()[0] < 64:
        assert ingest_events([LocatedEvent(f"doc:{i}", e) for i, e in enumerate(_chain(f"big{k}-"))], store).ok
        k += 1
    store._memory = WriterMemory(mode=mode)
    one = [LocatedEvent("doc:0", _chain("one-")[0])]
    assert ingest_events(one, store).ok
    assert store._memory.position is None


def test_the_lots_a_check_settled_are_kept_and_answer_as_the_ledger_does(store: SqlStore) -> None:
    """The memory keeps the lots of the check that accepted a document (their facts and full live movements), not
    rows read back; a later document's look-ups of them need no read and equal the database's."""
    store._memory = WriterMemory(mode="always")
    chain = [LocatedEvent(f"doc:{i}", e) for i, e in enumerate(_chain("st-"))]
    assert ingest_events(chain[:4], store).ok  # sites, material, lot, shipment
    assert set(store._memory.lots) == {"st-L"}
    assert ingest_events(chain[4:], store).ok  # the run consumes 8 t of st-L at st-B
    assert set(store._memory.lots) == {"st-L", "st-LB"}
    kept = store._memory.lots["st-L"]
    assert sorted(kept[6 + 2 * kept[5] + 2::4]) == [-10_000_000_000, -8_000_000_000, 10_000_000_000, 20_000_000_000]
    with store.writing() as w:
        state = w.lots(["st-L"])["st-L"]
        w.discard()
    assert (state.consumed_mg, state.shipped_mg) == (8_000_000_000, 10_000_000_000)  # 8 t used, 10 t shipped
    assert _compare(store, _names(chain))


def test_an_append_without_a_check_drops_the_kept_lots(store: SqlStore) -> None:
    """Rows appended without the state of a check (any caller of ``append``) may use kept lots: they are dropped."""
    from lichain.core.validate import check_document

    store._memory = WriterMemory(mode="always")
    chain = [LocatedEvent(f"doc:{i}", e) for i, e in enumerate(_chain("nc-"))]
    assert ingest_events(chain[:4], store).ok
    assert store._memory.lots
    with store.writing() as w:
        result = check_document(chain[4:], w)
        assert not result.problems
        w.append(result.new_events, result.payloads)  # no settled lots handed over
    assert not store._memory.lots
    assert _compare(store, _names(chain))


@SETTINGS
@given(data=st.data())
def test_lots_are_kept_in_compiled_code_as_in_python(store: SqlStore, data: st.DataObject,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Every kept tuple (index, record, assay without zeros, movements) and their order are the Python code's."""
    assert _hotrows is not None
    store._memory = WriterMemory(mode="always", lot_capacity=data.draw(st.sampled_from([3, 100_000])))
    compared: list[int] = []
    compiled = WriterMemory._keep

    def both(self: WriterMemory, settled: Any, lot_rows: Any) -> None:
        twin = WriterMemory(mode="always")
        twin.lots = OrderedDict(self.lots)
        twin.python_keep({r[1]: r[0] for r in lot_rows}, settled)
        compiled(self, settled, lot_rows)  # then trimmed to capacity from the front
        assert list(self.lots.items()) == list(twin.lots.items())[len(twin.lots) - len(self.lots):]
        compared.append(len(self.lots))

    monkeypatch.setattr(WriterMemory, "_keep", both)
    chain = data.draw(valid_chain(f"k{uuid.uuid4().hex[:8]}-"))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(chain) - 1), max_size=3)))
    for a, b in zip([0, *cuts], [*cuts, len(chain)], strict=True):
        assert ingest_events(chain[a:b], store).ok
    assert compared and compared[-1] > 0


@pytest.mark.parametrize("who", ["this writer", "another writer", "before the memory was built"])
def test_a_certificate_is_never_hidden_by_the_memory(store: SqlStore, who: str) -> None:
    """Lots no certificate or deviation names are not looked up for them; one that does is, whoever wrote it."""
    from tests.integration.test_quality import CHAIN, SPEC, coa, consume, ingest

    store._memory = WriterMemory(mode="always")
    assert ingest(store, [], CHAIN)[0]
    certificates = [SPEC, coa("COA-A", "PA", "10.4"), coa("COA-B", "PB", "13.1", na="140")]
    if who == "this writer":
        assert ingest(store, certificates)[0]
    else:
        with _second_writer(store) as other:
            assert ingest(other, certificates)[0]
        if who == "before the memory was built":
            store._memory = WriterMemory(mode="always")
    ok, problems = ingest(store, [], consume("R4", "PB"))  # out of specification: refused for COA-B
    assert not ok and "COA-B" in problems[0][1], problems
    assert store._memory.current and len(store._memory.ids["quality"]) == 2
    with store.writing() as w:  # an unnamed lot is not asked for; the named ones are
        assert sorted(w._maybe_stored("quality", ["PA", "PB", "S1", "R4-OUT"])) == ["PA", "PB"]
        w.discard()
    assert ingest(store, [], consume("R3", "PA"))[0]  # in specification
