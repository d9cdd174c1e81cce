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

__all__ = ["RunWindow", "demo_runs", "lots_of_runs", "process_batches", "recorded_alarm_ids", "run_windows"]

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


def lots_of_runs(store: Any, runs: Iterable[str]) -> list[str]:
    """Output lots of the live ``runs``, in creation order."""
    retracted = select(s.retractions.c.target_seq)
    out: list[str] = []
    with store.read() as conn:
        for part in chunks(sorted(set(runs))):
            q = (select(s.lots.c.id).join(s.runs, s.lots.c.run_idx == s.runs.c.idx).where(s.runs.c.id.in_(part))
                 .where(s.runs.c.event_seq.not_in(retracted)).order_by(s.lots.c.idx))
            out += [r for (r,) in conn.execute(q).all()]
    return out


def recorded_alarm_ids(store: Any, line: str) -> set[str]:
    """Ids of the live SPC alarms of ``line`` on record."""
    with store.read() as conn:
        rows = events_of_kinds(conn, ["spc_alarm"])
    return {d["id"] for _, _, p in rows if (d := json.loads(p)).get("line") == line}


def demo_runs(store: Any) -> tuple[list[tuple[str, str, datetime, datetime]], list[tuple[str, str, datetime,
                                                                                       datetime]],
                                   dict[str, tuple[str, datetime, str]]]:
    """Live co-precipitation and calcination runs (id, site, start, end), and their pCAM/CAM output lots
    (lot → material, produced_at, run), in creation order: what the demo's manufacturing data is made for."""
    retracted = select(s.retractions.c.target_seq)
    runs: dict[str, list[tuple[str, str, datetime, datetime]]] = {"co_precipitation": [], "calcination": []}
    lots: dict[str, tuple[str, datetime, str]] = {}
    with store.read() as conn:
        q = (select(s.runs.c.id, s.runs.c.site, s.runs.c.started_us, s.runs.c.ended_us, s.runs.c.kind)
             .where(s.runs.c.kind.in_(list(runs))).where(s.runs.c.event_seq.not_in(retracted))
             .order_by(s.runs.c.idx))
        for rid, site, a, b, kind in conn.execute(q).all():
            runs[kind].append((rid, site, _t(a), _t(b)))
        q2 = (select(s.lots.c.id, s.lots.c.material, s.lots.c.produced_us, s.runs.c.id)
              .join(s.runs, s.lots.c.run_idx == s.runs.c.idx).where(s.runs.c.kind.in_(list(runs)))
              .where(s.runs.c.event_seq.not_in(retracted)).order_by(s.lots.c.idx))
        for lot, material, produced, rid in conn.execute(q2).all():
            if material.startswith(("PCAM", "CAM")):
                lots[lot] = (material, _t(produced), rid)
    return runs["co_precipitation"], runs["calcination"], lots
