"""``SqlStore.reading``: a block of reads answers for one chain head on both backends (its reads share one
connection; SQLite keeps one snapshot on it; on PostgreSQL, where each statement sees the latest commit, the head
is read once), and the next block sees what was written meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime

from lichain.core.model import Event, EventKind, LocatedEvent, Material, Site
from lichain.services.ingest import ingest_events
from lichain.services.record import assign_ids
from lichain.storage.sql import SqlStore, open_store


def _put(store: SqlStore, body: object, n: int) -> None:
    ev = assign_ids([Event("", EventKind.SITE if isinstance(body, Site) else EventKind.MATERIAL,
                           datetime(2026, 1, 1, n, tzinfo=UTC), body)])[0]
    assert ingest_events([LocatedEvent(f"t:{n}", ev)], store).ok


def test_a_reading_block_answers_for_one_head(store: SqlStore) -> None:
    _put(store, Site("S1", "Plant", "refinery", "CN", "Org"), 1)
    other = open_store(store.url)  # another writer (another process would do the same)
    try:
        with store.reading():
            before = store.head()
            _put(other, Material("M1", "mid", "intermediate"), 2)
            assert other.head()[0] == before[0] + 1  # written and committed
            assert store.head() == before  # the block's head
            with store.read() as c, store.read() as c2:  # its reads share one connection (on SQLite a snapshot)
                assert c is c2
        after = store.head()
        assert after[0] == before[0] + 1 and after[1] != before[1]
    finally:
        other.close()
