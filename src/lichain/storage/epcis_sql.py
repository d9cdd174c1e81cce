"""Reads behind the EPCIS event query: recorded events in ledger order, narrowed by kind and by a coarse time window.

Why a module of its own: the query use case (:mod:`lichain.services.epcis_query`) holds no SQL. The ``time``
column holds UTC times as ISO text whose fractional digits vary in number, so text order is time order only to
the second: the window here is widened to whole seconds and the use case applies the exact bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from lichain.core.codec import format_time
from lichain.core.ports import StoredEvent
from lichain.storage import schema as s
from lichain.storage.sql import SqlStore

__all__ = ["events_after"]


def _second(t: datetime) -> str:
    """The first 19 characters of :func:`format_time`: ``YYYY-MM-DDTHH:MM:SS`` (UTC)."""
    return format_time(t.replace(microsecond=0))[:19]


def events_after(store: SqlStore, after: int, kinds: Sequence[str], *, since: datetime | None = None,
                 before: datetime | None = None, limit: int = 1_000) -> list[StoredEvent]:
    """Up to ``limit`` recorded events of ``kinds`` with ``seq > after``, in ledger order.

    ``since`` / ``before`` keep events whose time may be at or after ``since`` and before ``before`` (to the
    second: the caller checks the exact bounds).
    """
    q = select(s.events).where(s.events.c.seq > after, s.events.c.kind.in_(list(kinds)))
    if since is not None:
        q = q.where(s.events.c.time >= _second(since))
    if before is not None:
        q = q.where(s.events.c.time < _second(before + timedelta(seconds=1)))
    with store.read() as conn:
        rows = conn.execute(q.order_by(s.events.c.seq).limit(limit)).all()
    return [StoredEvent(r.seq, r.event_id, r.kind, r.time, r.payload, r.prev_hash, r.chain_hash, r.recorded_at,
                        r.source, r.record_hash) for r in rows]  # fmt: skip
