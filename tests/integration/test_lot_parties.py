"""``lot_parties``: a lot's ledger id, its site's operator and the receivers of its live shipments (the
organisation named on a shipment, else the receiving site's operator), read in one statement on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from lichain.core.model import Lot, Material, Retraction, Shipment, Site
from lichain.core.validate import LocatedEvent
from lichain.services.ingest import ingest_events
from lichain.storage.access_sql import lot_parties
from lichain.storage.sql import SqlStore
from tests.support.chain_text import event

KG = 1_000_000
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _put(store: SqlStore, bodies: list[object], hours: int) -> list[str]:
    evs = [event(b, T0 + timedelta(hours=hours)) for b in bodies]
    assert ingest_events([LocatedEvent(f"t:{i}", e) for i, e in enumerate(evs)], store).ok
    return [e.event_id for e in evs]


def test_parties_are_the_site_operator_and_the_receivers_of_live_shipments(store: SqlStore) -> None:
    _put(store, [Site("P1", "Plant", "refinery", "CN", "Org A"), Site("P2", "Depot", "warehouse", "KR", "Org B"),
                 Site("P3", "Port", "warehouse", "DE", "Org C"), Material("MID", "mid", "intermediate")], 0)
    _put(store, [Lot("L1", "MID", "P1", T0, 100 * KG, {}), Lot("L2", "MID", "P1", T0, 50 * KG, {})], 1)
    assert lot_parties(store, ("L2",)) == lot_parties(store, ("nope", "L2"))  # the first spelling on record
    alone = lot_parties(store, ("L2",))
    assert alone is not None and (alone.id, alone.organisation, alone.receivers) == ("L2", "Org A", frozenset())
    (s1,) = _put(store, [Shipment("S1", "L1", 10 * KG, "P1", "P2", T0 + timedelta(hours=2), "road", Decimal(10))], 2)
    _put(store, [Shipment("S2", "L1", 10 * KG, "P1", "P3", T0 + timedelta(hours=3), "road", Decimal(10),
                          to_organisation="Org D")], 3)
    got = lot_parties(store, ("L1",))
    assert got is not None and got.receivers == frozenset({"Org B", "Org D"})  # site operator; the named one
    _put(store, [Retraction(s1, T0 + timedelta(hours=4), "incorrect_data")], 4)
    got = lot_parties(store, ("L1",))
    assert got is not None and (got.organisation, got.receivers) == ("Org A", frozenset({"Org D"}))
    assert lot_parties(store, ("L9", "nope")) is None
