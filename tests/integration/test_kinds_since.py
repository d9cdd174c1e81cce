"""``event_kinds_since`` answers which of the asked kinds were recorded after an event by one index probe per
kind; checked against the kinds of every event after each point of a ledger with shipments, overrides, supplier
PCFs and retractions, on both backends."""

from __future__ import annotations

from sqlalchemy import text

from lichain.services.footprint_extend import CHANGES_EARLIER, CHANGES_GRAPH
from lichain.storage.footprint_sql import event_kinds_since
from lichain.storage.sql import SqlStore
from tests.integration.test_footprint_extend import Ledger


def test_kinds_since_every_point_equal_the_kinds_recorded_after_it(store: SqlStore) -> None:
    led = Ledger(store)
    for kind in ("run", "shipment", "run_depot", "override", "lot", "pcf", "run_two", "lot_bare", "retract", "shipment_back"):
        led.step(kind)
    with store.read() as c:
        kinds = [str(k) for (k,) in c.execute(text("SELECT kind FROM events ORDER BY seq"))]
    assert {"shipment", "factor_override", "supplier_pcf", "retraction"} <= set(kinds)
    for asked in (CHANGES_EARLIER, CHANGES_GRAPH, frozenset({"lot", "run"})):
        for seq in range(len(kinds) + 1):
            assert event_kinds_since(store, seq, asked) == set(kinds[seq:]) & asked, (asked, seq)
