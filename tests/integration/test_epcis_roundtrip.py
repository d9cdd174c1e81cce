"""An exported ledger re-imports into an empty store and gives the identical ledger, on both backends."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from lichain.core.model import Retraction
from lichain.core.validate import LocatedEvent
from lichain.services.exchange import export_epcis
from lichain.services.ingest import ingest_events
from lichain.services.record import ingest_file
from lichain.storage.sql import SqlStore, open_store
from tests.support.chain_text import event, parse_chain

CHAIN = """
site M1 mine ID
site R1 refinery CN
site C1 cell_plant KR Customer
material ORE ore
material NSO refined_salt NiSO4·6H2O
lot L1 ORE @M1 2026-01-01 1000kg Ni=0.012 Co=0.001
lot L5 ORE @M1 2026-01-01 10kg Ni=0.012
ship S0 L1 500kg M1->R1 2026-01-01T12:00 sea_container 4000km
run R-1 refining @R1 2026-01-02..2026-01-03 in L1:500kg out L2:NSO:26.8kg:Ni=0.2233 loss Ni=0.01556kg Co=0.5kg
ship S1 L2 12kg R1->C1 2026-01-04 sea_container 9000km Customer
"""


def _events(store: SqlStore) -> list[tuple[str, str, str, str]]:
    return [(e.event_id, e.kind, e.time, e.payload) for e in store.iter_events()]


def test_export_then_import_gives_the_identical_ledger(store: SqlStore, tmp_path: Path) -> None:
    src = open_store(str(tmp_path / "src.db"))
    doc = parse_chain(CHAIN)
    assert ingest_events(doc, src).ok
    t = datetime(2026, 2, 1, tzinfo=UTC)
    lot5 = next(le.event.event_id for le in doc if getattr(le.event.body, "id", "") == "L5")
    assert ingest_events([LocatedEvent("err", event(Retraction(lot5, t, "incorrect_data"), t))], src).ok
    buf = io.StringIO()
    n = export_epcis(src, buf)
    assert n == len(doc) + 1
    f = tmp_path / "ledger.jsonld"
    f.write_text(buf.getvalue(), encoding="utf-8")
    r = ingest_file(store, f)
    assert r.ok, r.problems
    assert _events(store) == _events(src)
    assert [c for c in store.counts().items()] == [c for c in src.counts().items()]
    # and a second import is a no-op
    r = ingest_file(store, f)
    assert r.ok and r.events_written == 0
    src.close()
