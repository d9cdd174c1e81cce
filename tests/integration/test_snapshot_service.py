"""The snapshot service: built from the store, cached by chain head, extended incrementally, as_of."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from lichain.core.model import Retraction
from lichain.core.validate import LocatedEvent
from lichain.services.ingest import ingest_events
from lichain.services.snapshot import load_snapshot
from lichain.storage.sql import SqlStore
from tests.support.chain_text import event, parse_chain

FIRST = """
site M1 mine ID
site R1 refinery CN
material ORE ore
material NSO refined_salt NiSO4·6H2O
lot L1 ORE @M1 2026-01-01 1000kg Ni=0.012 Co=0.001
ship S-1 L1 600kg M1->R1 2026-01-01T12:00 sea_container 4000km
run R-1 refining @R1 2026-01-02..2026-01-03 in L1:500kg out L2:NSO:26.8kg:Ni=0.2233 loss Ni=0.01556kg Co=0.5kg
"""
SECOND = """
lot L3 ORE @M1 2026-02-01 200kg Ni=0.015
ship S-2 L3 200kg M1->R1 2026-02-01T12:00 sea_container 4000km
run R-2 refining @R1 2026-02-02..2026-02-03 in L1:100kg L3:200kg out L4:NSO:18.8kg:Ni=0.2233 \
loss Ni=0.00196kg Co=0.1kg
"""


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))


def test_build_then_cache_then_extend_equals_rebuild(store: SqlStore) -> None:
    assert ingest_events(parse_chain(FIRST), store).ok
    a = load_snapshot(store)
    assert a.how == "built" and a.snapshot.n_lots == 2
    b = load_snapshot(store)
    assert b.how == "cache" and b.snapshot.equals(a.snapshot)
    assert ingest_events(parse_chain(SECOND.replace("\\\n", ""), "second"), store).ok
    c = load_snapshot(store)
    assert c.how == "extended"
    full = load_snapshot(store, use_cache=False)
    assert full.how == "built" and c.snapshot.equals(full.snapshot)
    s = full.snapshot
    i4 = s.index_of("L4")
    # L4 was made from 100 kg of L1 and 200 kg of L3: its upstream edges carry exactly those kg
    lo, hi = s.up_indptr[i4], s.up_indptr[i4 + 1]
    got = {s.lot_id(int(j)): float(k) for j, k in zip(s.up_src[lo:hi], s.up_kg[lo:hi], strict=True)}
    assert got == {"L1": 100.0, "L3": 200.0}
    np.testing.assert_allclose(s.lot_assay[i4, s.element_index("Ni")], 0.2233)


def test_as_of_and_retraction_rebuild(store: SqlStore) -> None:
    doc = parse_chain(FIRST)
    assert ingest_events(doc, store).ok
    assert ingest_events(parse_chain(SECOND.replace("\\\n", ""), "second"), store).ok
    early = load_snapshot(store, as_of=datetime(2026, 1, 15, tzinfo=UTC)).snapshot
    assert sorted(map(str, early.lot_ids)) == ["L1", "L2"]
    run_event = doc[-1].event.event_id
    t = datetime(2026, 3, 1, tzinfo=UTC)
    assert ingest_events([LocatedEvent("err", event(Retraction(run_event, t, "test"), t))], store).ok
    after = load_snapshot(store)
    assert after.how == "built" and "L2" not in set(map(str, after.snapshot.lot_ids))


def test_concurrent_readers_extend_once_and_see_the_same_snapshot(store: SqlStore) -> None:
    """Threads asking for the snapshot after the head moved: one extends, the others wait and take its result
    (two extensions of the same snapshot at once each copied every column)."""
    import threading

    assert ingest_events(parse_chain(FIRST), store).ok
    load_snapshot(store)
    assert ingest_events(parse_chain(SECOND.replace("\\\n", ""), "second"), store).ok
    got: list[object] = []
    start = threading.Barrier(4)

    def read() -> None:
        start.wait()
        got.append(load_snapshot(store))

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    hows = sorted(r.how for r in got)  # type: ignore[attr-defined]
    assert hows == ["cache", "cache", "cache", "extended"]
    full = load_snapshot(store, use_cache=False).snapshot
    assert all(r.snapshot.equals(full) for r in got)  # type: ignore[attr-defined]
    s = got[0].snapshot  # type: ignore[attr-defined]
    assert s.index_of("L4") == full.index_of("L4")
