"""The ingest, verify and checkpoint use cases on the in-memory unit of work (no database).

The same use cases run on SQLite and PostgreSQL in tests/integration; here the chain heads are checked against
an independent fold of the hash-chain definition over the documents' canonical payloads.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from lichain.core.codec import GENESIS, canonical_payload, chain_hash, format_time
from lichain.io.signing import generate_key
from lichain.services.checkpoint import make_checkpoint, verify_against
from lichain.services.corrections import retract
from lichain.services.ingest import ingest_events
from lichain.services.verify import verify_chain, verify_deep
from lichain.storage.memory import MemoryStore
from tests.support.chain_text import parse_chain

CHAIN = """
site M1 mine ID
site R1 refinery CN
material ORE ore
material NSO refined_salt NiSO4·6H2O
lot L1 ORE @R1 2026-01-01 1000kg Ni=0.012
run R1 refining @R1 2026-01-02..2026-01-03 in L1:500kg out L2:NSO:26.8kg:Ni=0.2233 loss Ni=0.0156kg
"""


def _expected_head(text: str) -> str:
    h = GENESIS
    for le in parse_chain(text):
        ev = le.event
        h = chain_hash(h, ev.event_id, ev.kind.value, format_time(ev.time), canonical_payload(ev.body))
    return h


def test_ingest_appends_the_document_with_the_defined_hash_chain() -> None:
    store = MemoryStore()
    r = ingest_events(parse_chain(CHAIN), store)
    assert r.ok and r.events_written == 6 and r.problems == ()
    assert store.head() == (6, _expected_head(CHAIN))
    v = verify_chain(store)
    assert v.ok and v.events == 6 and v.head == _expected_head(CHAIN)
    again = ingest_events(parse_chain(CHAIN), store)  # the same document again: a no-op
    assert again.ok and again.events_written == 0 and again.events_skipped == 6 and store.head()[0] == 6


def test_a_refused_or_dry_run_document_changes_nothing() -> None:
    store = MemoryStore()
    assert ingest_events(parse_chain(CHAIN), store).ok
    before = (store.head(), store.counts())
    over = parse_chain("run R2 refining @R1 2026-02-01..2026-02-02 in L1:600kg out L3:NSO:36kg:Ni=0.2", "over")
    r = ingest_events(over, store)  # 500 kg of L1's 1000 kg are left
    assert not r.ok and r.events_written == 0 and {p.location for p in r.problems} == {"over:1/inputs/0"}
    assert any("1100.000000 kg consumed in all > 1000.000000 kg" in p.message for p in r.problems)
    ok_doc = parse_chain("run R2 refining @R1 2026-02-01..2026-02-02 in L1:100kg out L3:NSO:6kg:Ni=0.2", "ok")
    d = ingest_events(ok_doc, store, dry_run=True)
    assert d.ok and d.dry_run and d.events_written == 1
    assert (store.head(), store.counts()) == before


def test_a_retracted_run_frees_its_inputs() -> None:
    store = MemoryStore()
    doc = parse_chain(CHAIN)
    assert ingest_events(doc, store).ok
    run_event = doc[-1].event
    r = retract(store, "R1", "wrong scale reading", declared_at=datetime(2026, 1, 5, tzinfo=UTC))
    assert r.ok and r.target_event_id == run_event.event_id and r.events_written == 1
    assert store.lots(["L1"])["L1"].consumed_mg == 0
    redo = parse_chain("run R9 refining @R1 2026-01-06..2026-01-07 in L1:1000kg out L9:NSO:53.6kg:Ni=0.2233 "
                       "loss Ni=0.0312kg", "redo")
    assert ingest_events(redo, store).ok  # the whole 1000 kg is available again


def test_a_changed_event_is_found_and_named() -> None:
    store = MemoryStore()
    assert ingest_events(parse_chain(CHAIN), store).ok
    events = store._state.events
    changed = events[4].payload.replace('"1000"', '"1001"')  # lot L1: 1000 kg → 1001 kg
    assert changed != events[4].payload
    events[4] = dataclasses.replace(events[4], payload=changed)
    v = verify_chain(store)
    assert not v.ok and v.first_bad_event == events[4].event_id and "recomputed hash" in (v.reason or "")
    assert not verify_deep(store).ok


def test_checkpoints_detect_truncation_on_the_in_memory_ledger(tmp_path: Path) -> None:
    store = MemoryStore()
    assert ingest_events(parse_chain(CHAIN), store).ok
    priv, pub = generate_key(tmp_path)
    cp = make_checkpoint(store, priv)
    assert (cp.payload.seq, cp.payload.chain_hash, cp.payload.ledger) == (6, _expected_head(CHAIN), "memory:")
    more = parse_chain("lot L5 ORE @R1 2026-01-09 10kg Ni=0.01", "more")
    assert ingest_events(more, store).ok
    c = verify_against(store, cp.token, pub)
    assert c.ok and c.extends_checkpoint and c.events_since == 1
    del store._state.events[4:]
    c = verify_against(store, cp.token, pub)
    assert not c.ok and c.signature_ok and "truncated" in (c.reason or "")
