"""Look-ups the scenario use case needs from the ledger (a run by its id)."""

from __future__ import annotations

from sqlalchemy import select

from lichain.storage import schema as s
from lichain.storage.sql import SqlStore

__all__ = ["run_index"]


def run_index(store: SqlStore, run_id: str) -> int | None:
    """Store index of the live run ``run_id`` (None when unknown or retracted)."""
    retracted = select(s.retractions.c.target_seq)
    with store.read() as conn:
        idx = conn.execute(select(s.runs.c.idx).where(s.runs.c.id == run_id, s.runs.c.event_seq.not_in(retracted))
                           ).scalar()
    return None if idx is None else int(idx)
