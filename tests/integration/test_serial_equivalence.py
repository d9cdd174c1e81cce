"""Racing writers leave exactly what a serial order of the accepted documents leaves (SQLite and PostgreSQL).

Each round, the test writes a base document, then releases 8 writer processes at once (a barrier), each
ingesting its own document against the same state:

- over-consumption: every writer consumes 400 kg of one 1000 kg lot; a serial order accepts exactly
  floor(1000 / 400) = 2 of them (the third would need 1200 kg > 1000 kg + 0.1 % tolerance);
- duplicate: every writer ingests the same document; exactly one writes it, the others skip it (no traceback);
- mixed: half ship 400 kg of a 1000 kg lot, half consume 400 kg of it.

Afterwards the stored ledger must equal a serial ingest of the accepted documents in commit order (same events,
same chain head, same table counts), every refused document must still be refused by that final state, the
chain verifies, and the ledger's own EPCIS export re-imports into an empty store with the same chain head.
"""

from __future__ import annotations

import io
import multiprocessing as mp
from pathlib import Path

from lichain.core.validate import check_document
from lichain.entrypoints.present import jsonable
from lichain.services import query
from lichain.services.exchange import export_epcis
from lichain.services.ingest import ingest_events
from lichain.services.record import ingest_file
from lichain.services.verify import verify_chain
from lichain.storage.sql import SqlStore, open_store
from tests.support.chain_text import parse_chain
from tests.support.race_rounds import Outcome, writer

N = 8
ROUNDS = ["over", "dup", "mixed", "over", "dup", "mixed"]
SETUP = """
site M1 mine ID
site R1 refinery CN
site C1 cell_plant KR Customer
material ORE ore
"""


def _plan(r: int, kind: str) -> tuple[str, list[str]]:
    """Base document of round r and the document of each writer."""
    if kind == "over":
        base = f"lot LO{r} ORE @R1 2026-01-01 1000kg Ni=0.01"
        docs = [f"run RO{r}-{k} refining @R1 2026-01-02..2026-01-03 in LO{r}:400kg out OO{r}-{k}:ORE:400kg:Ni=0.01"
                for k in range(N)]
    elif kind == "dup":
        base = ""
        docs = [f"lot LD{r} ORE @R1 2026-01-01 100kg Ni=0.01\n"
                f"run RD{r} refining @R1 2026-01-02..2026-01-03 in LD{r}:50kg out OD{r}:ORE:50kg:Ni=0.01"] * N
    else:
        base = f"lot LM{r} ORE @R1 2026-01-01 1000kg Ni=0.01"
        docs = [f"ship SM{r}-{k} LM{r} 400kg R1->C1 2026-01-04 sea_container 900km" if k % 2 == 0 else
                f"run RM{r}-{k} refining @R1 2026-01-05..2026-01-06 in LM{r}:400kg out OM{r}-{k}:ORE:400kg:Ni=0.01"
                for k in range(N)]
    return base, docs


def _events(store: SqlStore) -> list[tuple[str, str, str, str]]:
    return [(e.event_id, e.kind, e.time, e.payload) for e in store.iter_events()]


def _race(store: SqlStore) -> tuple[list[tuple[str, str]], dict[int, list[Outcome]]]:
    """Run every round; return the base documents (name, text) and each round's outcomes."""
    plans = [_plan(r, kind) for r, kind in enumerate(ROUNDS)]
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(N + 1)
    results = ctx.Queue()
    procs = [ctx.Process(target=writer, args=(k, store.url, [p[1][k] for p in plans],
                                              [f"w{k}r{r}" for r in range(len(plans))], barrier, results))
             for k in range(N)]
    for p in procs:
        p.start()
    bases: list[tuple[str, str]] = [("setup", SETUP)]
    assert ingest_events(parse_chain(SETUP, "setup"), store).ok
    outcomes: dict[int, list[Outcome]] = {}
    try:
        for r, (base, _docs) in enumerate(plans):
            if base:
                bases.append((f"base{r}", base))
                assert ingest_events(parse_chain(base, f"base{r}"), store).ok
            barrier.wait(timeout=120)
            outcomes[r] = sorted(results.get(timeout=120) for _ in range(N))
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
    assert all(p.exitcode == 0 for p in procs)
    return bases, outcomes


def test_stored_state_equals_a_serial_ingest_of_the_accepted_documents(store: SqlStore, tmp_path: Path) -> None:
    bases, outcomes = _race(store)
    plans = [_plan(r, kind) for r, kind in enumerate(ROUNDS)]
    accepted: list[tuple[str, str]] = list(bases)
    refused: list[tuple[str, str]] = []
    for r, kind in enumerate(ROUNDS):
        docs = plans[r][1]
        rows = outcomes[r]
        assert [o[6] for o in rows] == [""] * N, "a writer crashed:\n" + "".join(o[6] for o in rows)
        ok = [o for o in rows if o[2]]
        if kind == "over":
            assert len(ok) == 2  # floor(1000 kg / 400 kg)
            for o in rows:
                if not o[2]:
                    assert o[3] == 0 and o[5]
                    assert {loc for loc, _ in o[5]} == {f"w{o[0]}r{r}:1/inputs/0"}  # located at the input
                    assert any(f"over-consumption of lot LO{r}" in m or "more than is at its site" in m
                               for _, m in o[5]), o[5]
            assert query.show_lot(store, f"LO{r}").consumed_kg == 2 * 400
        elif kind == "dup":
            assert len(ok) == N  # every writer succeeds: one writes, the others find it on record
            assert sorted(o[3] for o in rows) == [0] * (N - 1) + [2]
            assert sorted(o[4] for o in rows) == [0] + [2] * (N - 1)
        else:
            assert len(ok) >= 2  # any two of the documents fit in 1000 kg
            lot = jsonable(query.show_lot(store, f"LM{r}"))
            assert lot["consumed_kg"] <= 1001 and lot["shipped_kg"] <= 1001
        for o in rows:
            if o[2] and o[3] > 0:
                accepted.append((f"w{o[0]}r{r}", docs[o[0]]))
            elif not o[2]:
                refused.append((f"w{o[0]}r{r}", docs[o[0]]))
    assert verify_chain(store).ok

    # stored state == serial ingest of the accepted documents in commit order (seq of their first event)
    def first_seq(name_text: tuple[str, str]) -> int:
        ev = store.stored_event(parse_chain(name_text[1], name_text[0])[0].event.event_id)
        assert ev is not None
        return ev.seq

    serial = open_store(str(tmp_path / "serial.db"))
    for name, text in sorted(accepted, key=first_seq):
        doc = parse_chain(text, name)
        r = ingest_events(doc, serial)
        assert r.ok and r.events_written == len(doc), (name, r.problems)
    assert _events(serial) == _events(store)
    assert serial.counts() == store.counts()
    assert verify_chain(serial).head == verify_chain(store).head
    for name, text in refused:  # what was refused under the race is refused by the final state too
        assert check_document(parse_chain(text, name), serial).problems, name
    serial.close()

    # the ledger's own EPCIS export re-imports into an empty store, every rule checked again
    buf = io.StringIO()
    export_epcis(store, buf)
    f = tmp_path / "ledger.jsonld"
    f.write_text(buf.getvalue(), encoding="utf-8")
    again = open_store(str(tmp_path / "again.db"))
    r = ingest_file(again, f)
    assert r.ok, r.problems[:5]
    assert verify_chain(again).head == verify_chain(store).head
    again.close()
