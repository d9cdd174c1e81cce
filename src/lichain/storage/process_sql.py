"""Ledger reads for process data: the windows of runs, and the recorded batches of readings.

Why this exists: readings link to runs by run id, line and time window; the ingest checks each run against the
ledger (it exists, at the line's site, and every reading lies in its window), and every read of readings takes
its file list from the live ``process_batch`` events.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from lichain.core.quality_codec import quality_from_json
from lichain.core.quality_model import ProcessBatch
from lichain.storage import schema as s
from lichain.storage.quality_sql import events_of_kinds
from lichain.storage.sql import chunks

__all__ = ["RunWindow", "process_batches", "run_windows"]

RunWindow = tuple[str, datetime, datetime, str]  # site, started_at, ended_at, kind


def _t(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1e6, UTC)


def run_windows(store: Any, ids: Iterable[str]) -> dict[str, RunWindow]:
    """Site, start, end and kind of each live run of ``ids`` on record."""
    out: dict[str, RunWindow] = {}
    retracted = select(s.retractions.c.target_seq)
    with store.read() as conn:
        for part in chunks(sorted(set(ids))):
            q = (select(s.runs.c.id, s.runs.c.site, s.runs.c.started_us, s.runs.c.ended_us, s.runs.c.kind)
                 .where(s.runs.c.id.in_(part)).where(s.runs.c.event_seq.not_in(retracted)))
            for rid, site, a, b, kind in conn.execute(q).all():
                out[rid] = (site, _t(a), _t(b), kind)
    return out


def process_batches(store: Any, line: str | None = None) -> list[tuple[str, ProcessBatch]]:
    """Live process batches (of one line), as (event id, batch), in recorded order."""
    with store.read() as conn:
        rows = events_of_kinds(conn, ["process_batch"])
    out = []
    for _kind, eid, payload in rows:
        b = quality_from_json("process_batch", json.loads(payload))
        if isinstance(b, ProcessBatch) and (line is None or b.line == line):
            out.append((eid, b))
    return out
