"""A cell lot with a cell maker's statement, added to any ledger that has a site, for tests that need a passport."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from lichain.core.codec import canonical_payload, content_event_id, kind_of
from lichain.core.model import CellSpec, Event, LocatedEvent, Lot, Material
from lichain.services.ingest import ingest_events
from lichain.storage.sql import open_store

__all__ = ["CELL_LOT", "add_cell_lot"]

CELL_LOT = "CELL-EX-0001"


def add_cell_lot(db: str, site: str) -> str:
    """Commission a 100 kg NMC cell lot at ``site`` with its cell data; return the lot id."""
    t = datetime(2024, 3, 1, tzinfo=UTC)
    bodies = [Material("CELL-EX", "Example NMC cells", "cell"),
              Lot(CELL_LOT, "CELL-EX", site, t, 100 * 10**6, {"Ni": 190_000_000}),
              CellSpec(CELL_LOT, "EX-P60", "ev", "NMC811", D("60"), D("3.65"), D("0.219"), D("0.876"), "Example Cells",
                       2000, D("10"))]
    docs = [LocatedEvent(f"cell:{i}", Event(content_event_id(kind_of(b), canonical_payload(b)), kind_of(b), t, b))
            for i, b in enumerate(bodies)]
    store = open_store(db)
    try:
        r = ingest_events(docs, store)
        assert r.ok, r.problems
    finally:
        store.close()
    return CELL_LOT
