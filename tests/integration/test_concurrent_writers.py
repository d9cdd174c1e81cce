"""Every ledger rule holds under any interleaving of writers (SQLite file and PostgreSQL, many processes).

N writer processes start together (a barrier) and each ingests one document. Whatever the interleaving, the stored
state must equal some serial order of the accepted documents: exactly as many over-consuming runs are accepted as
a serial order would accept, a document ingested by every writer at once is written by exactly one and is a no-op
for the others, no writer crashes, the chain verifies, and the ledger's own EPCIS export re-imports into an empty
ledger with the same chain head (every rule re-checked from scratch).
"""

from __future__ import annotations

import io
import multiprocessing as mp
from typing import Any

from lichain.services import query
from lichain.services.exchange import export_epcis
from lichain.services.ingest import ingest_events
from lichain.services.verify import verify_chain
from lichain.storage.sql import SqlStore, open_store
from tests.support.chain_text import parse_chain
from tests.support.race_worker import ingest_after_barrier

WRITERS = 6
ROUNDS = 2

BASE = """
site M1 mine ID
site R1 refinery CN
site P1 precursor_plant CN
material ORE ore
material NSO refined_salt NiSO4·6H2O
"""


def _lot(k: int) -> str:
    # 1000 kg at the refinery, 1 % Ni: each 400 kg run takes 4 kg Ni in and makes 20 kg of salt at 20 % Ni
    return f"lot L{k} ORE @R1 2026-01-01 1000kg Ni=0.01"


def _run(k: int, w: int) -> str:
    return f"run R{k}-{w} refining @R1 2026-01-02..2026-01-03 in L{k}:400kg out O{k}-{w}:NSO:20kg:Ni=0.2"


def _race(url: str, docs: list[tuple[str, str]]) -> list[tuple[Any, ...]]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(docs))
    results = ctx.Queue()
    procs = [ctx.Process(target=ingest_after_barrier, args=(url, text, name, barrier, results)) for name, text in docs]
    for p in procs:
        p.start()
    out = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(p.exitcode == 0 for p in procs)
    return out


def _reimports_identically(store: SqlStore, tmp_path: Any) -> bool:
    buf = io.StringIO()
    export_epcis(store, buf)
    path = tmp_path / "export.jsonld"
    path.write_text(buf.getvalue(), encoding="utf-8")
    from lichain.services.record import ingest_file

    fresh = open_store(str(tmp_path / "fresh.db"))
    try:
        r = ingest_file(fresh, path)
        return r.ok and fresh.head()[1] == store.head()[1]
    finally:
        fresh.close()


def test_racing_writers_never_over_consume(store: SqlStore, tmp_path: Any) -> None:
    assert ingest_events(parse_chain(BASE), store).ok
    for k in range(ROUNDS):
        assert ingest_events(parse_chain(_lot(k), f"lot{k}"), store).ok
        outcomes = _race(store.url, [(f"w{w}", _run(k, w)) for w in range(WRITERS)])
        assert [o[5] for o in outcomes if o[5]] == []  # no writer crashed
        accepted = [o for o in outcomes if o[1]]
        refused = [o for o in outcomes if not o[1]]
        # serially, 1000 kg admits exactly two 400 kg runs; every other writer is refused with a located reason
        assert len(accepted) == 2, outcomes
        assert all(o[2] == 1 for o in accepted)
        assert all(any("over-consumption of lot" in p or "consumes more than is at its site" in p for p in o[4])
                   for o in refused), refused
        assert query.show_lot(store, f"L{k}").consumed_kg == 800
    assert verify_chain(store).ok
    assert query.balance(store).problems == ()
    assert _reimports_identically(store, tmp_path)


def test_same_document_from_every_writer_is_written_once(store: SqlStore, tmp_path: Any) -> None:
    assert ingest_events(parse_chain(BASE), store).ok
    for k in range(ROUNDS):
        doc = f"{_lot(k)}\n{_run(k, 0)}"
        before = store.counts()["events"]
        outcomes = _race(store.url, [(f"w{w}", doc) for w in range(WRITERS)])
        assert [o[5] for o in outcomes if o[5]] == []
        assert all(o[1] for o in outcomes), outcomes  # duplicates are idempotent no-ops, not refusals
        assert sorted(o[2] for o in outcomes) == [0] * (WRITERS - 1) + [2]
        assert sorted(o[3] for o in outcomes) == [0] + [2] * (WRITERS - 1)
        assert store.counts()["events"] == before + 2
    assert verify_chain(store).ok
    assert _reimports_identically(store, tmp_path)



def test_shipments_and_runs_racing_for_one_stock(store: SqlStore, tmp_path: Any) -> None:
    assert ingest_events(parse_chain(BASE), store).ok
    assert ingest_events(parse_chain(_lot(0), "lot0"), store).ok
    docs = [(f"w{w}", _run(0, w) if w % 2 else f"ship S{w} L0 400kg R1->P1 2026-01-02 road 120km")
            for w in range(WRITERS)]
    outcomes = _race(store.url, docs)
    assert [o[5] for o in outcomes if o[5]] == []
    assert sum(o[1] for o in outcomes) == 2, outcomes  # 1000 kg at R1 leaves it at most twice by 400 kg
    assert verify_chain(store).ok
    assert _reimports_identically(store, tmp_path)
