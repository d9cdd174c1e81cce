"""Hypothesis properties of the ledger on SQLite and PostgreSQL.

* random valid chains are accepted and conserve element mass (sources = stock + declared losses);
* store → load is identical on both backends;
* any single corruption of a valid document is refused, located, and nothing is written.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lichain.core.codec import event_from_payload
from lichain.core.model import Consumption, Lot, Run
from lichain.core.validate import LocatedEvent
from lichain.services import query
from lichain.services.ingest import ingest_events
from lichain.services.verify import verify_chain
from lichain.storage.sql import SqlStore
from tests.support.chain_text import event
from tests.support.strategies import ELEMENTS, valid_chain

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _prefix() -> str:
    return f"p{uuid.uuid4().hex[:8]}-"


@SETTINGS
@given(data=st.data())
def test_valid_chains_are_accepted_and_conserve_element_mass(store: SqlStore, data: st.DataObject) -> None:
    prefix = _prefix()
    doc = data.draw(valid_chain(prefix))
    r = ingest_events(doc, store)
    assert r.ok, r.problems
    # independent conservation check over the whole document, in exact integers (mg × ppb):
    # Σ source element = Σ unconsumed element in every lot + Σ declared losses, up to the mg rounding floor
    lots: dict[str, Lot] = {}
    consumed: dict[str, int] = {}
    loss: dict[str, int] = dict.fromkeys(ELEMENTS, 0)
    sources: list[Lot] = []
    n_runs = n_outputs = 0
    for le in doc:
        b = le.event.body
        if isinstance(b, Lot):
            lots[b.id] = b
            sources.append(b)
        elif isinstance(b, Run):
            n_runs += 1
            n_outputs += len(b.outputs)
            for c in b.inputs:
                consumed[c.lot] = consumed.get(c.lot, 0) + c.mass_mg
            for o in b.outputs:
                lots[o.id] = o
            for e, v in b.losses_mg.items():
                loss[e] += v
    for e in ELEMENTS:
        src = sum(lot.mass_mg * lot.assay.get(e, 0) for lot in sources)
        stock = sum((lot.mass_mg - consumed.get(lot.id, 0)) * lot.assay.get(e, 0) for lot in lots.values())
        gap = abs(src - stock - loss[e] * 10**9)
        assert gap <= (n_runs + n_outputs) * 10**9 + src // 200, (e, src, stock, loss[e])
    ours = {le.event.event_id for le in doc}
    assert all(p["run"] not in ours for p in query.balance(store).problems)


@SETTINGS
@given(data=st.data())
def test_store_then_load_is_identical(store: SqlStore, data: st.DataObject) -> None:
    doc = data.draw(valid_chain(_prefix()))
    assert ingest_events(doc, store).ok
    ids = {le.event.event_id for le in doc}
    loaded = [event_from_payload(e.event_id, e.kind, e.time, e.payload) for e in store.iter_events()
              if e.event_id in ids]
    assert loaded == [le.event for le in doc]
    assert verify_chain(store).ok


def _corrupt(doc: list[LocatedEvent], data: st.DataObject) -> tuple[list[LocatedEvent], str]:
    """One corruption of one event; returns the document and the location that must be reported."""
    lots = [i for i, le in enumerate(doc) if isinstance(le.event.body, Lot)]
    runs = [i for i, le in enumerate(doc) if isinstance(le.event.body, Run)]
    kinds = ["negative mass", "fraction over one", "duplicate"]
    if runs:
        kinds += ["unknown input", "over-consumption", "unbalanced"]
    kind = data.draw(st.sampled_from(kinds))
    doc = list(doc)
    if kind in ("negative mass", "fraction over one"):
        i = data.draw(st.sampled_from(lots))
        b = doc[i].event.body
        assert isinstance(b, Lot)
        nb = replace(b, mass_mg=-b.mass_mg) if kind == "negative mass" else replace(
            b, assay={**b.assay, "Ni": 1_000_000_001})
        doc[i] = LocatedEvent(doc[i].location, event(nb, doc[i].event.time))
        return doc, doc[i].location
    if kind == "duplicate":
        i = data.draw(st.integers(2, len(doc) - 1))
        doc.append(LocatedEvent("gen:dup", doc[i].event))
        return doc, "gen:dup"
    i = data.draw(st.sampled_from(runs))
    b = doc[i].event.body
    assert isinstance(b, Run)
    if kind == "unknown input":
        nb = replace(b, inputs=(Consumption("no-such-lot", 1000), *b.inputs[1:]))
        loc = f"{doc[i].location}/inputs/0"
    elif kind == "over-consumption":
        c = b.inputs[0]
        total = next(lot.mass_mg for x in doc for lot in _outs(x.event.body) if lot.id == c.lot)
        nb = replace(b, inputs=(Consumption(c.lot, total * 2), *b.inputs[1:]))
        loc = f"{doc[i].location}/inputs/0"
    else:
        # output 0 now carries 1.5 × the run's input mass of Li, more than any input can hold (≤ 0.2)
        o = b.outputs[0]
        mass_in = sum(c.mass_mg for c in b.inputs)
        nb = replace(b, outputs=(replace(o, mass_mg=3 * mass_in, assay={**o.assay, "Li": 500_000_000}),
                                 *b.outputs[1:]))
        loc = f"{doc[i].location}/balance/Li"
    doc[i] = LocatedEvent(doc[i].location, event(nb, doc[i].event.time))
    return doc, loc


def _outs(b: object) -> list[Lot]:
    if isinstance(b, Lot):
        return [b]
    if isinstance(b, Run):
        return list(b.outputs)
    return []


@SETTINGS
@given(data=st.data())
def test_any_single_corruption_is_refused_and_nothing_written(store: SqlStore, data: st.DataObject) -> None:
    doc = data.draw(valid_chain(_prefix()))
    bad, location = _corrupt(doc, data)
    before = (store.counts(), store.head())
    r = ingest_events(bad, store)
    assert not r.ok and r.events_written == 0
    assert any(p.location.startswith(location) for p in r.problems), (location, r.problems)
    assert (store.counts(), store.head()) == before
