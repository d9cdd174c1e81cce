"""``shipment_emissions`` (a lot's deliveries, read without its activity data) gives exactly the shipment arrays
of ``read_emissions`` for that lot, for every shipped lot of a demo chain, with and without a factor override of
a transport mode; on both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
from sqlalchemy import text

from lichain.core.model import FactorOverride
from lichain.core.validate import LocatedEvent
from lichain.services.demo import run_demo
from lichain.services.ingest import ingest_events
from lichain.storage.emissions_reader import read_emissions, shipment_emissions
from lichain.storage.sql import SqlStore
from tests.support.chain_text import event


def _same_for_every_shipped_lot(store: SqlStore) -> int:
    with store.read() as c:
        shipped = [int(r[0]) for r in c.execute(text("SELECT DISTINCT lot_idx FROM shipments ORDER BY lot_idx"))]
    for lot in shipped:
        whole = read_emissions(store, np.zeros(0, np.int64), np.array([lot], np.int64))
        got = shipment_emissions(store, lot)
        assert np.array_equal(got.ship_idx, whole.ship_idx)
        assert np.array_equal(got.kg_co2e, whole.ship_kg_co2e)
        assert np.array_equal(got.mass_kg, whole.ship_mass_kg)
        assert np.array_equal(got.origin_kg_co2e_per_kg, whole.ship_origin_kg_co2e_per_kg)
        assert (got.kg_co2e > 0).all()
    return len(shipped)


def test_a_lots_shipments_read_alone_equal_the_whole_read(store: SqlStore) -> None:
    assert run_demo(store, lots=400, seed=5).ok
    assert _same_for_every_shipped_lot(store) > 10
    with store.read() as c:
        mode, site, lot = c.execute(text("SELECT mode, from_site, lot_idx FROM shipments ORDER BY idx LIMIT 1")).one()
    before = shipment_emissions(store, int(lot)).kg_co2e
    override = FactorOverride(f"transport:{mode}", Decimal("0.5"), "kg CO2e/t-km", "test", site)
    ev = event(override, datetime.now(UTC))
    assert ingest_events([LocatedEvent("t:0", ev)], store).ok
    assert _same_for_every_shipped_lot(store) > 10
    assert not np.array_equal(shipment_emissions(store, int(lot)).kg_co2e, before)  # the override applies
