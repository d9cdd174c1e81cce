"""Use cases that exchange standard documents: export the ledger as EPCIS 2.0 JSON-LD."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from lichain.core.codec import event_from_payload
from lichain.core.model import Event
from lichain.storage.sql import SqlStore

__all__ = ["export_epcis", "export_parquet", "stored_events"]


def stored_events(store: SqlStore) -> list[Event]:
    """Every recorded event, in chain order, as domain events."""
    return [event_from_payload(e.event_id, e.kind, e.time, e.payload) for e in store.iter_events()]


def export_epcis(store: SqlStore, fp: TextIO) -> int:
    """Write the whole ledger as one EPCIS 2.0 document to ``fp``; return the number of events."""
    from lichain.io.epcis import write_epcis_stream

    events = (event_from_payload(e.event_id, e.kind, e.time, e.payload) for e in store.iter_events())

    def resolve(event_id: str) -> Event | None:
        """A retraction re-states the event it names: look it up instead of keeping every event in memory."""
        e = store.stored_event(event_id)
        return None if e is None else event_from_payload(e.event_id, e.kind, e.time, e.payload)

    return int(write_epcis_stream(events, fp, resolve=resolve))


def export_parquet(store: SqlStore, directory: Path) -> dict[str, Path]:
    """Write the lot graph (``lots.parquet``, ``edges.parquet``) for DuckDB, Polars or Spark."""
    from lichain.services.snapshot import load_snapshot

    return load_snapshot(store).snapshot.write_parquet(directory)
